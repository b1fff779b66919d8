"""Classification propagation: a column's labels flow along identity and transformation edges.

They stop at aggregation and masking (a sum of amounts or a hash of an e-mail no longer discloses the
input value) and at indirect (filter) edges. Labels of sensitivity 0 (e.g. Public) restrict nothing and
do not propagate. A derived column that inherits a label its declarations lack is a finding,
`derived column missing classification`, listed for the audit report; it does not fail the build.
"""

from __future__ import annotations

from typing import Any

from governance.lineage.build import Graph
from governance.project import Project

FLOWS = ("identity", "transformation")


def propagate(project: Project, graph: Graph) -> list[dict[str, Any]]:
    declared = project.column_labels()
    quiet = {lb.name for lb in project.labels if lb.sensitivity == 0}
    incoming: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for edge, _job in graph.column_edges:
        if edge.transformation in FLOWS:
            incoming.setdefault((edge.target, edge.target_column), []).append(
                (edge.source, edge.source_column)
            )
    carried: dict[tuple[str, str], set[str]] = {k: set(v) - quiet for k, v in declared.items()}
    # fixpoint over the graph (cycles are reported elsewhere; iteration is bounded by the column count)
    for _ in range(len(incoming) + 1):
        changed = False
        for target, sources in incoming.items():
            have = carried.setdefault(target, set())
            for src in sources:
                extra = carried.get(src, set()) - have
                if extra:
                    have |= extra
                    changed = True
        if not changed:
            break
    findings = []
    assignments = {a.dataset: a for a in project.assignments}
    for (ds, col), labels in sorted(carried.items()):
        missing = labels - declared.get((ds, col), set())
        if not missing or (ds, col) not in incoming:
            continue
        origins = sorted(f"{s}.{c}" for s, c in incoming[(ds, col)] if carried.get((s, c), set()) & missing)
        assignment = assignments.get(ds)
        if assignment is not None:
            where = project.locate(assignment, "columns")
        elif ds in project.config.datasets:
            where = project.locate(project.config.datasets[ds], "columns", col)
        else:
            where = project.locate(project.config)
        findings.append(
            {
                "kind": "derived column missing classification",
                "dataset": ds,
                "column": col,
                "layer": graph.layers.get(ds, "unknown"),
                "labels": sorted(missing),
                "declared": sorted(declared.get((ds, col), set())),
                "inherited_from": origins,
                "where": str(where),
                "message": f"{ds}.{col} derives from {', '.join(origins)} and inherits "
                f"{', '.join(sorted(missing))}, which it does not declare",
            }
        )
    return findings
