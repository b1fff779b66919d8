"""Profile a table in at most two queries, built as sqlglot trees and run through the engine layer.

1. One row over the whole table: per column the non-null and distinct counts; min, max and mean of
   numbers; for strings the length range and the fine/coarse shapes (count, smallest, largest); the value
   set of a column with few distinct values (never of a PII column, whose values are not even read); and
   for each foreign-key candidate the count of values missing from the referenced key (a sub-query of the
   same statement).
2. With a partition column, one row per partition: rows, non-null counts, min/max/mean of numbers and,
   when the partition column is a date, how many timestamps fall before their partition's day. These are
   the histories that the bounds are learned from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from governance.quality.suggest import shapes

if TYPE_CHECKING:
    from governance.lake.engines import Engine

MAX_SET = 20  # largest value set proposed


def kind_of(type_name: str) -> str:
    t = type_name.lower()
    if re.search(r"char|text|string|uuid", t):
        return "string"
    if t.startswith(("bool",)):
        return "boolean"
    if re.search(r"timestamp|datetime|date", t):
        return "temporal"
    if re.search(r"^(tinyint|smallint|int|integer|bigint|hugeint|long|short|byte|ubigint|uinteger)", t):
        return "integer"
    if re.search(r"double|float|real|decimal|numeric|money", t):
        return "number"
    return "other"


@dataclass
class ColumnProfile:
    name: str
    kind: str
    pii: bool
    non_null: int = 0
    distinct: int | None = None
    minimum: Any = None
    maximum: Any = None
    mean: float | None = None
    length_min: int | None = None
    length_max: int | None = None
    fine_shapes: int | None = None
    fine_range: tuple[str, str] | None = None
    coarse_shapes: int | None = None
    coarse_range: tuple[str, str] | None = None
    value_set: list[Any] | None = None
    orphans: dict[str, int] = field(default_factory=dict)  # "dataset.column" → values missing there


@dataclass
class PartitionProfile:
    value: Any
    rows: int
    non_null: dict[str, int]
    minimum: dict[str, Any]
    maximum: dict[str, Any]
    mean: dict[str, float | None]
    before_partition: dict[str, int]


@dataclass
class Profile:
    dataset: str
    rows: int
    columns: dict[str, ColumnProfile]
    partition: str | None
    partitions: list[PartitionProfile]
    queries: int


@dataclass(frozen=True)
class ForeignKey:
    column: str
    dataset: str
    other_column: str


def _c(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _alias(expr: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expr, name, quoted=True)


def _count_distinct(value: exp.Expr) -> exp.Expr:
    return exp.Count(this=exp.Distinct(expressions=[value]))


def _table_query(
    engine: Engine, dataset: str, cols: dict[str, ColumnProfile], fks: list[ForeignKey]
) -> exp.Select:
    rel = engine.relation(dataset)
    sel: list[exp.Expr] = [_alias(exp.Count(this=exp.Star()), "rows")]
    for i, c in enumerate(cols.values()):
        v = _c(c.name)
        p = f"c{i}_"
        sel.append(_alias(exp.Count(this=v), p + "nn"))
        if c.kind == "other":
            continue
        sel.append(_alias(_count_distinct(v), p + "nd"))
        if c.kind in ("integer", "number") and not c.pii:
            sel += [_alias(exp.Min(this=v), p + "min"), _alias(exp.Max(this=v), p + "max")]
            sel.append(_alias(exp.Avg(this=v), p + "avg"))
        if c.kind == "string":
            length = exp.Length(this=v)
            sel += [_alias(exp.Min(this=length), p + "lmin"), _alias(exp.Max(this=length), p + "lmax")]
            for tag, shape in (("f", shapes.fine(v)), ("g", shapes.coarse(v))):
                sel.append(_alias(_count_distinct(shape), p + tag + "n"))
                sel.append(_alias(exp.Min(this=shape.copy()), p + tag + "lo"))
                sel.append(_alias(exp.Max(this=shape.copy()), p + tag + "hi"))
        if c.kind in ("string", "integer") and not c.pii:
            few = exp.LTE(this=_count_distinct(v.copy()), expression=exp.Literal.number(MAX_SET))
            values = exp.ArrayAgg(this=exp.Distinct(expressions=[v.copy()]))
            sel.append(_alias(exp.Case(ifs=[exp.If(this=few, true=values)]), p + "set"))
    for j, fk in enumerate(fks):
        mine, other = exp.to_identifier("t", quoted=True), exp.to_identifier("o", quoted=True)
        left = exp.column(fk.column, table=mine, quoted=True)
        right = exp.column(fk.other_column, table=other, quoted=True)
        orphans = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.alias_(engine.relation(dataset), mine, table=True))
            .join(
                exp.alias_(engine.relation(fk.dataset), other, table=True),
                on=exp.EQ(this=left, expression=right),
                join_type="left",
            )
            .where(
                exp.and_(
                    exp.Not(this=exp.Is(this=left.copy(), expression=exp.null())),
                    exp.Is(this=right.copy(), expression=exp.null()),
                )
            )
        )
        sel.append(_alias(exp.Subquery(this=orphans), f"fk{j}"))
    return exp.select(*sel).from_(rel)


def _partition_query(
    engine: Engine, dataset: str, cols: dict[str, ColumnProfile], partition: str
) -> exp.Select:
    part = _c(partition)
    sel: list[exp.Expr] = [_alias(part, "part"), _alias(exp.Count(this=exp.Star()), "rows")]
    dated = cols[partition].kind == "temporal"
    for i, c in enumerate(cols.values()):
        v = _c(c.name)
        p = f"c{i}_"
        sel.append(_alias(exp.Count(this=v), p + "nn"))
        if c.name == partition or c.pii:
            continue
        if c.kind in ("integer", "number"):
            sel += [_alias(exp.Min(this=v), p + "min"), _alias(exp.Max(this=v), p + "max")]
            sel.append(_alias(exp.Avg(this=v), p + "avg"))
        if c.kind == "temporal" and dated:
            early = exp.LT(this=v.copy(), expression=part.copy())
            sel.append(
                _alias(
                    exp.Sum(
                        this=exp.Case(
                            ifs=[exp.If(this=early, true=exp.Literal.number(1))],
                            default=exp.Literal.number(0),
                        )
                    ),
                    p + "early",
                )
            )
    return exp.select(*sel).from_(engine.relation(dataset)).group_by(part.copy()).order_by(part.copy())


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def profile(
    engine: Engine,
    dataset: str,
    pii: set[str],
    partition: str | None = None,
    fks: list[ForeignKey] | None = None,
) -> Profile:
    """The profile of `dataset` (registered in `engine`); at most two queries."""
    fks = list(fks or [])
    types = engine.columns(dataset)
    cols = {n: ColumnProfile(n, kind_of(t), n in pii) for n, t in types.items()}
    start = engine.queries
    names, rows = engine.execute(_table_query(engine, dataset, cols, fks))
    row = dict(zip(names, rows[0], strict=True))
    for i, c in enumerate(cols.values()):
        p = f"c{i}_"
        c.non_null = int(row[p + "nn"] or 0)
        c.distinct = None if row.get(p + "nd") is None else int(row[p + "nd"])
        c.minimum, c.maximum = row.get(p + "min"), row.get(p + "max")
        c.mean = _num(row.get(p + "avg"))
        if c.kind == "string" and c.non_null:
            c.length_min, c.length_max = int(row[p + "lmin"]), int(row[p + "lmax"])
            c.fine_shapes, c.fine_range = int(row[p + "fn"]), (row[p + "flo"], row[p + "fhi"])
            c.coarse_shapes, c.coarse_range = int(row[p + "gn"]), (row[p + "glo"], row[p + "ghi"])
        if row.get(p + "set") is not None:
            values = [v for v in row[p + "set"] if v is not None]  # array_agg keeps a NULL
            c.value_set = sorted(values, key=lambda x: (str(type(x)), x))
    for j, fk in enumerate(fks):
        cols[fk.column].orphans[f"{fk.dataset}.{fk.other_column}"] = int(row[f"fk{j}"] or 0)
    parts: list[PartitionProfile] = []
    if partition is not None and partition in cols:
        names, prow = engine.execute(_partition_query(engine, dataset, cols, partition))
        for r in prow:
            d = dict(zip(names, r, strict=True))
            pp = PartitionProfile(d["part"], int(d["rows"]), {}, {}, {}, {}, {})
            for i, c in enumerate(cols.values()):
                p = f"c{i}_"
                pp.non_null[c.name] = int(d[p + "nn"] or 0)
                if p + "min" in d:
                    pp.minimum[c.name], pp.maximum[c.name] = d[p + "min"], d[p + "max"]
                    pp.mean[c.name] = _num(d[p + "avg"])
                if p + "early" in d:
                    pp.before_partition[c.name] = int(d[p + "early"] or 0)
            parts.append(pp)
    return Profile(
        dataset, int(row["rows"]), cols, partition if parts else None, parts, engine.queries - start
    )
