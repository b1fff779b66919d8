"""`quality run`: every selected suite, fused per dataset, on the engine where the data lives.

Suites on the same dataset are compiled together (one scan for all of them). A dataset that cannot be
validated (missing table, engine down) gets an error result for each of its expectations; the others
still run. An error is neither a success nor a failure (SPEC §6.1). Exit code: 3 when an expectation
could not be evaluated because of the infrastructure, else 1 when an error-severity expectation failed
or errored for a reason of its own (warn failures do not fail the run), else 0.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from governance.errors import ExitCode, InfraError, InputError
from governance.project import Project
from governance.quality import appended, incremental, references, results
from governance.quality.expectations.base import Ctx
from governance.quality.runner import Outcome, Spec, validate
from governance.results import StepResult, worst
from governance.specs.expectations import Suite
from governance.specs.quality_run import QualityRun, SuiteResult

log = logging.getLogger("governance.quality")
ENGINES = ("duckdb", "sql", "spark", "gx")


def select_suites(project: Project, suites: list[str] | None, datasets: list[str] | None) -> list[Suite]:
    chosen = list(project.suites)
    if suites:
        known = {s.suite for s in project.suites}
        unknown = [s for s in suites if s not in known]
        if unknown:
            raise InputError(
                f"unknown suite(s): {', '.join(unknown)} (declared: {', '.join(sorted(known)) or 'none'})"
            )
        chosen = [s for s in chosen if s.suite in suites]
    if datasets:
        for d in datasets:
            project.dataset(d)  # unknown dataset → InputError
        chosen = [s for s in chosen if s.dataset in datasets]
    return chosen


def parse_partitions(partitions: list[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for item in partitions or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--partition expects KEY=VALUE, got {item!r}")
        out[key.strip()].append(value.strip())
    return dict(out)


def _specs(suite: Suite) -> list[Spec]:
    return [Spec(e.type, dict(e.kwargs), e.severity, dict(e.meta)) for e in suite.expectations]


def _check_engine_fits(project: Project, chosen: list[Suite], kind: str, source: str) -> None:
    """The `sql` engine runs where a SQL connection holds the table: asking it to check lake files is
    a wrong argument (exit 2), not an outage."""
    if kind != "sql":
        return
    files = sorted({s.dataset for s in chosen if project.dataset(s.dataset).format not in ("sql", "spark")})
    if files:
        raise InputError(
            f"{source} sql checks tables of a SQL connection; {', '.join(files)} "
            f"{'is' if len(files) == 1 else 'are'} files in the lake (use duckdb or spark, or --dataset)"
        )


def _engine_kind(project: Project, dataset: str, requested: str) -> str:
    fmt = project.dataset(dataset).format
    if requested == "gx":
        return "gx"
    if fmt == "sql":
        return "sql"  # the data lives in the warehouse: compute goes there
    if fmt == "spark":
        return "spark"
    return requested  # `sql` on lake files was refused before the run (_check_engine_fits)


def _exit_code(suite: SuiteResult) -> ExitCode:
    """3 when an expectation could not be evaluated because of the engine, 1 when an error-severity
    expectation failed or could not be evaluated for another reason (unsupported, missing column), else 0."""
    worst_code = ExitCode.OK
    for r in suite.results:
        if r.infrastructure:
            return ExitCode.INFRA
        if r.outcome != "success" and r.expectation_config.severity == "error":
            worst_code = ExitCode.CHECK_FAILED
    return worst_code


def _referenced(suites: list[Suite]) -> list[str]:
    return sorted(
        {
            str(e.kwargs["dataset"])
            for s in suites
            for e in s.expectations
            if e.type == "expect_column_values_to_exist_in" and "dataset" in e.kwargs
        }
    )


def run(
    project: Project,
    suites: list[str] | None = None,
    datasets: list[str] | None = None,
    engine: str | None = None,
    partitions: list[str] | None = None,
    quarantine: bool = False,
) -> StepResult:
    kind = engine or project.config.quality.engine
    if kind not in ENGINES:
        raise InputError(f"unknown engine {kind!r} (one of {', '.join(ENGINES)})")
    chosen = select_suites(project, suites, datasets)
    _check_engine_fits(project, chosen, kind, "--engine" if engine else "quality.engine")
    scopes = parse_partitions(partitions)
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    by_dataset: dict[str, list[Suite]] = defaultdict(list)
    for s in chosen:
        by_dataset[s.dataset].append(s)
    suite_results: list[SuiteResult] = []
    codes: list[int] = [ExitCode.OK]
    extra: dict[str, Any] = {"quarantined": {}, "sql": {}}
    for dataset, group in by_dataset.items():
        layer = project.dataset(dataset).layer
        t0 = time.perf_counter()
        try:
            ds_kind = _engine_kind(project, dataset, kind)
            done, quarantined, sql = _run_dataset(
                project, dataset, group, ds_kind, scopes, quarantine, run_id, started
            )
            extra["sql"][dataset] = sql
            if quarantined is not None:
                extra["quarantined"][dataset] = quarantined
        except InfraError as exc:
            log.warning("dataset %s not validated: %s", dataset, exc)
            done = [results.error_result(s.suite, dataset, layer, str(exc), _specs(s)) for s in group]
        for suite in done:
            suite.seconds = round(time.perf_counter() - t0, 3)
            codes.append(_exit_code(suite))
        suite_results += done
    unknown = sorted(set(scopes) - {k for s in suite_results for k in (s.partitions or {})})
    if unknown and not any(s.error for s in suite_results):
        # a misspelt key would otherwise validate every whole table and report it as that partition
        raise InputError(
            f"--partition {', '.join(unknown)}: not a column of {', '.join(sorted(by_dataset))}; nothing recorded"
        )
    outcome = QualityRun(
        run_id=run_id,
        success=all(s.success for s in suite_results),
        started_at=started.isoformat(),
        engine=kind,
        suites=suite_results,
    )
    results.store(project.state_dir, outcome)
    results.record_metrics(project.state_dir, outcome, started)
    return StepResult(outcome.dump(), worst(*codes), results.render_text(outcome), extra)


def _run_dataset(
    project: Project,
    dataset: str,
    group: list[Suite],
    kind: str,
    scopes: dict[str, list[str]],
    quarantine: bool,
    run_id: str,
    now: datetime,
) -> tuple[list[SuiteResult], int | None, list[str]]:
    layer = project.dataset(dataset).layer
    specs: list[Spec] = []
    owners: list[int] = []
    for si, s in enumerate(group):
        for spec in _specs(s):
            specs.append(spec)
            owners.append(si)
    if kind == "gx":
        from governance.quality.engines.gx import validate_with_gx

        outcomes = validate_with_gx(project, dataset, specs, now)
        return _split(group, dataset, layer, outcomes, owners, 0, None, {"engine": "gx"}), None, []

    from governance.lake.engines import open_engine

    others = [d for d in _referenced(group) if d != dataset]
    ds_spec = project.dataset(dataset)
    whole: tuple[incremental.Plan | None, Path | None] = (None, None)
    if not scopes and ds_spec.format == "delta" and not any(s.incremental for s in group):
        whole = _plan(project, group, {}, others, kind)
        carried = _carried_whole(whole[0], specs)
        if carried is not None and not quarantine and whole[0] is not None:  # no engine is even opened
            info: dict[str, Any] = {"engine": kind}
            info["incremental"] = {"partitions_scanned": 0, "carried_from": whole[0].state.run_id}
            rows = whole[0].state.rows
            return _split(group, dataset, layer, carried, owners, 0, rows, info, fused=True), None, []
    near = [d for d in others if references.reachable(project, kind, dataset, d)]
    eng = open_engine(project, kind, [dataset, *near])
    eng.sensitive = set().union(*(project.pii_columns(d) for d in [dataset, *others]))
    try:
        columns = eng.columns(dataset)
        other = references.bring(project, eng, group, [d for d in others if d not in near])
        ctx = Ctx(
            dataset=dataset,
            relation=eng.relation(dataset),
            dialect=eng.dialect,
            columns=columns,
            order=[k for k in ds_spec.key if k in columns],
            now=now,
            other=other,
        )
        info = {"engine": kind}
        plan, state_file = whole
        applicable = {k: v for k, v in scopes.items() if k in columns}
        if applicable:
            preds = [incremental.scope_predicate(ctx, k, v) for k, v in applicable.items()]
            ctx.scope = exp.and_(*preds) if len(preds) > 1 else preds[0]
            info["partitions"] = {k: v for k, v in applicable.items()}
        elif not scopes and ds_spec.format == "delta" and plan is None:
            plan, state_file = _plan(project, group, columns, others, kind)
            if plan is not None and plan.info():
                info["incremental"] = plan.info()
        pii = project.pii_columns(dataset)
        res = validate(eng, ctx, specs, project.config.quality.sample_size, pii, plan=plan)
        if plan is not None and plan.appended:
            info.setdefault("incremental", {})["appended_checks"] = len(plan.appended)
        quarantined = None
        if quarantine:
            from governance.lake.resolve import storage_options
            from governance.quality import quarantine as qmod

            failing = {
                i: (impl, results.expectation_label(res.outcomes[i].as_gx()))
                for i, impl in res.failing.items()
                if specs[i].severity == "error"
            }
            qctx = ctx
            if plan is not None:  # only rows of the partitions this run scanned (the others already were)
                failing = failing if plan.changed else {}
                qctx = dataclasses.replace(ctx, scope=plan.scope(ctx) if plan.changed else None)
            target = qmod.table_uri(project, dataset, kind)
            quarantined = qmod.write(eng, qctx, failing, target, run_id, pii, storage_options(project))
            info["quarantined_rows"] = quarantined
        if plan is not None and state_file is not None:
            if res.queries == 0 and not plan.table_changed:
                # nothing changed, nothing ran (SPEC §6.1: a whole-table suite shows only this)
                info.setdefault("incremental", {"partitions_scanned": 0})["carried_from"] = plan.state.run_id
            elif any(o.infra for o in res.outcomes):
                log.warning("%s: partition states not saved (the evaluation did not complete)", dataset)
            else:
                tables = appended.read_snapshots(eng, plan)
                plan.commit(run_id, [o.as_gx() for o in res.outcomes], res.rows, tables)
                plan.state.save(state_file)
        log.info("%s: %d queries on %s", dataset, res.queries, kind)
        for sql in res.sql:
            log.debug("%s SQL: %s", dataset, sql)
        return (
            _split(group, dataset, layer, res.outcomes, owners, res.queries, res.rows, info, fused=True),
            quarantined,
            res.sql,
        )
    finally:
        eng.close()


def _plan(
    project: Project, group: list[Suite], columns: dict[str, str], others: list[str], kind: str
) -> tuple[incremental.Plan | None, Path | None]:
    """The incremental plan of a Delta dataset's suites: by their partition when they all declare the
    same one, else over the whole table (carried when it and what the suites read did not change)."""
    inc = {s.incremental.partition for s in group if s.incremental}
    column = inc.pop() if len(inc) == 1 and all(s.incremental for s in group) else None
    if column is not None and column not in columns:
        column = None
    try:
        plan, state_file = incremental.plan(project, group, column, others, kind)
    except Exception as exc:  # noqa: BLE001 - no fingerprint: evaluated in full, as without a plan
        log.info("%s: no incremental plan (%s)", group[0].dataset, type(exc).__name__)
        return None, None
    if not plan.current:  # an empty table has no partition to keep a state for
        return None, None
    return plan, state_file


def _carried_whole(plan: incremental.Plan | None, specs: list[Spec]) -> list[Outcome] | None:
    """The stored outcomes of a whole-table plan when all of them may be reused as they are: nothing
    the suites read changed and none of them reads the clock (the same definition and schema give the
    same build errors too, so the engine is not needed)."""
    if plan is None or plan.column is not None or plan.rescan_whole_table:
        return None
    if len(plan.state.outcomes) != len(specs) or any(s.type in incremental.CLOCK for s in specs):
        return None
    return [Outcome.from_gx(spec, stored) for spec, stored in zip(specs, plan.state.outcomes, strict=True)]


def _split(
    group: list[Suite],
    dataset: str,
    layer: str,
    outcomes: list[Any],
    owners: list[int],
    queries: int,
    rows: int | None,
    info: dict[str, Any],
    fused: bool = False,
) -> list[SuiteResult]:
    """Results of the fused run, back per suite (the dataset's queries are reported on each suite)."""
    out = []
    for si, s in enumerate(group):
        mine = [o for o, owner in zip(outcomes, owners, strict=True) if owner == si]
        extra = dict(info)
        if fused and len(group) > 1:
            extra["fused_with"] = [g.suite for g in group if g is not s]
        out.append(results.suite_result(s.suite, dataset, layer, mine, queries, rows, **extra))
    return out
