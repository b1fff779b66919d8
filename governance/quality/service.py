"""`quality run`: every selected suite, fused per dataset, on the engine where the data lives.

Suites on the same dataset are compiled together (one scan for all of them). A dataset that cannot be
validated (missing table, engine down) becomes that dataset's error; the others still run. Exit code:
1 when an error-severity expectation fails (warn failures do not fail the run), 3 when a dataset hit an
infrastructure fault.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.errors import ExitCode, InfraError, InputError
from governance.project import Project
from governance.quality import results
from governance.quality.expectations.base import Ctx
from governance.quality.runner import DatasetRun, Spec, validate
from governance.results import StepResult, worst
from governance.specs.expectations import Suite

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


def _engine_kind(project: Project, dataset: str, requested: str) -> str:
    fmt = project.dataset(dataset).format
    if requested == "gx":
        return "gx"
    if fmt == "sql":
        return "sql"  # the data lives in the warehouse: compute goes there
    if fmt == "spark":
        return "spark"
    if requested == "sql":
        raise InfraError(f"dataset {dataset} is {fmt} files in the lake, not a table of a SQL connection")
    return requested


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
    scopes = parse_partitions(partitions)
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    by_dataset: dict[str, list[Suite]] = defaultdict(list)
    for s in chosen:
        by_dataset[s.dataset].append(s)
    suite_payloads: list[dict[str, Any]] = []
    codes: list[int] = [ExitCode.OK]
    extra: dict[str, Any] = {"quarantined": {}, "sql": {}}
    for dataset, group in by_dataset.items():
        layer = project.dataset(dataset).layer
        t0 = time.perf_counter()
        try:
            ds_kind = _engine_kind(project, dataset, kind)
            payloads, quarantined = _run_dataset(
                project, dataset, group, ds_kind, scopes, quarantine, run_id, started
            )
            extra["sql"][dataset] = payloads[0].pop("_sql", []) if payloads else []
            if quarantined is not None:
                extra["quarantined"][dataset] = quarantined
        except InfraError as exc:
            log.warning("dataset %s not validated: %s", dataset, exc)
            payloads = [
                results.error_result(s.suite, dataset, layer, str(exc), len(s.expectations)) for s in group
            ]
            codes.append(ExitCode.INFRA)
        for p in payloads:
            p["seconds"] = round(time.perf_counter() - t0, 3)
            if any(
                not r["success"] and r["expectation_config"].get("severity", "error") == "error"
                for r in p["results"]
            ):
                codes.append(ExitCode.CHECK_FAILED)
        suite_payloads += payloads
    payload = {
        "run_id": run_id,
        "success": all(p["success"] for p in suite_payloads),
        "started_at": started.isoformat(),
        "engine": kind,
        "suites": suite_payloads,
    }
    results.store(project.state_dir, payload)
    results.record_metrics(project.state_dir, payload, started)
    return StepResult(payload, worst(*codes), results.render_text(payload), extra)


def _run_dataset(
    project: Project,
    dataset: str,
    group: list[Suite],
    kind: str,
    scopes: dict[str, list[str]],
    quarantine: bool,
    run_id: str,
    now: datetime,
) -> tuple[list[dict[str, Any]], int | None]:
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
        return _split(group, dataset, layer, outcomes, owners, 0, None, {"engine": "gx"}), None

    from governance.lake.engines import open_engine

    others = [d for d in _referenced(group) if d != dataset]
    eng = open_engine(project, kind, [dataset, *others])
    try:
        columns = eng.columns(dataset)
        ds_spec = project.dataset(dataset)
        ctx = Ctx(
            dataset=dataset,
            relation=eng.relation(dataset),
            dialect=eng.dialect,
            columns=columns,
            order=[k for k in ds_spec.key if k in columns],
            now=now,
            other=eng.relation,
        )
        info: dict[str, Any] = {"engine": kind}
        hook = None
        state = None
        from governance.quality import incremental

        applicable = {k: v for k, v in scopes.items() if k in columns}
        if applicable:
            preds = [incremental.scope_predicate(ctx, k, v) for k, v in applicable.items()]
            from sqlglot import exp

            ctx.scope = exp.and_(*preds) if len(preds) > 1 else preds[0]
            info["partitions"] = {k: v for k, v in applicable.items()}
        elif not scopes:
            inc = {s.incremental.partition for s in group if s.incremental}
            if len(inc) == 1 and all(s.incremental for s in group) and ds_spec.format == "delta":
                column = inc.pop()
                if column in columns:
                    path = incremental.state_path(project, "+".join(s.suite for s in group))
                    state = incremental.PartitionState.load(path)
                    current = incremental.fingerprints(project, dataset, column)
                    changed = sorted(v for v, fp in current.items() if state.fingerprints.get(v) != fp)
                    removed = [v for v in state.fingerprints if v not in current]
                    for v in removed:
                        state.states.pop(v, None)
                    info["incremental"] = {
                        "partition": column,
                        "changed": changed,
                        "removed": removed,
                        "stored": len(state.states),
                    }
                    if not changed:
                        state.fingerprints = current
                        state.save(path)
                        return _skipped(group, dataset, layer, info), None
                    ctx.scope = incremental.scope_predicate(ctx, column, changed)
                    hook = incremental.grouped_scan(column, state, changed)
                    state.fingerprints = {
                        **{v: state.fingerprints[v] for v in state.fingerprints if v in current},
                        **{v: current[v] for v in changed},
                    }
                    info["_state_path"] = str(path)
        pii = project.pii_columns(dataset)
        res = validate(eng, ctx, specs, project.config.quality.sample_size, pii, scan_hook=hook)
        quarantined = None
        if quarantine:
            from governance.quality import quarantine as qmod

            failing = {
                i: (impl, results.expectation_label(res.outcomes[i].as_gx()))
                for i, impl in res.failing.items()
                if specs[i].severity == "error"
            }
            quarantined = qmod.write(eng, ctx, failing, project.state_dir, run_id, pii)
            info["quarantined_rows"] = quarantined
        if state is not None:
            state.save(Path(info.pop("_state_path")))
        info["_sql"] = res.sql
        log.info("%s: %d queries on %s", dataset, res.queries, kind)
        for sql in res.sql:
            log.debug("%s SQL: %s", dataset, sql)
        return _split(
            group, dataset, layer, res.outcomes, owners, res.queries, res.rows, info, res
        ), quarantined
    finally:
        eng.close()


def _split(
    group: list[Suite],
    dataset: str,
    layer: str,
    outcomes: list[Any],
    owners: list[int],
    queries: int,
    rows: int | None,
    info: dict[str, Any],
    run: DatasetRun | None = None,
) -> list[dict[str, Any]]:
    """Results of the fused run, back per suite (the dataset's queries are reported on each suite)."""
    out = []
    for si, s in enumerate(group):
        mine = [o for o, owner in zip(outcomes, owners, strict=True) if owner == si]
        extra = {k: v for k, v in info.items() if not k.startswith("_")}
        if run is not None and len(group) > 1:
            extra["fused_with"] = [g.suite for g in group if g is not s]
        out.append(results.suite_result(s.suite, dataset, layer, mine, queries, rows, **extra))
    if out and "_sql" in info:
        out[0]["_sql"] = info["_sql"]
    return out


def _skipped(group: list[Suite], dataset: str, layer: str, info: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for s in group:
        p = results.suite_result(
            s.suite, dataset, layer, [], 0, 0, **{k: v for k, v in info.items() if not k.startswith("_")}
        )
        p["skipped"] = "no partition added or changed since the last successful run"
        out.append(p)
    return out
