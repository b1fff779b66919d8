"""GX-shaped validation results (SPEC §4), their text rendering, run history and metrics."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from governance.metrics import Metric, record
from governance.quality.runner import Outcome, Spec


def statistics(outcomes: list[Outcome]) -> dict[str, Any]:
    """GX's statistics plus `errored_expectations`. An error is neither a success nor a failure, so
    `success_percent` is over the expectations that were evaluated (None when none was)."""
    n = len(outcomes)
    ok = sum(1 for o in outcomes if o.error is None and o.success)
    errored = sum(1 for o in outcomes if o.error is not None)
    judged = n - errored
    return {
        "evaluated_expectations": n,
        "successful_expectations": ok,
        "unsuccessful_expectations": judged - ok,
        "errored_expectations": errored,
        "success_percent": round(100.0 * ok / judged, 1) if judged else (None if errored else 100.0),
    }


def suite_result(
    suite: str,
    dataset: str,
    layer: str,
    outcomes: list[Outcome],
    queries: int,
    rows: int | None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "suite_name": suite,
        "dataset": dataset,
        "layer": layer,
        "success": all(o.success and o.error is None for o in outcomes),
        "statistics": statistics(outcomes),
        "results": [o.as_gx() for o in outcomes],
        "queries": queries,
        "rows_validated": rows,
        **extra,
    }


def error_result(
    suite: str, dataset: str, layer: str, message: str, specs: list[Spec], **extra: Any
) -> dict[str, Any]:
    """A dataset that could not be validated (engine down, missing table): every expectation is an
    error with the dataset's message; reported, not fatal to the run."""
    line = (message.strip().splitlines() or [""])[0]
    outcomes = [Outcome(spec, False, {}, error=line, infra=True) for spec in specs]
    return {**suite_result(suite, dataset, layer, outcomes, 0, None, **extra), "error": line}


def outcome_kind(result: dict[str, Any]) -> str:
    """success | failure | error, for one result of the JSON (SPEC §6.1)."""
    if (result.get("exception_info") or {}).get("raised_exception"):
        return "error"
    return "success" if result.get("success") else "failure"


def expectation_label(result: dict[str, Any]) -> str:
    cfg = result["expectation_config"]
    kw = cfg.get("kwargs", {})
    target = (
        kw.get("column")
        or ",".join(kw.get("column_list") or [])
        or (f"{kw['column_A']},{kw['column_B']}" if "column_A" in kw else "")
    )
    return f"{cfg['type']}({target})" if target else str(cfg["type"])


def store(state_dir: Path, payload: dict[str, Any]) -> Path:
    """One JSON file per run under state_dir/quality/runs/ (the history reports read)."""
    runs = state_dir / "quality" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / f"{payload['run_id']}.json"
    path.write_text(json.dumps(payload, indent=1, default=str))
    return path


def record_metrics(state_dir: Path, payload: dict[str, Any], ts: datetime) -> int:
    metrics: list[Metric] = []
    run_id = payload["run_id"]
    for s in payload["suites"]:
        dims = {"dataset": s["dataset"], "layer": s["layer"], "suite": s["suite_name"]}
        stats = s["statistics"]
        if stats.get("errored_expectations"):
            # an errored suite has no honest success rate: a 0 % or 100 % would fake a verdict
            metrics.append(
                Metric("quality_errored_expectations", stats["errored_expectations"], dims, ts, run_id)
            )
        elif stats.get("success_percent") is not None:
            metrics.append(Metric("quality_success_percent", stats["success_percent"], dims, ts, run_id))
        metrics.append(
            Metric("quality_evaluated_expectations", stats["evaluated_expectations"], dims, ts, run_id)
        )
        if s.get("rows_validated") is not None:
            metrics.append(Metric("rows_validated", s["rows_validated"], dims, ts, run_id))
        for r in s["results"]:
            count = None if outcome_kind(r) == "error" else r["result"].get("unexpected_count")
            if count is not None:
                edims = {**dims, "expectation": expectation_label(r)}
                metrics.append(Metric("quality_unexpected_count", count, edims, ts, run_id))
    return record(state_dir, metrics)


def render_text(payload: dict[str, Any]) -> str:
    lines = [
        f"quality run {payload['run_id']} on {payload['engine']}: "
        + ("passed" if payload["success"] else "FAILED")
    ]
    for s in payload["suites"]:
        stats = s["statistics"]
        errored = stats.get("errored_expectations", 0)
        status = "ERR " if errored and not stats.get("unsuccessful_expectations") else "FAIL"
        inc = s.get("incremental") or {}
        head = (
            f"{'ok  ' if s['success'] else status} {s['suite_name']} ({s['dataset']}): "
            f"{stats['successful_expectations']}/{stats['evaluated_expectations']} expectations"
            + (f", {errored} errored" if errored else "")
            + f", {s.get('rows_validated') or 0:,} rows, {s['queries']} queries"
            + (f" (carried from {inc['carried_from']})" if inc.get("carried_from") else "")
        )
        lines.append(head)
        if s.get("error"):
            lines.append(f"     error: {s['error']}")
            continue
        for r in s["results"]:
            kind = outcome_kind(r)
            if kind == "success":
                continue
            sev = r["expectation_config"].get("severity", "error")
            sev = "error: could not evaluate" if kind == "error" else sev
            res = r["result"]
            detail = r["exception_info"]["exception_message"] or (
                f"{res.get('unexpected_count')} unexpected ({(res.get('unexpected_percent') or 0):.3g}%)"
                if "unexpected_count" in res
                else f"observed {res.get('observed_value')!r}"
            )
            sample = res.get("partial_unexpected_list") or []
            tail = f"  e.g. {sample[:3]}" if sample else ""
            lines.append(f"     [{sev}] {expectation_label(r)}: {detail}{tail}")
    return "\n".join(lines)
