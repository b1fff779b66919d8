"""Checks on a built lineage graph: unknown datasets, cycles, orphans and lineage coverage.

Parse-level problems (SQL that does not parse, columns that do not exist) are found while building;
these are the graph-level ones. Every problem points at the declaration it is about (FILE:LINE).
"""

from __future__ import annotations

from typing import Any

from governance.lineage.build import Graph, GraphProblem
from governance.project import Project


def check_graph(project: Project, graph: Graph) -> None:
    """Add graph-level problems and the coverage figures to `graph`."""
    _unknown_datasets(project, graph)
    _cycles(project, graph)
    _orphans(project, graph)
    graph.coverage = coverage(graph)
    for item in graph.coverage["datasets"]:
        for col in item["uncovered"]:
            graph.problems.append(
                GraphProblem(
                    "uncovered_column",
                    _dataset_where(project, item["dataset"], col),
                    f"{item['dataset']}.{col} has no source column in the lineage of {', '.join(item['jobs'])}",
                    "warning",
                )
            )


def _dataset_where(project: Project, name: str, column: str | None = None) -> Any:
    ds = project.config.datasets.get(name)
    if ds is None:
        return project.locate(project.config)
    return project.locate(ds, "columns", column) if column else project.locate(ds)


def _unknown_datasets(project: Project, graph: Graph) -> None:
    for job in graph.jobs:
        m = job.manifest
        for key in ("inputs", "outputs"):
            for i, name in enumerate(getattr(m, key)):
                if name not in graph.declared:
                    graph.problems.append(
                        GraphProblem(
                            "unknown_dataset",
                            project.locate(m, key, i),
                            f"job {m.job}: unknown dataset '{name}' (not declared in smartflow.yaml)",
                            job=m.job,
                        )
                    )
        if job.sql is not None:
            listed = set(m.inputs) | set(m.outputs)
            for name in sorted(set(job.sql.inputs) | set(job.sql.targets)):
                if name not in graph.declared and name not in listed:
                    graph.problems.append(
                        GraphProblem(
                            "unknown_dataset",
                            project.locate(m, "sql"),
                            f"job {m.job}: the SQL references unknown dataset '{name}'",
                            job=m.job,
                        )
                    )


def find_cycles(down: dict[str, set[str]]) -> list[list[str]]:
    """Elementary cycles found by depth-first search (each reported once, by its smallest rotation)."""
    cycles: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(down.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                i = cycle.index(min(cycle))
                cycles.add(tuple(cycle[i:] + cycle[:i]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(down):
        if node not in state:
            visit(node)
    return [list(c) for c in sorted(cycles)]


def _cycles(project: Project, graph: Graph) -> None:
    producers = {out: job for job in graph.jobs for out in job.outputs}
    for cycle in find_cycles(graph.downstream()):
        job = producers.get(cycle[0])
        where = project.locate(job.manifest, "outputs") if job else _dataset_where(project, cycle[0])
        graph.problems.append(
            GraphProblem(
                "cycle",
                where,
                "cycle in the dataset graph: " + " -> ".join([*cycle, cycle[0]]),
                job=job.manifest.job if job else None,
            )
        )


def _orphans(project: Project, graph: Graph) -> None:
    up = graph.upstream()
    for name in graph.datasets:
        if graph.layers.get(name) != "gold":
            continue
        seen, todo, reached = {name}, [name], False
        while todo and not reached:
            for src in up.get(todo.pop(), ()):
                if graph.layers.get(src) == "bronze":
                    reached = True
                    break
                if src not in seen:
                    seen.add(src)
                    todo.append(src)
        if not reached:
            why = "no job produces it" if name not in up else "none of its upstream datasets leads to bronze"
            graph.problems.append(
                GraphProblem(
                    "orphan",
                    _dataset_where(project, name),
                    f"gold dataset {name} has no path back to bronze ({why})",
                )
            )


def coverage(graph: Graph) -> dict[str, Any]:
    """% of the output columns of jobs that read datasets with at least one column-specific source.

    Dataset-wide filter edges (WHERE / JOIN / GROUP BY) do not count; a COUNT(*) column counts (its
    source is the rows themselves). Roots (jobs landing an external system) are not counted.
    """
    sourced: set[tuple[str, str]] = set()
    for edge, _job in graph.column_edges:
        if edge.transformation != "filter" or edge.subtype in ("CONDITIONAL", "WINDOW"):
            sourced.add((edge.target, edge.target_column))
    datasets: list[dict[str, Any]] = []
    by_output: dict[str, list[str]] = {}
    for job in graph.jobs:
        if not job.inputs:
            continue
        for out in job.outputs:
            by_output.setdefault(out, []).append(job.manifest.job)
            if job.sql is not None:
                for col in job.sql.row_count_columns.get(out, []):
                    sourced.add((out, col))
    total = covered = 0
    for out, jobs in sorted(by_output.items()):
        cols = list(graph.columns.get(out, {}))
        if not cols:
            for job in graph.jobs:
                if job.sql is not None and out in job.sql.outputs:
                    cols += [c for c in job.sql.outputs[out] if c not in cols]
        have = [c for c in cols if (out, c) in sourced]
        total += len(cols)
        covered += len(have)
        datasets.append(
            {
                "dataset": out,
                "layer": graph.layers.get(out, "unknown"),
                "jobs": jobs,
                "columns": len(cols),
                "covered": len(have),
                "percent": round(100.0 * len(have) / len(cols), 1) if cols else 100.0,
                "uncovered": [c for c in cols if (out, c) not in sourced],
            }
        )
    percent = round(100.0 * covered / total, 1) if total else 100.0
    return {"percent": percent, "covered": covered, "columns": total, "datasets": datasets}


def record_metrics(project: Project, graph: Graph, run_id: str | None = None) -> None:
    from governance.metrics import Metric, record

    metrics = [Metric("lineage_coverage_percent", float(graph.coverage["percent"]), {}, run_id=run_id)]
    metrics += [
        Metric(
            "lineage_coverage_percent",
            float(item["percent"]),
            {"dataset": item["dataset"], "layer": item["layer"]},
            run_id=run_id,
        )
        for item in graph.coverage["datasets"]
    ]
    record(project.state_dir, metrics)
