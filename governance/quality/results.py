"""GX-shaped validation results (SPEC §4, typed in governance.specs.quality_run), their text rendering,
run history and metrics."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from governance.metrics import Metric, record
from governance.quality.runner import Outcome, Spec
from governance.specs.quality_run import ExpectationResult, QualityRun, Statistics, SuiteResult


def statistics(outcomes: list[Outcome]) -> Statistics:
    """GX's statistics plus `errored_expectations`. An error is neither a success nor a failure, so
    `success_percent` is over the expectations that were evaluated (None when none was)."""
    n = len(outcomes)
    ok = sum(1 for o in outcomes if o.error is None and o.success)
    errored = sum(1 for o in outcomes if o.error is not None)
    judged = n - errored
    return Statistics(
        evaluated_expectations=n,
        successful_expectations=ok,
        unsuccessful_expectations=judged - ok,
        errored_expectations=errored,
        success_percent=round(100.0 * ok / judged, 1) if judged else (None if errored else 100.0),
    )


def suite_result(
    suite: str,
    dataset: str,
    layer: str,
    outcomes: list[Outcome],
    queries: int,
    rows: int | None,
    **extra: Any,
) -> SuiteResult:
    return SuiteResult(
        suite_name=suite,
        dataset=dataset,
        layer=layer,
        success=all(o.success and o.error is None for o in outcomes),
        statistics=statistics(outcomes),
        results=[ExpectationResult.model_validate(o.as_gx()) for o in outcomes],
        queries=queries,
        rows_validated=rows,
        **extra,
    )


def error_result(suite: str, dataset: str, layer: str, message: str, specs: list[Spec]) -> SuiteResult:
    """A dataset that could not be validated (engine down, missing table): every expectation is an
    error with the dataset's message; reported, not fatal to the run."""
    line = (message.strip().splitlines() or [""])[0]
    outcomes = [Outcome(spec, False, {}, error=line, infra=True) for spec in specs]
    return suite_result(suite, dataset, layer, outcomes, 0, None, error=line)


def expectation_label(result: dict[str, Any] | ExpectationResult) -> str:
    r = result if isinstance(result, ExpectationResult) else ExpectationResult.model_validate(result)
    kw = r.expectation_config.kwargs
    target = (
        kw.get("column")
        or ",".join(kw.get("column_list") or [])
        or (f"{kw['column_A']},{kw['column_B']}" if "column_A" in kw else "")
    )
    return f"{r.expectation_config.type}({target})" if target else r.expectation_config.type


def store(state_dir: Path, run: QualityRun) -> Path:
    """One JSON file per run under state_dir/quality/runs/ (the history reports read)."""
    runs = state_dir / "quality" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / f"{run.run_id}.json"
    path.write_text(json.dumps(run.dump(), indent=1, default=str))
    return path


def record_metrics(state_dir: Path, run: QualityRun, ts: datetime) -> int:
    metrics: list[Metric] = []
    for s in run.suites:
        dims = {"dataset": s.dataset, "layer": s.layer, "suite": s.suite_name}
        stats = s.statistics
        if stats.errored_expectations:
            metrics.append(
                Metric("quality_errored_expectations", stats.errored_expectations, dims, ts, run.run_id)
            )
        # over the expectations that were judged, as in the run's JSON; None (nothing judged) is not
        # recorded, since a 0 % or 100 % would fake a verdict. One errored expectation must not
        # silence the quality alert of the rest of the suite.
        if stats.success_percent is not None:
            metrics.append(Metric("quality_success_percent", stats.success_percent, dims, ts, run.run_id))
        metrics.append(
            Metric("quality_evaluated_expectations", stats.evaluated_expectations, dims, ts, run.run_id)
        )
        if s.rows_validated is not None:
            metrics.append(Metric("rows_validated", s.rows_validated, dims, ts, run.run_id))
        for r in s.results:
            if r.unexpected_count is not None:
                edims = {**dims, "expectation": expectation_label(r)}
                metrics.append(Metric("quality_unexpected_count", r.unexpected_count, edims, ts, run.run_id))
    return record(state_dir, metrics)


def render_text(run: QualityRun) -> str:
    lines = [f"quality run {run.run_id} on {run.engine}: " + ("passed" if run.success else "FAILED")]
    for s in run.suites:
        stats = s.statistics
        errored = stats.errored_expectations
        status = "ERR " if errored and not stats.unsuccessful_expectations else "FAIL"
        carried = s.incremental.carried_from if s.incremental else None
        head = (
            f"{'ok  ' if s.success else status} {s.suite_name} ({s.dataset}): "
            f"{stats.successful_expectations}/{stats.evaluated_expectations} expectations"
            + (f", {errored} errored" if errored else "")
            + f", {s.rows_validated or 0:,} rows, {s.queries} queries"
            + (f" (carried from {carried})" if carried else "")
        )
        lines.append(head)
        if s.error:
            lines.append(f"     error: {s.error}")
            continue
        for r in s.results:
            if r.outcome == "success":
                continue
            sev = "error: could not evaluate" if r.outcome == "error" else r.expectation_config.severity
            res = r.result
            detail = r.exception_info.exception_message or (
                f"{res.get('unexpected_count')} unexpected ({(res.get('unexpected_percent') or 0):.3g}%)"
                if "unexpected_count" in res
                else f"observed {res.get('observed_value')!r}"
            )
            sample = res.get("partial_unexpected_list") or []
            tail = f"  e.g. {sample[:3]}" if sample else ""
            lines.append(f"     [{sev}] {expectation_label(r)}: {detail}{tail}")
    return "\n".join(lines)
