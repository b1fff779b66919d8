"""The lineage graph of a project: datasets and jobs from `manifests/`, column edges from each job's SQL.

Where a job has no SQL, its columns come from the manifest's `column_lineage:`, or — for copy and stream
jobs reading datasets — from identity by column name; each job says which method it used. Copy jobs that
land an external system (a `source:` block, no dataset inputs) are the roots of the graph: their source
attribute mapping is reported, not turned into dataset edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.errors import Location
from governance.lineage.cache import LineageCache
from governance.lineage.sql import ColumnEdge, SqlLineage
from governance.project import Project
from governance.specs.lineage_build import LineageBuild, LineageJob, LineageSummary
from governance.specs.manifests import Manifest


@dataclass(frozen=True)
class GraphProblem:
    kind: str
    where: Location
    message: str
    severity: str = "error"  # error | warning
    job: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity,
            "where": str(self.where),
            "message": self.message,
        }
        if self.job:
            out["job"] = self.job
        return out


@dataclass
class JobLineage:
    manifest: Manifest
    method: str  # sql | declared | identity_by_name | external_source | none
    note: str
    inputs: list[str]
    outputs: list[str]
    sql: SqlLineage | None = None
    external_columns: dict[str, str] = field(default_factory=dict)  # output column -> source attribute


@dataclass
class Graph:
    """Everything `lineage build` knows; `payload()` is the SPEC §4 JSON."""

    columns: dict[str, dict[str, str]]  # dataset -> {column: type}; only datasets with a known schema
    layers: dict[str, str]
    declared: set[str]
    jobs: list[JobLineage] = field(default_factory=list)
    column_edges: list[tuple[ColumnEdge, str]] = field(default_factory=list)  # (edge, job)
    problems: list[GraphProblem] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    propagation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        names = set(self.declared)
        for job in self.jobs:
            names.update(job.inputs, job.outputs)
        return sorted(names)

    @property
    def edges(self) -> list[dict[str, str]]:
        seen: dict[tuple[str, str, str], dict[str, str]] = {}
        for job in self.jobs:
            for src in job.inputs:
                for dst in job.outputs:
                    if src != dst:
                        seen.setdefault(
                            (src, dst, job.manifest.job), {"from": src, "to": dst, "job": job.manifest.job}
                        )
        return list(seen.values())

    def upstream(self) -> dict[str, set[str]]:
        up: dict[str, set[str]] = {}
        for e in self.edges:
            up.setdefault(e["to"], set()).add(e["from"])
        return up

    def downstream(self) -> dict[str, set[str]]:
        down: dict[str, set[str]] = {}
        for e in self.edges:
            down.setdefault(e["from"], set()).add(e["to"])
        return down

    def column_edge_dicts(self) -> list[dict[str, str]]:
        """Sorted by target, source and job: the analysis finds edges in an order that depends on
        Python's string hashing, and the same project must print the same JSON every run."""
        edges = [
            {
                "from": f"{e.source}.{e.source_column}",
                "to": f"{e.target}.{e.target_column}",
                "job": job,
                "transformation": e.transformation,
                "subtype": e.subtype,
            }
            for e, job in self.column_edges
        ]
        return sorted(edges, key=lambda d: (d["to"], d["from"], d["job"]))

    def result(self) -> LineageBuild:
        """The SPEC §4 `lineage build` JSON as a typed model."""
        errors = sum(1 for p in self.problems if p.severity == "error")
        return LineageBuild(
            datasets=self.datasets,
            jobs=[
                LineageJob(
                    job=j.manifest.job,
                    kind=j.manifest.kind,
                    inputs=j.inputs,
                    outputs=j.outputs,
                    lineage=j.method,
                    note=j.note,
                    where=str(j.manifest.where),
                    **({"source_columns": j.external_columns} if j.external_columns else {}),
                )
                for j in self.jobs
            ],
            edges=self.edges,
            column_edges=self.column_edge_dicts(),
            problems=[p.as_dict() for p in sorted(self.problems, key=lambda p: (p.where, p.message))],
            coverage=self.coverage,
            propagation=self.propagation,
            layers={name: self.layers.get(name, "unknown") for name in self.datasets},
            summary=LineageSummary(
                datasets=len(self.datasets),
                jobs=len(self.jobs),
                edges=len(self.edges),
                column_edges=len(self.column_edges),
                errors=errors,
                warnings=len(self.problems) - errors,
                coverage_percent=self.coverage.get("percent"),
                propagation_findings=len(self.propagation),
            ),
        )

    def payload(self) -> dict[str, Any]:
        return self.result().dump()


# --------------------------------------------------------------------------------------------------
def dataset_columns(project: Project, use_lake: bool = True) -> dict[str, dict[str, str]]:
    """{dataset: {column: type}} from the lake's real schema when present, else the declared columns."""
    from governance.lake.resolve import known_columns

    out: dict[str, dict[str, str]] = {}
    for name, ds in project.config.datasets.items():
        names = known_columns(project, name) if use_lake else list(ds.columns)
        if names:
            out[name] = {c: ds.columns.get(c, "") for c in names}
    return out


def sql_location(project: Project, manifest: Manifest, sql_line: int) -> Location:
    """FILE:LINE of a line inside the manifest's `sql:` text (block scalars start on the next line)."""
    key = project.locate(manifest, "sql")
    if not sql_line:
        return key
    offset = sql_line - 1
    doc = project.docs.get(key.file)
    if doc is not None:
        try:
            text = (project.root / key.file).read_text(encoding="utf-8").splitlines()
            after_key = text[key.line - 1].split("sql:", 1)[-1].strip() if key.line else ""
            if after_key[:1] in ("|", ">"):
                offset += 1
        except (OSError, IndexError):
            pass
    return Location(key.file, key.line + offset)


def build_graph(project: Project, use_lake: bool = True) -> Graph:
    """Datasets, jobs, dataset edges and classified column edges; parse-level problems included."""
    columns = dataset_columns(project, use_lake)
    graph = Graph(
        columns=columns,
        layers={n: d.layer for n, d in project.config.datasets.items()},
        declared=set(project.config.datasets),
    )
    cache = LineageCache(project.state_dir / "lineage" / "cache", columns)
    for manifest in project.manifests:
        graph.jobs.append(_job(project, manifest, graph, cache))
    cache.forget_unused()
    return graph


def _job(project: Project, m: Manifest, graph: Graph, cache: LineageCache) -> JobLineage:
    inputs, outputs = list(m.inputs), list(m.outputs)
    if m.sql:
        default_target = outputs[0] if len(outputs) == 1 else None
        result = cache.analyze(m.sql, default_target)
        for p in result.problems:
            severity = "warning" if p.kind == "unsupported_sql" else "error"
            graph.problems.append(
                GraphProblem(p.kind, sql_location(project, m, p.line), p.message, severity, m.job)
            )
        for name in result.inputs:
            if name not in inputs:
                inputs.append(name)
                graph.problems.append(
                    GraphProblem(
                        "undeclared_input",
                        project.locate(m, "inputs"),
                        f"job {m.job}: the SQL reads {name}, which `inputs:` does not list",
                        "warning",
                        m.job,
                    )
                )
        for name in result.targets:
            if name not in outputs:
                outputs.append(name)
                graph.problems.append(
                    GraphProblem(
                        "undeclared_output",
                        project.locate(m, "outputs"),
                        f"job {m.job}: the SQL writes {name}, which `outputs:` does not list",
                        "warning",
                        m.job,
                    )
                )
        graph.column_edges += [(e, m.job) for e in result.edges]
        job = JobLineage(m, "sql", "column lineage derived from the job's SQL", inputs, outputs, result)
        _check_sql_outputs(project, m, job, graph)
        return job
    if m.column_lineage:
        _declared(project, m, graph)
        return JobLineage(
            m, "declared", "column lineage declared in the manifest (`column_lineage:`)", inputs, outputs
        )
    if inputs and m.kind in ("copy", "stream"):
        _identity_by_name(m, graph)
        return JobLineage(
            m, "identity_by_name", "no SQL: a copy keeps column names, so identity by name", inputs, outputs
        )
    if not inputs and m.source:
        ext = m.source.get("columns") if isinstance(m.source.get("columns"), dict) else {}
        system = ":".join(
            str(m.source[k]) for k in ("system", "entity", "table", "eventhub") if m.source.get(k)
        )
        mapping = {str(k): f"{system}.{v}" for k, v in (ext or {}).items()}
        note = f"lands the external system {system or 'source'}; a root of the graph"
        return JobLineage(m, "external_source", note, inputs, outputs, external_columns=mapping)
    graph.problems.append(
        GraphProblem(
            "no_column_lineage",
            project.locate(m),
            f"job {m.job}: no SQL and no `column_lineage:`; only dataset-level lineage is known",
            "warning",
            m.job,
        )
    )
    return JobLineage(m, "none", "dataset-level lineage only", inputs, outputs)


def _check_sql_outputs(project: Project, m: Manifest, job: JobLineage, graph: Graph) -> None:
    assert job.sql is not None
    for target, cols in job.sql.outputs.items():
        known = graph.columns.get(target)
        if known is None:
            continue
        for col in cols:
            if col not in known:
                graph.problems.append(
                    GraphProblem(
                        "unknown_column",
                        project.locate(m, "sql"),
                        f"job {m.job} writes column '{col}', which {target} does not have",
                        "error",
                        m.job,
                    )
                )


def split_column(ref: str, datasets: set[str]) -> tuple[str, str] | None:
    """`dataset.column` with the longest declared dataset prefix (dataset names contain dots)."""
    parts = ref.split(".")
    for i in range(len(parts) - 1, 0, -1):
        ds = ".".join(parts[:i])
        if ds in datasets:
            return ds, ".".join(parts[i:])
    return None


def _declared(project: Project, m: Manifest, graph: Graph) -> None:
    names = graph.declared | set(m.inputs) | set(m.outputs)
    for out, sources in m.column_lineage.items():
        where = project.locate(m, "column_lineage", out)
        target = split_column(out, names)
        if target is None:
            graph.problems.append(
                GraphProblem(
                    "unknown_column",
                    where,
                    f"'{out}' is not DATASET.COLUMN of a known dataset",
                    "error",
                    m.job,
                )
            )
            continue
        refs = [split_column(s, names) for s in sources]
        for src, ref in zip(sources, refs, strict=True):
            if ref is None:
                graph.problems.append(
                    GraphProblem(
                        "unknown_column",
                        where,
                        f"'{src}' is not DATASET.COLUMN of a known dataset",
                        "error",
                        m.job,
                    )
                )
                continue
            kind = "identity" if len(sources) == 1 else "transformation"
            edge = ColumnEdge(ref[0], ref[1], target[0], target[1], kind, kind.upper())
            graph.column_edges.append((edge, m.job))
        for ds, col in [target, *[r for r in refs if r]]:
            known = graph.columns.get(ds)
            if known is not None and col not in known:
                graph.problems.append(
                    GraphProblem(
                        "unknown_column", where, f"dataset {ds} has no column '{col}'", "error", m.job
                    )
                )


def _identity_by_name(m: Manifest, graph: Graph) -> None:
    for out in m.outputs:
        for col in graph.columns.get(out, {}):
            for src in m.inputs:
                if col in graph.columns.get(src, {}):
                    graph.column_edges.append((ColumnEdge(src, col, out, col, "identity", "IDENTITY"), m.job))
