"""`quality enforce`: row-level expectations of error severity as Delta CHECK constraints.

Plan / apply like sync. Each enforceable expectation (see row_rules) becomes a constraint named
`sfg_<column>_<rule>_<hash>`; only constraints with that prefix are ever changed or pruned. The
expressions are rendered by sqlglot for DataFusion, the SQL engine `deltalake` checks constraints with.
`NOT NULL` is a CHECK `col IS NOT NULL`: `deltalake` can drop a column's NOT NULL but has no call to set
it on an existing column (`TableAlterer.add_constraint` / `drop_constraint` are the only ways to add
and remove a rule), and a CHECK is enforced on every write just the same.

Existing rows that violate a new constraint are counted (counts only, never values) with the same
engine and expression before anything is written; with any violation on any table nothing is applied
(exit 1). Warn-severity expectations are not enforced: a constraint rejects the whole write.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from governance.errors import ExitCode, InfraError
from governance.project import Project
from governance.quality.row_rules import base_name, predicate, rule_name
from governance.results import StepResult, worst
from governance.specs.expectations import Suite

log = logging.getLogger("governance.quality.enforce")
PREFIX = "sfg_"
DIALECT = "postgres"  # DataFusion reads PostgreSQL-style SQL (`~` for regex, double-quoted identifiers)
_KEY = "delta.constraints."


def constraint_sql(node: exp.Expr) -> str:
    """The expression as `deltalake` can store it: DataFusion evaluates `LENGTH(x)` but cannot write it back
    into the table's metadata ("Unable to convert expression to string"); `character_length` it can (and
    Spark SQL reads it too)."""

    def storable(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Length):
            return exp.Anonymous(this="character_length", expressions=[n.this])
        return n

    return node.copy().transform(storable).sql(dialect=DIALECT)


@dataclass
class TablePlan:
    dataset: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    table: Any = None

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dataset": self.dataset, "constraints": self.changes, "skipped": self.skipped}
        if self.error:
            out["error"] = self.error
        return out


def desired(suites: list[Suite]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Constraint name -> {expression, expectation}; and the expectations left out, with why."""
    want: dict[str, dict[str, Any]] = {}
    skipped = []
    for s in suites:
        for e in s.expectations:
            label = f"{e.type}({e.kwargs.get('column') or e.kwargs.get('column_A') or ''})"
            if e.severity != "error":
                skipped.append({"suite": s.suite, "expectation": label, "reason": "warn severity"})
                continue
            try:
                sql = constraint_sql(predicate(e.type, e.kwargs))
            except ValueError as exc:
                skipped.append({"suite": s.suite, "expectation": label, "reason": str(exc)})
                continue
            want[rule_name(e.type, e.kwargs, sql, PREFIX)] = {"expression": sql, "expectation": label}
    return want, skipped


def _violations(table: Any, checks: dict[str, str]) -> dict[str, int]:
    """Rows of the current snapshot that fail each expression: one query through deltalake's DataFusion."""
    from deltalake import QueryBuilder

    if not checks:
        return {}
    names = list(checks)
    # a row violates a constraint unless its expression is TRUE: NULL counts as a violation, as in deltalake
    counts = [
        exp.alias_(
            exp.func(
                "SUM",
                exp.If(
                    this=exp.paren(exp.maybe_parse(checks[n], dialect=DIALECT)),
                    true=exp.convert(0),
                    false=exp.convert(1),
                ),
            ),
            f"v{i}",
        )
        for i, n in enumerate(names)
    ]
    select = exp.select(*counts).from_("t")
    sql = select.sql(dialect=DIALECT)
    import pyarrow as pa

    try:
        reader = QueryBuilder().register("t", table).execute(sql)
        row = pa.RecordBatchReader.from_stream(reader).read_all().to_pylist()[0]
    except Exception as exc:  # DataFusion cannot evaluate an expression (e.g. a type mismatch)
        raise InfraError(f"cannot count violating rows: {str(exc).splitlines()[0][:300]}") from exc
    return {n: int(row[f"v{i}"] or 0) for i, n in enumerate(names)}


def plan_table(project: Project, dataset: str, suites: list[Suite], prune: bool) -> TablePlan:
    from governance.lake import resolve

    tp = TablePlan(dataset)
    want, tp.skipped = desired(suites)
    spec = project.dataset(dataset)
    if spec.format != "delta":
        tp.skipped = [
            {"suite": s.suite, "expectation": "*", "reason": f"{spec.format} dataset: not a Delta table"}
            for s in suites
        ]
        return tp
    loc = resolve.locate(project, dataset)
    try:
        table = resolve.delta_table(loc)
        config = table.metadata().configuration
    except InfraError as exc:
        tp.error = str(exc)
        return tp
    tp.table = table
    existing = {k[len(_KEY) :]: v for k, v in config.items() if k.startswith(_KEY)}
    managed = {n for n in existing if n.startswith(PREFIX)}
    creates = {n: w for n, w in want.items() if n not in existing}
    stale = sorted(managed - set(want))
    replaced = {base_name(n) for n in creates}
    for n, w in want.items():
        if n in existing:
            tp.changes.append({"name": n, "action": "noop", **w})
    try:
        counts = _violations(table, {n: w["expression"] for n, w in creates.items()})
    except InfraError as exc:
        tp.error = str(exc)
        return tp
    for n, w in creates.items():
        tp.changes.append({"name": n, "action": "create", **w, "violations": counts.get(n, 0)})
    for n in stale:
        if base_name(n) in replaced:
            tp.changes.append(
                {"name": n, "action": "delete", "expression": existing[n], "reason": "replaced"}
            )
        elif prune:
            tp.changes.append({"name": n, "action": "delete", "expression": existing[n], "reason": "pruned"})
        else:
            tp.changes.append(
                {
                    "name": n,
                    "action": "keep",
                    "expression": existing[n],
                    "reason": "no longer in a suite (use --prune)",
                }
            )
    return tp


def apply_table(tp: TablePlan) -> None:
    """New constraints first, in one commit (deltalake checks every row again); drops only after it."""
    table = tp.table
    adds = {c["name"]: c["expression"] for c in tp.changes if c["action"] == "create"}
    if adds:
        table.alter.add_constraint(adds)
    for c in tp.changes:
        if c["action"] == "delete":
            table.alter.drop_constraint(c["name"], raise_if_not_exists=False)


def enforce(project: Project, suites: list[Suite], apply: bool, prune: bool) -> StepResult:
    by_dataset: dict[str, list[Suite]] = {}
    for s in suites:
        by_dataset.setdefault(s.dataset, []).append(s)
    plans = [plan_table(project, d, group, prune) for d, group in sorted(by_dataset.items())]
    codes: list[int] = [ExitCode.OK]
    if any(p.error for p in plans):
        codes.append(ExitCode.INFRA)
    violating = [c for p in plans for c in p.changes if c.get("violations")]
    applied = False
    if violating:
        codes.append(ExitCode.CHECK_FAILED)
    elif apply and not any(p.error for p in plans):  # all tables or none
        for p in plans:
            if p.table is not None:
                try:
                    apply_table(p)
                except Exception as exc:  # deltalake found a violation written since the count, or I/O
                    p.error = f"not applied: {str(exc).splitlines()[0][:300]}"
                    codes.append(ExitCode.INFRA)
        applied = True
    summary = Counter(c["action"] for p in plans for c in p.changes)
    payload = {
        "mode": "apply" if apply else "plan",
        "applied": applied and not any(p.error for p in plans),
        "datasets": [p.payload() for p in plans],
        "summary": {k: summary.get(k, 0) for k in ("create", "delete", "keep", "noop")},
        "violations": sum(int(c.get("violations") or 0) for c in violating),
    }
    return StepResult(payload, worst(*codes), render(payload))


def render(payload: dict[str, Any]) -> str:
    lines = []
    for d in payload["datasets"]:
        lines.append(d["dataset"] + (f": error: {d['error']}" if d.get("error") else ""))
        for c in d["constraints"]:
            extra = f"  ({c['violations']} existing rows violate it)" if c.get("violations") else ""
            mark = {"create": "+", "delete": "-", "keep": "!", "noop": "="}[c["action"]]
            lines.append(f"  {mark} {c['name']}: {c['expression']}{extra}")
        for s in d["skipped"]:
            lines.append(f"    skipped {s['expectation']}: {s['reason']}")
    s = payload["summary"]
    tail = f"{s['create']} to create, {s['delete']} to delete, {s['keep']} kept, {s['noop']} unchanged"
    if payload["violations"]:
        tail += f"; {payload['violations']} existing rows violate new constraints: nothing applied"
    elif payload["mode"] == "apply" and any(d.get("error") for d in payload["datasets"]):
        tail += "; a table could not be planned: nothing applied"
    elif payload["mode"] == "apply":
        tail += "; applied" if payload["applied"] else "; not applied"
    return "\n".join([*lines, tail])
