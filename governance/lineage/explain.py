"""`lineage show` (upstream/downstream trees) and `lineage impact` (what a change would touch)."""

from __future__ import annotations

from typing import Any

from governance.errors import InputError
from governance.lineage.build import Graph, split_column
from governance.project import Project


def _known(project: Project, graph: Graph, name: str) -> None:
    if name not in graph.datasets:
        import difflib

        close = difflib.get_close_matches(name, graph.datasets, n=1, cutoff=0.75)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(f"unknown dataset '{name}'{hint}")


def _tree(graph: Graph, name: str, direction: str, depth: int | None) -> list[dict[str, Any]]:
    """Children of `name` upstream or downstream, each with the job that links them."""
    links: dict[str, list[tuple[str, str]]] = {}
    for e in graph.edges:
        a, b = (e["to"], e["from"]) if direction == "upstream" else (e["from"], e["to"])
        links.setdefault(a, []).append((b, e["job"]))

    def grow(node: str, path: frozenset[str], level: int) -> list[dict[str, Any]]:
        out = []
        for other, job in sorted(links.get(node, [])):
            item: dict[str, Any] = {"dataset": other, "job": job, "layer": graph.layers.get(other, "unknown")}
            if other in path:
                item["cycle"] = True
            elif depth is None or level < depth:
                item[direction] = grow(other, path | {other}, level + 1)
            out.append(item)
        return out

    return grow(name, frozenset({name}), 1)


def show(project: Project, graph: Graph, dataset: str, depth: int | None = None) -> dict[str, Any]:
    _known(project, graph, dataset)
    producers = [j.manifest.job for j in graph.jobs if dataset in j.outputs]
    consumers = [j.manifest.job for j in graph.jobs if dataset in j.inputs]
    columns = {}
    for col in graph.columns.get(dataset, {}):
        sources = [
            {"from": f"{e.source}.{e.source_column}", "transformation": e.transformation, "job": job}
            for e, job in graph.column_edges
            if e.target == dataset and e.target_column == col and e.transformation != "filter"
        ]
        if any(j.sql is not None and col in j.sql.row_count_columns.get(dataset, []) for j in graph.jobs):
            sources.append(
                {
                    "from": "(row count)",
                    "transformation": "aggregation",
                    "job": producers[0] if producers else "",
                }
            )
        columns[col] = sources
    return {
        "dataset": dataset,
        "layer": graph.layers.get(dataset, "unknown"),
        "produced_by": producers,
        "read_by": consumers,
        "upstream": _tree(graph, dataset, "upstream", depth),
        "downstream": _tree(graph, dataset, "downstream", depth),
        "columns": columns,
    }


def _render_tree(items: list[dict[str, Any]], key: str, indent: str = "  ") -> list[str]:
    lines = []
    for item in items:
        mark = " (cycle)" if item.get("cycle") else ""
        lines.append(
            f"{indent}{'<-' if key == 'upstream' else '->'} {item['dataset']} [{item['layer']}] via {item['job']}{mark}"
        )
        lines += _render_tree(item.get(key, []), key, indent + "    ")
    return lines


def render_show(p: dict[str, Any]) -> str:
    lines = [f"{p['dataset']} [{p['layer']}]", "upstream:"]
    lines += _render_tree(p["upstream"], "upstream") or ["  (none: a root)"]
    lines.append("downstream:")
    lines += _render_tree(p["downstream"], "downstream") or ["  (none)"]
    if p["columns"]:
        lines.append("columns:")
        for col, sources in p["columns"].items():
            src = ", ".join(f"{s['from']} ({s['transformation']})" for s in sources) or "-"
            lines.append(f"  {col} <- {src}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
def impact(project: Project, graph: Graph, target: str) -> dict[str, Any]:
    """Everything downstream of a dataset or one of its columns, and who watches it."""
    datasets = set(graph.datasets)
    if target in datasets:
        dataset, column = target, None
    else:
        ref = split_column(target, datasets)
        if ref is None:
            _known(project, graph, target)
            raise AssertionError  # unreachable: _known raised
        dataset, column = ref
        cols = graph.columns.get(dataset)
        if cols is not None and column not in cols:
            raise InputError(f"dataset {dataset} has no column '{column}'")
    start = (
        {(dataset, column)}
        if column
        else {(dataset, c) for c in graph.columns.get(dataset, {})}
        | {(e.source, e.source_column) for e, _ in graph.column_edges if e.source == dataset}
    )
    out_edges: dict[tuple[str, str], list[tuple[tuple[str, str], str, str]]] = {}
    for e, job in graph.column_edges:
        out_edges.setdefault((e.source, e.source_column), []).append(
            ((e.target, e.target_column), e.transformation, job)
        )
    # breadth-first: each impacted column once, with how it is reached (direct wins over indirect)
    reached: dict[tuple[str, str], dict[str, Any]] = {}
    frontier = sorted(start)
    while frontier:
        nxt = []
        for node in frontier:
            via_direct = node in start or reached.get(node, {}).get("direct", False)
            for dst, kind, job in out_edges.get(node, []):
                direct = via_direct and kind != "filter"
                old = reached.get(dst)
                if old is None or (direct and not old["direct"]):
                    reached[dst] = {
                        "direct": direct,
                        "via": f"{node[0]}.{node[1]}",
                        "transformation": kind,
                        "job": job,
                    }
                    nxt.append(dst)
        frontier = nxt
    # dataset-level: downstream datasets even where column lineage is unknown
    down = graph.downstream()
    ds_seen: set[str] = set()
    todo = [dataset]
    while todo:
        for d in down.get(todo.pop(), ()):
            if d not in ds_seen and d != dataset:
                ds_seen.add(d)
                todo.append(d)
    if column:
        ds_seen = {d for d, _ in reached} - {dataset}
    columns = [
        {
            "dataset": d,
            "column": c,
            "impact": "direct" if info["direct"] else "indirect",
            **{k: info[k] for k in ("via", "transformation", "job")},
        }
        for (d, c), info in sorted(reached.items())
        if d != dataset
    ]
    impacted_cols = {(c["dataset"], c["column"]) for c in columns}
    suites = []
    for s in project.suites:
        if s.dataset not in ds_seen:
            continue
        watched = sorted(
            {
                str(e.kwargs.get("column"))
                for e in s.expectations
                if (s.dataset, str(e.kwargs.get("column"))) in impacted_cols
            }
        )
        suites.append({"suite": s.suite, "dataset": s.dataset, "where": str(s.where), "columns": watched})
    rules = []
    for r in project.alert_rules:
        dims = dict(r.dimensions or {})
        if r.local is not None:
            dims.update({k: v for k, v in (r.local.dimensions or {}).items() if k == "dataset"})
        watched_ds = dims.get("dataset")
        if watched_ds == "*" or watched_ds in ds_seen:
            rules.append(
                {
                    "rule": r.name,
                    "dataset": watched_ds,
                    "metric": r.metric or (r.local.metric if r.local else None),
                    "where": str(r.where),
                }
            )
    return {
        "target": target,
        "dataset": dataset,
        "column": column,
        "datasets": [{"dataset": d, "layer": graph.layers.get(d, "unknown")} for d in sorted(ds_seen)],
        "columns": columns,
        "suites": suites,
        "alert_rules": rules,
        "summary": {
            "datasets": len(ds_seen),
            "columns": len(columns),
            "suites": len(suites),
            "alert_rules": len(rules),
        },
    }


def render_impact(p: dict[str, Any]) -> str:
    s = p["summary"]
    lines = [
        f"impact of {p['target']}: {s['datasets']} datasets, {s['columns']} columns, {s['suites']} suites, {s['alert_rules']} alert rules"
    ]
    for d in p["datasets"]:
        lines.append(f"  dataset {d['dataset']} [{d['layer']}]")
        for c in p["columns"]:
            if c["dataset"] == d["dataset"]:
                lines.append(
                    f"    .{c['column']:<28} {c['impact']:<8} {c['transformation']:<14} from {c['via']} ({c['job']})"
                )
    for su in p["suites"]:
        cols = f" (expectations on {', '.join(su['columns'])})" if su["columns"] else ""
        lines.append(f"  suite {su['suite']} on {su['dataset']}{cols}  [{su['where']}]")
    for r in p["alert_rules"]:
        lines.append(f"  alert rule {r['rule']} ({r['metric']}, dataset={r['dataset']})  [{r['where']}]")
    return "\n".join(lines)
