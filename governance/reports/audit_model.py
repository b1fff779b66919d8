"""The audit report's content: the evidence an auditor asks for, each part with the time of its evidence."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import UTC, datetime
from typing import Any

from governance.metrics import Metric
from governance.project import Project
from governance.reports.evidence import Run, Section, iso, layer_of, scrub
from governance.reports.nightly_model import run_view

SAFE_TRANSFORMS = ("masking", "aggregation")  # a hash or a count of a PII column is not the PII itself


def _columns(project: Project, dataset: str) -> list[str]:
    spec = project.config.datasets.get(dataset)
    if spec and spec.columns:
        return list(spec.columns)
    try:
        from governance.lake.resolve import known_columns

        return list(known_columns(project, dataset) or [])
    except Exception:  # noqa: BLE001 - no data and no declared schema: nothing to count
        return []


def glossary_coverage(project: Project) -> dict[str, Any]:
    terms_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    dataset_terms: dict[str, list[str]] = defaultdict(list)
    for t in project.terms:
        for target in t.assigned_to:
            ds = next((d for d in project.config.datasets if target == d or target.startswith(d + ".")), None)
            if ds is None:
                continue
            if target == ds:
                dataset_terms[ds].append(t.name)
            else:
                terms_of[(ds, target[len(ds) + 1 :])].append(t.name)
    rows = []
    total = covered = 0
    for ds in sorted(d for d, spec in project.config.datasets.items() if spec.layer == "gold"):
        cols = _columns(project, ds)
        with_term = [c for c in cols if terms_of.get((ds, c))]
        total += len(cols)
        covered += len(with_term)
        rows.append(
            {
                "dataset": ds,
                "columns": len(cols),
                "covered": len(with_term),
                "percent": round(100.0 * len(with_term) / len(cols), 1) if cols else None,
                "missing": [c for c in cols if c not in with_term],
                "terms": {c: sorted(terms_of[(ds, c)]) for c in with_term},
                "dataset_terms": sorted(dataset_terms.get(ds, [])),
            }
        )
    return {
        "percent": round(100.0 * covered / total, 1) if total else None,
        "covered": covered,
        "columns": total,
        "datasets": rows,
    }


def pii_coverage(project: Project, run: Run) -> dict[str, Any]:
    declared = sorted((ds, col) for (ds, col), labels in project.column_labels().items() if "PII" in labels)
    declared_set = set(declared)
    findings = (run.payload("pii") or {}).get("findings", [])
    detected = sorted(
        {(f["dataset"], f["column"]) for f in findings if f.get("status") in ("confirmed", "undeclared")}
    )
    undeclared = [f for f in findings if f.get("status") == "undeclared"]
    not_detected = [f for f in findings if f.get("status") == "not_detected"]
    graph = run.payload("lineage-build") or {}
    succ: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in graph.get("column_edges", []):
        succ[e["from"]].append(e)
    propagated: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ds, col in sorted(declared_set | set(detected)):
        start = f"{ds}.{col}"
        queue: deque[tuple[str, list[str], str]] = deque([(start, [], "identity")])
        while queue:
            node, jobs, worst_t = queue.popleft()
            for e in succ.get(node, []):
                target = e["to"]
                t = e.get("transformation") or "transformation"
                carried = worst_t if worst_t in SAFE_TRANSFORMS else t
                key = f"{start}->{target}"
                if key in seen:
                    continue
                seen.add(key)
                tds = next((d for d in project.config.datasets if target.startswith(d + ".")), "")
                tcol = target[len(tds) + 1 :] if tds else target
                is_declared = (tds, tcol) in declared_set
                status = (
                    "declared" if is_declared else "masked" if carried in SAFE_TRANSFORMS else "undeclared"
                )
                propagated.append(
                    {
                        "source": start,
                        "target": target,
                        "jobs": [*jobs, e.get("job")],
                        "transformation": carried,
                        "status": status,
                    }
                )
                if carried not in SAFE_TRANSFORMS:
                    queue.append((target, [*jobs, str(e.get("job"))], carried))
    return {
        "declared": [{"dataset": d, "column": c, "detected": (d, c) in set(detected)} for d, c in declared],
        "detected": [{"dataset": d, "column": c, "declared": (d, c) in declared_set} for d, c in detected],
        "undeclared": [
            {k: f.get(k) for k in ("dataset", "column", "rule", "match_percent", "sample_size")}
            for f in undeclared
        ],
        "not_detected": [{k: f.get(k) for k in ("dataset", "column", "rule")} for f in not_detected],
        "propagated": propagated,
        "propagated_undeclared": [p for p in propagated if p["status"] == "undeclared"],
    }


def lineage_completeness(project: Project, run: Run) -> dict[str, Any]:
    graph = run.payload("lineage-build") or {}
    edges = graph.get("edges", [])
    produced = {e["to"] for e in edges}
    in_graph = set(graph.get("datasets", [])) | produced | {e["from"] for e in edges}
    declared = sorted(project.config.datasets)
    no_upstream = [d for d in declared if layer_of(project, d) != "bronze" and d not in produced]
    not_in_graph = [d for d in declared if d not in in_graph]
    col_targets = {e["to"] for e in graph.get("column_edges", [])}
    gold_cols = [(d, c) for d in declared if layer_of(project, d) == "gold" for c in _columns(project, d)]
    with_cols = [f"{d}.{c}" for d, c in gold_cols if f"{d}.{c}" in col_targets]
    return {
        "datasets": len(declared),
        "in_graph": len([d for d in declared if d in in_graph]),
        "percent": round(100.0 * len([d for d in declared if d in in_graph]) / len(declared), 1)
        if declared
        else None,
        "jobs": len(graph.get("jobs", [])),
        "edges": len(edges),
        "column_edges": len(graph.get("column_edges", [])),
        "not_in_graph": not_in_graph,
        "no_upstream": no_upstream,
        "gold_columns": len(gold_cols),
        "gold_columns_with_lineage": len(with_cols),
        "gold_column_percent": round(100.0 * len(with_cols) / len(gold_cols), 1) if gold_cols else None,
        "gold_columns_without_lineage": [f"{d}.{c}" for d, c in gold_cols if f"{d}.{c}" not in col_targets],
        "problems": [
            {k: scrub(p.get(k)) for k in ("kind", "where", "message")} for p in graph.get("problems", [])
        ],
    }


def catalog_drift(run: Run) -> dict[str, Any]:
    p = run.payload("catalog-drift") or {}
    # every item of the drift payload is drift: unmanaged additions and orphans carry action "noop"
    changes = [c for c in p.get("changes", []) if c.get("drift") or c.get("action") != "noop"]
    return {
        "backend": p.get("backend"),
        "summary": p.get("summary") or {},
        "changes": [
            {"action": c.get("drift") or c.get("action"), "kind": c.get("kind"), "name": c.get("name")}
            for c in changes[:200]
        ],
        "more": max(0, len(changes) - 200),
        "in_sync": not changes,
    }


def alert_coverage(project: Project) -> dict[str, Any]:
    covering: dict[str, list[str]] = defaultdict(list)
    project_wide = []
    for r in project.alert_rules:
        dims = [r.dimensions, r.local.dimensions if r.local else {}]
        targets = {d.get("dataset") for d in dims if d.get("dataset")}
        if r.query:
            targets |= {ds for ds in project.config.datasets if ds in r.query}
        named = {t for t in targets if t and t != "*"}
        for t in named:
            covering[t].append(r.name)
        if not named:
            project_wide.append({"rule": r.name, "metric": r.metric or (r.local.metric if r.local else None)})
    rows = [
        {"dataset": d, "layer": layer_of(project, d), "rules": sorted(covering.get(d, []))}
        for d in sorted(project.config.datasets)
    ]
    return {
        "datasets": rows,
        "without_rule": [r["dataset"] for r in rows if not r["rules"]],
        "project_wide": project_wide,
        "rules": len(project.alert_rules),
        "percent": round(100.0 * sum(1 for r in rows if r["rules"]) / len(rows), 1) if rows else None,
    }


def _checked_columns(project: Project) -> set[tuple[str, str]]:
    """(dataset, column) pairs that at least one expectation of a suite names."""
    out: set[tuple[str, str]] = set()
    for suite in project.suites:
        for e in suite.expectations:
            for key in ("column", "column_A", "column_B"):
                if isinstance(e.kwargs.get(key), str):
                    out.add((suite.dataset, e.kwargs[key]))
            for key in ("column_list", "columns"):
                if isinstance(e.kwargs.get(key), list):
                    out |= {(suite.dataset, c) for c in e.kwargs[key] if isinstance(c, str)}
    return out


def unified_catalog(project: Project, run: Run) -> dict[str, Any]:
    """Governance domains: products without an owner, critical data elements without a term or without a
    quality check on one of their columns, glossary terms outside any domain."""
    checked = _checked_columns(project)
    products, cdes = [], []
    for d in project.domain_files:
        products += [{"domain": d.domain, "name": p.name, "owners": p.owners} for p in d.data_products]
        for c in d.critical_data_elements:
            unchecked = [col for col in c.columns if "." in col and tuple(col.rsplit(".", 1)) not in checked]
            cdes.append({"domain": d.domain, "name": c.name, "terms": c.terms, "unchecked": unchecked})
    domains = {d.domain for d in project.domain_files}
    outside = sorted(
        t.name for g in project.glossaries for t in g.terms if (t.domain or g.domain) not in domains
    )
    sync = run.payload("sync-domains") or {}
    return {
        "domains": sorted(domains),
        "products": len(products),
        "cdes": len(cdes),
        "without_owner": [p for p in products if not p["owners"]],
        "cde_without_term": [c for c in cdes if not c["terms"]],
        "cde_unchecked": [c for c in cdes if c["unchecked"]],
        "terms_outside": outside,
        "terms": len(project.terms),
        "catalog": {"backend": sync.get("backend"), "summary": sync.get("summary") or {}},
    }


def coverage_trend(history: list[Metric]) -> dict[str, list[tuple[datetime, float]]]:
    """Glossary and lineage coverage over time, as recorded by catalog sync and lineage build."""
    out: dict[str, list[tuple[datetime, float]]] = {"glossary (gold columns)": [], "lineage (datasets)": []}
    for m in history:
        if m.name == "glossary_coverage_percent" and m.dimensions.get("layer", "gold") == "gold":
            out["glossary (gold columns)"].append((m.ts.astimezone(UTC), m.value))
        elif m.name == "lineage_coverage_percent" and not m.dimensions:
            out["lineage (datasets)"].append((m.ts.astimezone(UTC), m.value))
    return {k: sorted(v) for k, v in out.items() if v}


def build(
    project: Project, run: Run, now: datetime | None = None, history: list[Metric] | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    at = iso(now)
    declared = Section("declarations", True, "ok", at)
    access = run.payload("access")
    access_section = run.section("access", "checked_at")
    if access is not None and not access.get("checked"):
        access_section.available = False
        access_section.reason = f"not checked: {access.get('reason') or 'no warehouse connection'}"
    sections = {
        "glossary": declared,
        "pii": run.section("pii"),
        "pii_lineage": run.section("lineage-build"),
        "access": access_section,
        "lineage": run.section("lineage-build"),
        "drift": run.section("catalog-drift"),
        "alerts": declared,
        "domains": declared,
        "azure_access": run.section("access-azure"),
        "posture": run.section("posture"),
    }
    return {
        "kind": "audit",
        "title": f"Governance audit — {project.config.project}",
        "project": project.config.project,
        "generated_at": at,
        "run": run_view(run),
        "sections": {k: v.as_dict() for k, v in sections.items()},
        "glossary": glossary_coverage(project),
        "pii": pii_coverage(project, run),
        "access": {
            k: (access or {}).get(k)
            for k in (
                "checked",
                "reason",
                "checked_at",
                "connections",
                "policies",
                "tables",
                "violations",
                "exempt",
                "fix",
            )
        },
        "lineage": lineage_completeness(project, run),
        "drift": catalog_drift(run),
        "alerts": alert_coverage(project),
        "domains": unified_catalog(project, run),
        "coverage_trend": coverage_trend(history or []),
        "azure": azure_evidence(run),
    }


def azure_evidence(run: Run) -> dict[str, Any]:
    """Who can read labelled data on Azure (RBAC, Synapse) and the storage posture findings, each with its fix."""
    access = run.payload("access-azure") or {}
    posture = run.payload("posture") or {}
    return {
        "sources": access.get("sources", []),
        "violations": access.get("violations", []),
        "key_access": access.get("key_access", []),
        "errors": access.get("errors", []) + posture.get("errors", []),
        "findings": posture.get("findings", []),
        "accounts": posture.get("accounts", []),
    }
