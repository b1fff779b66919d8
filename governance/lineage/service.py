"""Lineage services: what `lineage build` and `lineage push` do (and what `nightly` calls)."""

from __future__ import annotations

import json
from typing import Any

from governance.errors import ExitCode
from governance.lineage.build import Graph, build_graph
from governance.lineage.checks import check_graph, record_metrics
from governance.lineage.propagation import propagate
from governance.project import Project
from governance.results import StepResult


def checked_graph(project: Project, use_lake: bool = True) -> Graph:
    graph = build_graph(project, use_lake)
    check_graph(project, graph)
    graph.propagation = propagate(project, graph)
    return graph


def build(project: Project, run_id: str | None = None, use_lake: bool = True) -> StepResult:
    """Build and check the graph, record lineage coverage, keep the payload in the state dir."""
    graph = checked_graph(project, use_lake)
    record_metrics(project, graph, run_id)
    payload = graph.payload()
    out = project.state_dir / "lineage"
    out.mkdir(parents=True, exist_ok=True)
    (out / "graph.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    errors = payload["summary"]["errors"]
    return StepResult(
        payload,
        ExitCode.CHECK_FAILED if errors else ExitCode.OK,
        render_build(payload),
        {"graph": graph},
    )


def push(project: Project) -> StepResult:
    """Push the built graph to the catalog backend (local or Purview) through the catalog capability."""
    from governance.errors import InfraError

    built = build(project)
    try:
        from governance.catalog.lineage_sync import push_lineage
    except ImportError as exc:
        raise InfraError(f"the catalog lineage sync is not available in this build ({exc})") from exc
    result = push_lineage(project, built.payload, apply=True)
    if built.exit_code and result.exit_code == ExitCode.OK:
        result.exit_code = built.exit_code
    return result


def render_build(p: dict[str, Any]) -> str:
    s = p["summary"]
    lines = [
        f"lineage: {s['datasets']} datasets, {s['jobs']} jobs, {s['edges']} dataset edges, "
        f"{s['column_edges']} column edges; coverage {s['coverage_percent']}%",
    ]
    for job in p["jobs"]:
        lines.append(
            f"  {job['job']:<30} {job['lineage']:<16} {', '.join(job['inputs']) or '(external)'} -> {', '.join(job['outputs'])}"
        )
    kinds: dict[str, int] = {}
    for e in p["column_edges"]:
        kinds[e["transformation"]] = kinds.get(e["transformation"], 0) + 1
    if kinds:
        lines.append("  column edges: " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))
    for f in p["propagation"]:
        lines.append(f"finding: {f['where']}: {f['kind']}: {f['message']}")
    for prob in p["problems"]:
        lines.append(f"{prob['severity']}: {prob['where']}: [{prob['kind']}] {prob['message']}")
    lines.append(
        f"{s['errors']} error(s), {s['warnings']} warning(s), {s['propagation_findings']} propagation finding(s)"
    )
    return "\n".join(lines)
