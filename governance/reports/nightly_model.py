"""The nightly report's content, as plain data (also written as the report's JSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from governance.metrics import Metric
from governance.project import Project
from governance.reports.evidence import (
    Run,
    iso,
    layer_of,
    safe_value,
    scrub,
    sensitive_columns,
    series_by_dataset,
)
from governance.reports.lineage_svg import downstream
from governance.specs.quality_run import SuiteResult

LAYER_ORDER = {"bronze": 0, "silver": 1, "gold": 2, "other": 3}


def _empty_quality() -> dict[str, Any]:
    return {
        "suites": [],
        "evaluated": 0,
        "successful": 0,
        "error_failures": 0,
        "warn_failures": 0,
        "errored": 0,  # expectations that could not be evaluated (neither passed nor failed)
        "rows": None,
        "errors": [],
    }


def quality_suites(run: Run) -> list[SuiteResult]:
    """The quality step's suite results, typed (SPEC §4 + §6.1)."""
    return [SuiteResult.model_validate(s) for s in (run.payload("quality") or {}).get("suites", [])]


def quality_by_dataset(run: Run) -> dict[str, dict[str, Any]]:
    """dataset -> success %, counts, errors (from the quality step; several suites of one dataset merged).
    An expectation that errored is neither passed nor failed: it counts in `errored` and `errors` only."""
    out: dict[str, dict[str, Any]] = {}
    for s in quality_suites(run):
        q = out.setdefault(s.dataset, _empty_quality())
        q["suites"].append(s.suite_name)
        skipped = (s.model_extra or {}).get("skipped")  # runs stored before carried verdicts
        if skipped:
            q.setdefault("skipped", []).append(str(skipped))
        errored = [r for r in s.results if r.outcome == "error"]
        q["evaluated"] += s.statistics.evaluated_expectations - len(errored)
        q["successful"] += s.statistics.successful_expectations
        q["errored"] += len(errored)
        q["errors"] += [scrub(r.exception_info.exception_message) for r in errored]
        for r in s.results:
            if r.outcome == "failure":
                q["warn_failures" if r.expectation_config.severity == "warn" else "error_failures"] += 1
            n = r.result.get("element_count")
            if isinstance(n, int | float) and (q["rows"] is None or n > q["rows"]):
                q["rows"] = int(n)
        if s.error:
            q["errors"].append(scrub(s.error))
    for e in (run.payload("quality") or {}).get("errors", []):
        q = out.setdefault(e.get("dataset", "?"), _empty_quality())
        q["errors"].append(scrub(e.get("error")))
    for q in out.values():
        q["errors"] = list(dict.fromkeys(q["errors"]))
        q["success_percent"] = round(100.0 * q["successful"] / q["evaluated"], 1) if q["evaluated"] else None
    return out


def freshness_by_dataset(run: Run) -> dict[str, dict[str, Any]]:
    return {d["dataset"]: d for d in (run.payload("freshness") or {}).get("datasets", []) if "dataset" in d}


def dataset_status(
    q: dict[str, Any] | None, f: dict[str, Any] | None, undeclared_pii: int = 0
) -> tuple[str, list[str]]:
    """ok | warn | failing | unchecked, and the reasons."""
    why: list[str] = []
    if undeclared_pii:
        why.append(f"{undeclared_pii} undeclared PII finding(s)")
    if q:
        if q["errors"]:
            why.append(
                f"{q['errored']} expectation(s) could not be evaluated"
                if q["errored"]
                else "quality could not run"
            )
        if q["error_failures"]:
            why.append(f"{q['error_failures']} expectation(s) failed")
    if f:
        if f.get("error"):
            why.append("freshness could not be checked")
        elif f.get("stale"):
            why.append("stale")
        if f.get("missing_partitions"):
            why.append(f"{len(f['missing_partitions'])} missing partition(s)")
    if why:
        return "failing", why
    if q and q["warn_failures"]:
        return "warn", [f"{q['warn_failures']} warning(s)"]
    if q and q.get("skipped") and not q["evaluated"]:
        return "ok", [f"quality: {q['skipped'][0]}"]
    return ("ok", []) if (q or f) else ("unchecked", [])


def _lag(f: dict[str, Any] | None) -> str | None:
    if not f or f.get("lag_minutes") is None:
        return None
    m = float(f["lag_minutes"])
    return f"{m:.0f} min" if m < 120 else f"{m / 60:.1f} h" if m < 2880 else f"{m / 1440:.1f} d"


def build(project: Project, run: Run, history: list[Metric], now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    sensitive = sensitive_columns(project, run)
    quality = quality_by_dataset(run)
    fresh = freshness_by_dataset(run)
    pii_findings = (run.payload("pii") or {}).get("findings", [])
    anomalies = (run.payload("anomalies") or {}).get("anomalies", [])
    sections = {
        "quality": run.section("quality", "started_at"),
        "freshness": run.section("freshness", "checked_at"),
        "pii": run.section("pii"),
        "anomalies": run.section("anomalies", "checked_at"),
        "alerts": run.section("alerts-evaluate", "evaluated_at"),
        "lineage": run.section("lineage-build"),
    }

    # ---- scorecard
    undeclared: dict[str, int] = {}
    for f in pii_findings:
        if f.get("status") == "undeclared":
            undeclared[f.get("dataset", "?")] = undeclared.get(f.get("dataset", "?"), 0) + 1
    anomaly_count: dict[str, int] = {}
    for a in anomalies:
        ds = (a.get("dimensions") or {}).get("dataset")
        if ds:
            anomaly_count[ds] = anomaly_count.get(ds, 0) + 1
    names = sorted(set(project.config.datasets) | set(quality) | set(fresh))
    statuses: dict[str, str] = {}
    rows_by_layer: dict[str, list[dict[str, Any]]] = {}
    for ds in names:
        q, f = quality.get(ds), fresh.get(ds)
        status, why = dataset_status(q, f, undeclared.get(ds, 0))
        statuses[ds] = status
        rows_by_layer.setdefault(layer_of(project, ds), []).append(
            {
                "dataset": ds,
                "status": status,
                "errored": bool((q and q["errors"]) or (f and f.get("error"))),
                "reasons": why,
                "success_percent": q["success_percent"] if q else None,
                "failed": (q["error_failures"] + q["warn_failures"]) if q else None,
                "evaluated": q["evaluated"] if q else None,
                "rows": (q or {}).get("rows") if q and q.get("rows") is not None else (f or {}).get("rows"),
                "lag": _lag(f),
                "lag_minutes": (f or {}).get("lag_minutes"),
                "max_lag_minutes": (f or {}).get("max_lag_minutes"),
                "stale": bool(f and f.get("stale")),
                "missing_partitions": len((f or {}).get("missing_partitions") or []),
                "pii_undeclared": undeclared.get(ds, 0),
                "anomalies": anomaly_count.get(ds, 0),
            }
        )
    scorecard = []
    for layer in sorted(rows_by_layer, key=lambda x: LAYER_ORDER.get(x, 9)):
        rows = rows_by_layer[layer]
        ev = sum(quality[r["dataset"]]["evaluated"] for r in rows if r["dataset"] in quality)
        ok = sum(quality[r["dataset"]]["successful"] for r in rows if r["dataset"] in quality)
        scorecard.append(
            {
                "layer": layer,
                "datasets": rows,
                "passing": sum(1 for r in rows if r["status"] in ("ok", "warn")),
                "failing": sum(1 for r in rows if r["status"] == "failing"),
                "success_percent": round(100.0 * ok / ev, 1) if ev else None,
            }
        )

    # ---- failing expectations (samples masked) and those that could not be evaluated
    failing: list[dict[str, Any]] = []
    for s in quality_suites(run):
        ds = s.dataset
        for r in s.results:
            if r.outcome == "success":
                continue
            cfg = r.expectation_config
            kwargs = cfg.kwargs
            res = r.result
            column = kwargs.get("column")
            failing.append(
                {
                    "dataset": ds,
                    "suite": s.suite_name,
                    "type": cfg.type,
                    "column": column or ", ".join(kwargs.get("column_list") or []) or None,
                    "kwargs": {
                        k: v
                        for k, v in kwargs.items()
                        if k not in ("column", "column_list") and not isinstance(v, list | dict)
                    },
                    "severity": cfg.severity,
                    "outcome": r.outcome,
                    "unexpected_count": r.unexpected_count,
                    "unexpected_percent": res.get("unexpected_percent"),
                    "element_count": res.get("element_count"),
                    "observed_value": safe_value(res.get("observed_value"), ds, column, sensitive)
                    if not isinstance(res.get("observed_value"), list | dict)
                    else None,
                    "samples": [
                        safe_value(
                            v if not isinstance(v, dict) else next(iter(v.values()), None),
                            ds,
                            column,
                            sensitive,
                        )
                        for v in (res.get("partial_unexpected_list") or [])[:8]
                    ],
                    "error": scrub(r.exception_info.exception_message) if r.outcome == "error" else None,
                }
            )
    failing.sort(key=lambda x: (x["severity"] != "error", x["dataset"], -(x["unexpected_count"] or 0)))

    # ---- trends from the metric history
    success = series_by_dataset(history, "quality_success_percent", "min", exclude=("expectation",))
    validated = series_by_dataset(history, "rows_validated", "sum", exclude=("expectation",))
    lag = series_by_dataset(history, "freshness_lag_minutes", "max")
    daily_rows = series_by_dataset(history, "row_count", "sum", by_time=True)
    trends = {
        "success_percent": success,
        "rows_validated": validated,
        "freshness_lag_minutes": lag,
        "row_count_by_partition": {
            ds: pts for ds, pts in daily_rows.items() if layer_of(project, ds) in ("bronze", "silver")
        },
        "datasets": [
            {
                "dataset": ds,
                "success_percent": success.get(ds, []),
                "rows": validated.get(ds) or daily_rows.get(ds, []),
                "freshness_lag_minutes": lag.get(ds, []),
            }
            for ds in names
            if success.get(ds) or validated.get(ds) or lag.get(ds) or daily_rows.get(ds)
        ],
    }

    # ---- lineage with failing and suspect datasets
    graph = run.payload("lineage-build") or {}
    edges = [(e["from"], e["to"]) for e in graph.get("edges", []) if "from" in e and "to" in e]
    nodes = sorted(set(graph.get("datasets", [])) | {n for e in edges for n in e})
    failing_ds = sorted(n for n in nodes if statuses.get(n) == "failing")
    suspect = sorted(downstream(edges, failing_ds) - set(failing_ds))
    node_status = {
        n: "failing"
        if n in failing_ds
        else "suspect"
        if n in suspect
        else ("ok" if statuses.get(n) in ("ok", "warn") else "unchecked")
        for n in nodes
    }

    # ---- alerts
    alerts = alerts_view(run.payload("alerts-evaluate") or {})

    kpis = {
        "datasets": len(names),
        "failing": sum(1 for s in statuses.values() if s == "failing"),
        "suspect": len(suspect),
        "expectations": sum(q["evaluated"] for q in quality.values()),
        "expectations_failed": sum(q["error_failures"] + q["warn_failures"] for q in quality.values()),
        "expectations_errored": sum(q["errored"] for q in quality.values()),
        "success_percent": (
            round(
                100.0
                * sum(q["successful"] for q in quality.values())
                / sum(q["evaluated"] for q in quality.values()),
                1,
            )
            if any(q["evaluated"] for q in quality.values())
            else None
        ),
        "stale": sum(1 for f in fresh.values() if f.get("stale")),
        "missing_partitions": sum(len(f.get("missing_partitions") or []) for f in fresh.values()),
        "pii_undeclared": sum(undeclared.values()),
        "anomalies": len(anomalies),
        "alerts_fired": len(alerts["fired"]),
    }
    return {
        "kind": "nightly",
        "title": f"Nightly data quality — {project.config.project}",
        "project": project.config.project,
        "generated_at": iso(now),
        "run": run_view(run),
        "sections": {k: v.as_dict() for k, v in sections.items()},
        "kpis": kpis,
        "scorecard": scorecard,
        "failing_expectations": failing,
        "trends": trends,  # (datetime, value) points; JSON renders them as [iso, value]
        "anomalies": [
            {
                **a,
                "dataset": (a.get("dimensions") or {}).get("dataset"),
                "layer": (a.get("dimensions") or {}).get("layer"),
            }
            for a in anomalies
        ],
        "freshness": sorted(
            (
                {
                    "dataset": d["dataset"],
                    "layer": d.get("layer") or layer_of(project, d["dataset"]),
                    "column": d.get("column"),
                    "max_value": d.get("max_value"),
                    "lag": _lag(d),
                    "lag_minutes": d.get("lag_minutes"),
                    "max_lag_minutes": d.get("max_lag_minutes"),
                    "stale": d.get("stale"),
                    "missing_partitions": d.get("missing_partitions") or [],
                    "late_partitions": d.get("late_partitions") or [],
                    "error": scrub(d.get("error")) if d.get("error") else None,
                }
                for d in fresh.values()
            ),
            key=lambda d: (LAYER_ORDER.get(d["layer"], 9), d["dataset"]),
        ),
        "pii": sorted(
            (
                {
                    k: f.get(k)
                    for k in ("dataset", "column", "label", "rule", "match_percent", "sample_size", "status")
                }
                for f in pii_findings
            ),
            key=lambda f: (
                {"undeclared": 0, "not_detected": 1}.get(f["status"] or "", 2),
                f["dataset"] or "",
                f["column"] or "",
            ),
        ),
        "alerts": alerts,
        "lineage": {
            "nodes": nodes,
            "edges": [list(e) for e in edges],
            "status": node_status,
            "failing": failing_ds,
            "suspect": suspect,
        },
    }


def alerts_view(payload: dict[str, Any]) -> dict[str, Any]:
    """Alerts that fired (newly, or still firing from an earlier run) and resolved in this evaluation."""
    items = payload.get("rules") or []
    fired, resolved, quiet, no_data = [], [], 0, 0
    for it in items:
        if not isinstance(it, dict):
            continue
        status = str(it.get("status") or "")
        transition = str(it.get("transition") or "")
        notes = it.get("notifications") or []
        row = {
            "rule": it.get("rule"),
            "severity": it.get("severity"),
            "condition": scrub(it.get("condition")) or None,
            "value": it.get("value"),
            "dimensions": it.get("dimensions") or {},
            "state": "new" if transition == "Fired" else "ongoing" if status == "firing" else "resolved",
            "notified": [f"{n.get('channel')}: {n.get('status')}" for n in notes if isinstance(n, dict)],
        }
        if status == "firing":
            fired.append(row)
        elif transition == "Resolved":
            resolved.append(row)
        elif status == "no_data":
            no_data += 1
        else:
            quiet += 1
    fired.sort(key=lambda r: (r["severity"] if r["severity"] is not None else 9, r["rule"] or ""))
    return {
        "fired": fired,
        "resolved": resolved,
        "quiet": quiet,
        "no_data": no_data,
        "evaluated": len(items),
        "evaluated_at": payload.get("evaluated_at"),
    }


def run_view(run: Run) -> dict[str, Any]:
    d = run.data
    if not d:
        return {"exists": False, "steps": []}
    return {
        "exists": True,
        "run_id": d.get("run_id"),
        "started_at": d.get("started_at"),
        "finished_at": d.get("finished_at"),
        "duration_seconds": d.get("duration_seconds"),
        "exit_code": d.get("exit_code"),
        "catalog_mode": d.get("catalog_mode"),
        "steps": [
            {
                **s,
                "summary": scrub(s.get("summary")),
                "error": scrub(s.get("error")) if s.get("error") else None,
            }
            for s in d.get("steps", [])
        ],
    }
