"""Compile the expectations of one dataset into as few queries as possible.

1. the **scan**: every aggregate metric of every expectation in ONE `SELECT agg, agg, … FROM t`
   (identical metrics are computed once; with `group_by`, one row per partition for mergeable states);
2. the **extra** query, only if an expectation needs exact uniqueness, an anti-join, a mode or a window:
   ONE `SELECT (subquery), (subquery), …`;
3. the **samples** query, only for failing row-wise expectations: ONE query returning, per expectation,
   at most `limit` unexpected rows ordered by the dataset key (row_number per expectation flag).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from governance.quality.expectations.base import Ctx, Expectation, Metric, col


@dataclass
class Slot:
    """Where one expectation's metrics land in the compiled queries (local name → column alias)."""

    metrics: dict[str, str] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)


@dataclass
class Compiled:
    scan: exp.Select | None
    extra: exp.Select | None
    slots: list[Slot]
    merges: dict[str, str | None]  # scan alias → merge op


def _alias(prefix: str, n: int) -> str:
    return f"{prefix}{n}"


def compile_metrics(ctx: Ctx, items: list[Expectation | None], group_by: list[str] | None = None) -> Compiled:
    """One scan and at most one extra query for `items` (None entries: expectations that errored early)."""
    seen: dict[str, str] = {}
    scan_cols: list[exp.Expr] = []
    merges: dict[str, str | None] = {}
    extra_cols: list[exp.Expr] = []
    slots: list[Slot] = []
    for item in items:
        slot = Slot()
        slots.append(slot)
        if item is None:
            continue
        metrics: dict[str, Metric] = item.aggregates()
        for local, metric in metrics.items():
            key = metric.expr.sql()
            if key not in seen:
                alias = _alias("m", len(seen))
                seen[key] = alias
                scan_cols.append(metric.expr.as_(alias, quoted=True))
                merges[alias] = metric.merge
            slot.metrics[local] = seen[key]
        for local, sub in item.extras().items():
            alias = _alias("x", len(extra_cols))
            extra_cols.append(exp.alias_(sub, alias, quoted=True))
            slot.extras[local] = alias
    scan = None
    if scan_cols:
        keys = [col(c) for c in group_by or []]
        scan = ctx.source().select(*[k.copy() for k in keys], *scan_cols)
        if keys:
            scan = scan.group_by(*keys)
    extra = exp.select(*extra_cols) if extra_cols else None
    return Compiled(scan, extra, slots, merges)


def flag_name(i: int) -> str:
    return f"__f{i}"


def samples_query(
    ctx: Ctx, failing: dict[int, Expectation], limit: int | None
) -> tuple[exp.Select, list[str]]:
    """ONE query: key columns first, then the sample columns, then a 0/1 flag per failing expectation.

    Rows are bounded per expectation by ROW_NUMBER over its flag (ordered by the key), so one noisy
    expectation cannot crowd out the others. Returns the query and its value columns (key first).
    """
    derived: dict[str, exp.Expr] = {}
    for e in failing.values():
        derived.update(e.derived())
    source: exp.Expr
    if derived:
        inner = ctx.source().select(exp.Star(), *[v.as_(k, quoted=True) for k, v in derived.items()])
        source = inner.subquery("d")
    else:
        source = ctx.relation.copy()
    cols: list[str] = list(ctx.order)
    for e in failing.values():
        cols += [c for c in e.sample_columns() if c not in cols]
    order = exp.Order(expressions=[exp.Ordered(this=col(k)) for k in (ctx.order or cols)])
    # 1. every flag computed once per row (a sub-query predicate is evaluated once, not per use)
    flags: list[exp.Expr] = []
    for i, e in failing.items():
        pred = e.unexpected()
        assert pred is not None
        flag = exp.Case(ifs=[exp.If(this=pred, true=exp.Literal.number(1))], default=exp.Literal.number(0))
        flags.append(flag.as_(flag_name(i), quoted=True))
    flagged = exp.select(*[col(c) for c in cols], *flags).from_(source)
    if ctx.scope is not None and not derived:
        flagged = flagged.where(ctx.scope.copy())

    def f(i: int) -> exp.Column:
        return exp.column(flag_name(i), quoted=True)

    # 2. only unexpected rows, numbered per expectation in key order
    numbers = [
        exp.Window(this=exp.RowNumber(), partition_by=[f(i)], order=order.copy()).as_(f"__r{i}", quoted=True)
        for i in failing
    ]
    numbered = (
        exp.select(*[col(c) for c in cols], *[f(i) for i in failing], *numbers)
        .from_(flagged.subquery("q"))
        .where(exp.or_(*[f(i).eq(1) for i in failing]))
    )
    # 3. at most `limit` rows per expectation
    keep = [
        exp.and_(f(i).eq(1), *([exp.column(f"__r{i}", quoted=True) <= limit] if limit is not None else []))
        for i in failing
    ]
    outer = (
        exp.select(*[col(c) for c in cols], *[f(i) for i in failing])
        .from_(numbered.subquery("s"))
        .where(exp.or_(*keep))
    )
    outer = outer.order_by(*[exp.Ordered(this=col(k)) for k in (ctx.order or cols)])
    return outer, cols
