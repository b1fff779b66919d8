"""`contract test`: a contract's schema and quality checks, run by the project's quality engine.

The contract becomes expectation specs — schema checks first (each property exists, has its
`logicalType`, is not null when `required`, unique when `unique`; the `primaryKey` columns are unique
together), then its quality rules (see quality_map) — and they run through `governance.quality.runner`
in one fused scan, exactly as `quality run`. A library rule whose threshold the suite form cannot carry
runs as its underlying expectation and is judged on that result's count, percent or observed value.
Every result carries the rule's `id` (else `name`) in `expectation_config.meta.odcs_id`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance.contracts import odcs
from governance.contracts.mapping import Target, resolve
from governance.contracts.quality_map import COMPOUND, NOT_NULL, UNIQUE, Check
from governance.contracts.reading import Reading, read
from governance.contracts.yamlout import load_contract
from governance.errors import ExitCode, InfraError
from governance.project import Project
from governance.quality import results
from governance.quality.runner import Outcome, Spec
from governance.results import StepResult, worst
from governance.specs.quality_run import QualityRun


def compile_contract(reading: Reading) -> tuple[list[Spec], dict[int, Check], list[Outcome]]:
    """(specs to run, thresholds to apply to some of them by index, rules that cannot run)."""
    specs: list[Spec] = []
    checks: dict[int, Check] = {}
    unrunnable: list[Outcome] = []

    def add(
        type_: str, kwargs: dict[str, Any], odcs_id: str, severity: str = "error", meta: Any = None
    ) -> int:
        specs.append(Spec(type_, kwargs, severity, {**(meta or {}), "odcs_id": odcs_id}))
        return len(specs) - 1

    for name, prop in reading.columns.items():
        pid = str(prop.get("id") or name)
        add("expect_column_to_exist", {"column": name}, f"{pid}.exists")
        logical = prop.get("logicalType")
        if logical in odcs.LOGICAL_GX_TYPES:
            add(
                "expect_column_values_to_be_in_type_list",
                {"column": name, "type_list": odcs.LOGICAL_GX_TYPES[str(logical)]},
                f"{pid}.logicalType",
            )
        if prop.get("required") is True:
            add(NOT_NULL, {"column": name}, f"{pid}.required")
        if prop.get("unique") is True:
            add(UNIQUE, {"column": name}, f"{pid}.unique")
    if reading.key:
        key_id = f"{odcs.stable_id(reading.schema_name)}.primaryKey"
        if len(reading.key) == 1:
            add(UNIQUE, {"column": reading.key[0]}, key_id)
        else:
            add(COMPOUND, {"column_list": list(reading.key)}, key_id)
    for rule in reading.rules:
        c = rule.compiled
        if c.problem:
            spec = Spec(
                "odcs_rule",
                {"column": rule.column} if rule.column else {},
                "error",
                {"odcs_id": rule.odcs_id},
            )
            unrunnable.append(Outcome(spec, False, {}, error=c.problem, unsupported=True))
            continue
        for e in c.expectations:
            i = add(e["type"], dict(e["kwargs"]), rule.odcs_id, e.get("severity", "error"), e.get("meta"))
            if c.check is not None:
                checks[i] = c.check
                specs[i].meta["odcs_threshold"] = {c.check.operator: c.check.threshold, "of": c.check.measure}
    return specs, checks, unrunnable


def _engine(project: Project, target: Target, specs: list[Spec]) -> tuple[Any, Any]:
    """The engine holding the contract's dataset, and `Ctx.other`: datasets it references that live on
    another engine (a SQL table checked against a Delta table) are brought in as `quality run` does."""
    from governance.lake import resolve as lake
    from governance.lake.engines import DuckDBEngine, open_engine
    from governance.quality import references
    from governance.specs.expectations import Suite

    others = sorted(
        {
            str(s.kwargs["dataset"])
            for s in specs
            if s.type == references.EXIST_IN and s.kwargs.get("dataset") in project.config.datasets
        }
        - {target.dataset}
    )
    if target.declared:
        fmt = target.spec.format
        kind = "sql" if fmt == "sql" else "spark" if fmt == "spark" else project.config.quality.engine
        kind = kind if kind in ("duckdb", "sql", "spark") else "duckdb"
        near = [d for d in others if references.reachable(project, kind, target.dataset, d)]
        eng = open_engine(project, kind, [target.dataset, *near])
    else:
        near = []
        eng = DuckDBEngine(project, others)
        eng.register_location(lake.DatasetLocation(target.dataset, target.spec, target.uri))
    foreign = [d for d in others if d not in near]
    if not foreign:
        return eng, eng.relation
    suite = Suite.model_validate(
        {
            "suite": "contract",
            "dataset": target.dataset,
            "expectations": [
                {"type": s.type, "kwargs": s.kwargs} for s in specs if s.type == references.EXIST_IN
            ],
        }
    )
    try:
        return eng, references.bring(project, eng, [suite], foreign)
    except BaseException:
        eng.close()
        raise


def test_contract(project: Project, path: Path, dataset: str | None) -> tuple[dict[str, Any], int]:
    """GX-shaped suite result of one contract, and its exit code."""
    from governance.quality.expectations.base import Ctx
    from governance.quality.runner import validate

    doc = load_contract(path)
    target = resolve(project, doc, path, dataset)
    reading = read(doc, target.dataset)
    specs, checks, unrunnable = compile_contract(reading)
    name = str(doc.get("id") or odcs.stable_id(target.dataset))
    layer = target.spec.layer
    extra = {"contract": str(path), "problems": reading.problems}
    all_specs = specs + [o.spec for o in unrunnable]
    try:
        eng, other = _engine(project, target, specs)
    except InfraError as exc:
        payload = results.error_result(name, target.dataset, layer, str(exc), all_specs).dump()
        return {**payload, **extra}, ExitCode.INFRA
    try:
        columns = eng.columns(target.dataset)
        ctx = Ctx(
            dataset=target.dataset,
            relation=eng.relation(target.dataset),
            dialect=eng.dialect,
            columns=columns,
            order=[k for k in (target.spec.key or reading.key) if k in columns],
            now=datetime.now(UTC),
            other=other,
        )
        pii = project.pii_columns(target.dataset) if target.declared else set()
        # columns the contract itself classifies as personal data are masked in samples too
        pii |= {c for c, labels in reading.column_labels.items() if any(lb.lower() == "pii" for lb in labels)}
        # a schema check and a rule often ask the same (required + nullValues, unique + primaryKey): run once
        first: dict[str, int] = {}
        for i, s in enumerate(specs):
            first.setdefault(json.dumps([s.type, s.kwargs], sort_keys=True, default=str), i)
        distinct = sorted(set(first.values()))
        run = validate(eng, ctx, [specs[i] for i in distinct], project.config.quality.sample_size, pii)
    except InfraError as exc:
        payload = results.error_result(name, target.dataset, layer, str(exc), all_specs).dump()
        return {**payload, **extra}, ExitCode.INFRA
    finally:
        eng.close()
    by_first = dict(zip(distinct, run.outcomes, strict=True))
    outcomes = []
    for s in specs:
        o = by_first[first[json.dumps([s.type, s.kwargs], sort_keys=True, default=str)]]
        outcomes.append(
            o if o.spec is s else Outcome(s, o.success, dict(o.result), o.error, o.unsupported, o.impl)
        )
    for i, check in checks.items():
        o = outcomes[i]
        if o.error is None:
            o.success = check.passes(o.result.get(check.measure))
    outcomes += unrunnable
    payload = results.suite_result(
        name, target.dataset, layer, outcomes, run.queries, run.rows, **extra
    ).dump()
    failed = any(not o.success and o.error is None and o.spec.severity == "error" for o in outcomes)
    return payload, ExitCode.CHECK_FAILED if failed else ExitCode.OK


def run_tests(project: Project, files: list[Path], dataset: str | None) -> StepResult:
    started = datetime.now(UTC)
    payloads: list[dict[str, Any]] = []
    codes: list[int] = [ExitCode.OK]
    for f in files:
        payload, code = test_contract(project, f, dataset)
        payloads.append(payload)
        codes.append(code)
    payload_all = {
        "run_id": started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6],
        "success": all(p["success"] for p in payloads),
        "started_at": started.isoformat(),
        "engine": "contract",
        "suites": payloads,
    }
    text = results.render_text(QualityRun.model_validate(payload_all)).replace(
        "quality run", "contract test", 1
    )
    problems = [f"warning: {p['contract']}: {m}" for p in payloads for m in p.get("problems", [])]
    return StepResult(payload_all, worst(*codes), "\n".join([text, *problems]))
