"""Validate one dataset's expectations on one engine: compile, run the scan (+ extra, + samples), evaluate.

A query that fails as a whole (e.g. a regex on a numeric column) is retried per expectation, so only the
expectation at fault reports an exception (GX's `catch_exceptions`), never the whole suite. An engine that
is gone (`EngineLost`: connection killed, files vanished) is not retried: every expectation not yet
evaluated becomes an error marked `infrastructure`. Errors are neither successes nor failures.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from governance.errors import InfraError, InputError
from governance.lake.engines import Engine, EngineLost
from governance.masking import mask
from governance.quality import appended, incremental
from governance.quality.compiler import Compiled, compile_metrics, flag_name, samples_query
from governance.quality.expectations import implementation
from governance.quality.expectations.base import ColumnMissing, Ctx, Expectation, Unsupported, to_py
from governance.quality.expectations.column_map import MapExpectation

log = logging.getLogger("governance.quality")


@dataclass
class Spec:
    """An expectation as configured (type, kwargs, severity); the unit of a result."""

    type: str
    kwargs: dict[str, Any]
    severity: str = "error"
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    spec: Spec
    success: bool
    result: dict[str, Any]
    error: str | None = None  # set: an error (neither a success nor a failure), one line
    unsupported: bool = False
    impl: Expectation | None = None
    infra: bool = False  # the error is the engine's (query or connection failed), not the expectation's

    @classmethod
    def from_gx(cls, spec: Spec, result: dict[str, Any]) -> Outcome:
        """A stored result of an earlier run (a carried verdict)."""
        info = result.get("exception_info") or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        outcome = cls(spec, bool(result.get("success")), dict(result.get("result") or {}), error=error)
        outcome.infra = bool(info.get("infrastructure"))
        return outcome

    def as_gx(self) -> dict[str, Any]:
        return {
            "expectation_config": {
                "type": self.spec.type,
                "kwargs": self.spec.kwargs,
                "severity": self.spec.severity,
                **({"meta": self.spec.meta} if self.spec.meta else {}),
            },
            "success": self.success,
            "result": self.result,
            "exception_info": {
                "raised_exception": self.error is not None,
                "exception_message": self.error,
                **({"infrastructure": True} if self.infra else {}),
            },
        }


@dataclass
class DatasetRun:
    outcomes: list[Outcome]
    queries: int
    sql: list[str]
    rows: int | None
    failing: dict[int, Expectation] = field(default_factory=dict)  # row-wise failures (quarantine)


def _error(spec: Spec, exc: BaseException, unsupported: bool = False) -> Outcome:
    lines = str(exc).strip().splitlines()
    msg = f"{type(exc).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")
    return Outcome(spec, False, {}, error=msg, unsupported=unsupported, infra=isinstance(exc, EngineLost))


def build(ctx: Ctx, specs: list[Spec]) -> tuple[list[Expectation | None], dict[int, Outcome]]:
    impls: list[Expectation | None] = []
    early: dict[int, Outcome] = {}
    for i, spec in enumerate(specs):
        klass = implementation(spec.type)
        try:
            if klass is None:
                raise Unsupported(f"expectation type {spec.type} is not implemented")
            impl = klass(spec.type, dict(spec.kwargs), ctx)
            # build the SQL now: bad kwargs surface before any query runs
            impl.aggregates()
            impl.extras()
            impls.append(impl)
        except (Unsupported, NotImplementedError) as exc:
            early[i] = _error(spec, exc, unsupported=True)
            impls.append(None)
        except (InputError, ColumnMissing, KeyError, TypeError, ValueError, InfraError) as exc:
            early[i] = _error(spec, exc)  # InfraError: a dataset it reads is out of reach
            impls.append(None)
    return impls, early


def _row_values(cols: list[str], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    return dict(zip(cols, rows[0], strict=True)) if rows else dict.fromkeys(cols)


def _fetch(
    engine: Engine,
    ctx: Ctx,
    impls: list[Expectation | None],
    early: dict[int, Outcome],
    specs: list[Spec],
) -> list[dict[str, Any]]:
    """Run the fused scan and extra query; isolate a failing expectation by retrying one at a time."""
    compiled = compile_metrics(ctx, impls)
    values: dict[str, Any] = {}
    if compiled.scan is not None and compiled.extra is not None:
        # the scan and the extra sub-queries in ONE statement: a passing dataset costs one query
        fused = (
            exp.select(exp.Star())
            .from_(compiled.scan.subquery("s"))
            .join(compiled.extra.subquery("e"), join_type="CROSS")
        )
        try:
            cols, rows = engine.execute(fused)
            values.update(_row_values(cols, rows))
            return _per_item(compiled, values)
        except InfraError as exc:
            if _lost(exc):
                raise
            log.info("fused query failed (%s); running the scan and the extra query apart", exc)
    for query in (compiled.scan, compiled.extra):
        if query is None:
            continue
        try:
            cols, rows = engine.execute(query)
            values.update(_row_values(cols, rows))
        except InfraError as exc:
            if _lost(exc):
                raise
            log.info("fused query failed (%s); isolating the expectation at fault", exc)
            values.update(_isolate(engine, ctx, impls, early, specs, query is compiled.scan))
    return _per_item(compiled, values)


def _lost(exc: InfraError) -> bool:
    """The engine itself is gone (connection lost, timeout): retrying query by query cannot help."""
    return isinstance(exc, EngineLost)


def _per_item(compiled: Compiled, values: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {local: values.get(alias) for local, alias in {**slot.metrics, **slot.extras}.items()}
        for slot in compiled.slots
    ]


def _isolate(
    engine: Engine,
    ctx: Ctx,
    impls: list[Expectation | None],
    early: dict[int, Outcome],
    specs: list[Spec],
    scan: bool,
) -> dict[str, Any]:
    """Re-run the metrics of each expectation alone; the ones that still fail get an exception result."""
    full = compile_metrics(ctx, impls)
    values: dict[str, Any] = {}
    for i, impl in enumerate(impls):
        if impl is None:
            continue
        alone = compile_metrics(ctx, [impl])
        query = alone.scan if scan else alone.extra
        if query is None:
            continue
        slot, full_slot = alone.slots[0], full.slots[i]
        names = slot.metrics if scan else slot.extras
        full_names = full_slot.metrics if scan else full_slot.extras
        try:
            cols, rows = engine.execute(query)
        except InfraError as exc:
            if _lost(exc):
                raise
            early[i] = _error(specs[i], exc)
            impls[i] = None
            continue
        got = _row_values(cols, rows)
        for local, alias in names.items():
            values[full_names[local]] = got.get(alias)
    return values


def validate(
    engine: Engine,
    ctx: Ctx,
    specs: list[Spec],
    sample_size: int | None = 20,
    pii: set[str] | None = None,
    complete: bool = False,
    plan: incremental.Plan | None = None,
) -> DatasetRun:
    """Evaluate `specs` on `ctx.relation`. With `plan` (an incremental run) mergeable expectations come
    from per-partition states and the others from the whole table, or from the last evaluation when
    nothing changed; `complete` also fills GX's full `unexpected_list` / `unexpected_index_list`.

    An engine lost mid-run (`EngineLost`) turns every expectation not yet evaluated into an error."""
    start = engine.queries
    start_log = len(engine.log)
    impls, early = build(ctx, specs)
    carried: dict[int, Outcome] = {}
    try:
        if plan is None:
            per_item = _fetch(engine, ctx, impls, early, specs)
        else:
            appendable = (
                None if complete else appended.Evaluator(engine, ctx, plan, sample_size, pii or set())
            )
            per_item = _fetch_incremental(engine, ctx, impls, early, specs, plan, carried, appendable)
    except EngineLost as exc:
        log.warning("%s: %s", ctx.dataset, exc)
        lost = [early.get(i) or _error(spec, exc) for i, spec in enumerate(specs)]
        return DatasetRun(lost, engine.queries - start, engine.log[start_log:], None)
    outcomes: list[Outcome | None] = [None] * len(specs)
    failing: dict[int, Expectation] = {}
    merged: dict[int, Expectation] = {}  # failing, samples merged already (for quarantine)
    for i, impl in enumerate(impls):
        if i in carried:
            outcomes[i] = carried[i]
            continue
        if i in early or impl is None:
            outcomes[i] = early.get(i) or _error(specs[i], RuntimeError("not evaluated"))
            continue
        try:
            ok, result = impl.evaluate(per_item[i])
        except (InputError, TypeError, ValueError, ZeroDivisionError) as exc:
            outcomes[i] = _error(specs[i], exc)
            continue
        if pii and pii & set(referenced_columns(specs[i].kwargs)):
            result = mask_observed(result)
        outcomes[i] = Outcome(specs[i], bool(ok), result, impl=impl)
        if isinstance(impl, MapExpectation) and result.get("unexpected_count"):
            stored = plan.carried(i) if plan is not None else None
            if "__samples" in per_item[i]:  # merged by the appended-only evaluation
                merged[i] = impl
            elif stored is not None and (stored.get("result") or {}).get("unexpected_count") == result.get(
                "unexpected_count"
            ):
                _copy_samples(stored, result)  # nothing changed: the samples are those of the last run
            else:
                failing[i] = impl
    if failing and (sample_size is None or sample_size > 0):
        found = {i: per_item[i] for i in failing}
        _attach_samples(engine, ctx, failing, outcomes, sample_size, pii or set(), complete, found)
    failing.update(merged)
    done = [o for o in outcomes if o is not None]
    rows = next((int(v["element_count"]) for v in per_item if v.get("element_count") is not None), None)
    if rows is None and plan is not None and not plan.table_changed:
        rows = plan.state.rows
    return DatasetRun(done, engine.queries - start, engine.log[start_log:], rows, failing)


def _fetch_incremental(
    engine: Engine,
    ctx: Ctx,
    impls: list[Expectation | None],
    early: dict[int, Outcome],
    specs: list[Spec],
    plan: incremental.Plan,
    carried: dict[int, Outcome],
    appendable: appended.Evaluator | None = None,
) -> list[dict[str, Any]]:
    """Mergeable expectations from partition states; whole-table ones on the whole table when the table
    (or a dataset they read) changed, else their last result (never for a verdict that moves with the
    clock: that one is evaluated again)."""
    merge_ids = {
        i
        for i, impl in enumerate(impls)
        if impl is not None and plan.column is not None and incremental.mergeable(impl, plan.sensitive)
    }  # a whole-table plan keeps no states: a changed table is one fused scan, as without a plan
    per_item: list[dict[str, Any]] = [{} for _ in impls]
    mergeables = [impl if i in merge_ids else None for i, impl in enumerate(impls)]
    if merge_ids:
        try:
            values = plan.merged(engine, ctx, mergeables)
        except InfraError as exc:
            if _lost(exc):
                raise
            log.info("grouped query failed (%s); isolating the expectation at fault", exc)
            for i in sorted(merge_ids):
                try:
                    plan.merged(engine, ctx, [impl if j == i else None for j, impl in enumerate(impls)])
                except InfraError as alone:
                    if _lost(alone):
                        raise
                    early[i] = _error(specs[i], alone)
                    impls[i] = mergeables[i] = None
            values = plan.merged(engine, ctx, mergeables, scan=False)
        for i, item in enumerate(_per_item(compile_metrics(ctx, mergeables), values)):
            if i in merge_ids:
                per_item[i] = item
    whole_ids = {i for i, impl in enumerate(impls) if impl is not None and i not in merge_ids}
    if not plan.rescan_whole_table:
        for i in sorted(whole_ids):
            stored = plan.carried(i) if specs[i].type not in incremental.CLOCK else None
            if stored is not None:
                carried[i] = Outcome.from_gx(specs[i], stored)
        whole_ids -= set(carried)
    elif appendable is not None:  # the table was only appended to: some checks read just what was added
        for i in sorted(whole_ids):
            impl = impls[i]
            stored = appended.stored_result(plan, i, specs[i].type, specs[i].kwargs)
            found = appendable.evaluate(i, impl, stored) if impl is not None and stored is not None else None
            if found is not None:
                per_item[i] = found
                plan.appended.append(i)
        whole_ids -= set(plan.appended)
    if whole_ids:
        wholes = [impl if i in whole_ids else None for i, impl in enumerate(impls)]
        for i, item in enumerate(_fetch(engine, ctx, wholes, early, specs)):
            if i in whole_ids:
                per_item[i] = item
                impls[i] = wholes[i]  # None when _isolate found it at fault
    return per_item


def _copy_samples(stored: dict[str, Any], result: dict[str, Any]) -> None:
    old = stored.get("result") or {}
    for key in ("partial_unexpected_list", "partial_unexpected_index_list", "partial_unexpected_counts"):
        if key in old:
            result[key] = old[key]


def _attach_samples(
    engine: Engine,
    ctx: Ctx,
    failing: dict[int, Expectation],
    outcomes: list[Outcome | None],
    limit: int | None,
    pii: set[str],
    complete: bool,
    values: dict[int, dict[str, Any]] | None = None,
) -> None:
    query, cols = samples_query(ctx, failing, limit, values)
    try:
        names, rows = engine.execute(query)
    except InfraError as exc:  # the verdicts stand; only their examples are missing
        log.warning("unexpected samples of %s not fetched: %s", ctx.dataset, exc)
        return
    keyset = list(ctx.order)
    for i, impl in failing.items():
        pos = names.index(flag_name(i))
        wanted = impl.sample_columns()
        samples = []
        for row in rows:
            if row[pos] != 1:
                continue
            rec = dict(zip(cols, row[: len(cols)], strict=True))
            shown = {c: (mask(v) if c in pii else to_py(v)) for c, v in rec.items()}
            samples.append({"key": {k: shown[k] for k in keyset}, "values": [shown[c] for c in wanted]})
        outcome = outcomes[i]
        assert outcome is not None
        _, result = impl.evaluate({**_metric_view(outcome), "__samples": samples})
        outcome.result["partial_unexpected_list"] = result["partial_unexpected_list"][:20]
        outcome.result["partial_unexpected_index_list"] = result["partial_unexpected_index_list"][:20]
        if complete:
            outcome.result["unexpected_list"] = result["partial_unexpected_list"]
            outcome.result["unexpected_index_list"] = result["partial_unexpected_index_list"]


def _metric_view(outcome: Outcome) -> dict[str, Any]:
    r = outcome.result
    missing = r.get("missing_count", 0) or 0
    return {
        "element_count": r.get("element_count", 0),
        "considered": (r.get("element_count", 0) or 0) - missing,
        "unexpected": r.get("unexpected_count", 0),
    }


def referenced_columns(kwargs: dict[str, Any]) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)]
    return cols + [c for c in kwargs.get("column_list") or [] if isinstance(c, str)]


def mask_observed(result: dict[str, Any]) -> dict[str, Any]:
    """Observed values of a PII column (min, max, distinct values, modes, …) only in masked form."""

    def masked(v: Any) -> Any:
        if isinstance(v, list):
            return [masked(x) for x in v]
        if isinstance(v, dict):
            return {k: masked(x) for k, x in v.items()}
        return v if v is None or isinstance(v, bool) else mask(v)

    out = dict(result)
    if "unexpected_count" not in out and "observed_value" in out:  # map results are counts + masked samples
        out["observed_value"] = masked(out["observed_value"])
    if isinstance(out.get("details"), dict):
        out["details"] = {k: masked(v) for k, v in out["details"].items()}
    return out


def format_exc(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()
