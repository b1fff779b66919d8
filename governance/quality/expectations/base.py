"""What an expectation is to the compiler: the metrics it needs (sqlglot expressions) and how it turns
metric values into a GX-shaped result.

An expectation declares
- `aggregates()`: aggregate expressions over the dataset, fused by the compiler into ONE scan;
- `extras()`: scalar sub-queries (exact uniqueness, anti-joins, modes, windows) fused into at most one
  extra query;
- `unexpected()`: the row predicate that is TRUE for an unexpected row (samples, quarantine), or None;
- `evaluate(values)`: success and the `result` dict, from the metric values by name.
"""

from __future__ import annotations

import datetime as dt
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from sqlglot import exp

from governance.errors import InputError
from governance.lake import hash_sort
from governance.lake.dialects import Dialect, dialect_for

Merge = str | None  # "sum" | "min" | "max" | None (not mergeable across partitions)


class Unsupported(Exception):
    """This expectation (or these kwargs) cannot be evaluated by this engine; reported per expectation."""


@dataclass(frozen=True)
class Metric:
    expr: exp.Expr
    merge: Merge = None


@dataclass
class Ctx:
    """What an expectation knows about the dataset it runs on."""

    dataset: str
    relation: exp.Table
    dialect: str  # sqlglot dialect name; what differs per engine is asked of `traits`
    columns: dict[str, str]  # visible column -> engine type name (lower case)
    order: list[str] = field(default_factory=list)  # row order / key columns (samples are sorted by these)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    other: Callable[[str], exp.Table] | None = None  # relation of another dataset (referential integrity)
    scope: exp.Expr | None = None  # partition filter of an incremental run
    traits: Dialect = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.traits = dialect_for(self.dialect)

    def family(self, column: str) -> str:
        return type_family(self.columns.get(column, ""))

    def source(self, table: exp.Table | None = None) -> exp.Select:
        """`SELECT … FROM relation [WHERE scope]`, the base of every sub-query."""
        sel = exp.select().from_((table or self.relation).copy())
        return sel.where(self.scope.copy()) if self.scope is not None and table is None else sel


def type_family(name: str) -> str:
    t = name.lower()
    if t.startswith("decimal") or t.startswith("numeric"):
        return "decimal"
    if any(k in t for k in ("int", "long", "short", "byte", "serial")) and "interval" not in t:
        return "int"
    if any(k in t for k in ("double", "float", "real")):
        return "float"
    if "bool" in t:
        return "bool"
    if "timestamp" in t or "datetime" in t:
        return "timestamp"
    if t.startswith("date"):
        return "date"
    if t.startswith("time"):
        return "time"
    if any(k in t for k in ("char", "text", "string", "varchar", "uuid", "json")):
        return "string"
    return "other"


NUMERIC = ("int", "float", "decimal")
TEMPORAL = ("date", "timestamp")


def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def lit(value: Any) -> exp.Expr:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise Unsupported(f"non-finite bound {value}")
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise Unsupported(f"unsupported literal {type(value).__name__}")


def typed_lit(value: Any, family: str) -> exp.Expr:
    """A literal comparable with a column of `family` (strings cast to dates/timestamps)."""
    if isinstance(value, str) and family in TEMPORAL:
        parsed = parse_datetime(value)
        if family == "date":
            return exp.cast(exp.Literal.string(parsed.date().isoformat()), "DATE")
        return exp.cast(exp.Literal.string(parsed.replace(tzinfo=None).isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, str) and family in NUMERIC:
        raise Unsupported(f"cannot compare numeric column with string {value!r}")
    return lit(value)


def parse_datetime(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        from dateutil import parser

        return parser.parse(value)


OFFENDERS_CAP = 100  # offending values carried out of a grouped pass (samples bigger than this regroup)


def carries_offenders(ctx: Ctx) -> bool:
    """Whether a grouped pass can hand its first offending values to the samples query: a single key
    column (its MIN is a group's first row in key order) and a dialect that sorts NULLs last and has
    filtered ARRAY_AGG."""
    return ctx.traits.carries_ordered_offenders and len(ctx.order) == 1


def offender_row(groups: exp.Select) -> exp.Select:
    """From `groups` (columns v = offending value, n = its unexpected rows, k = its first key), one row:
    `unexpected` (total rows), `groups` (how many values) and `offenders` (the values of the
    OFFENDERS_CAP groups whose first key comes first). The first N unexpected rows in key order all
    belong to the N groups with the smallest first keys, so the samples filter on these values only."""
    rank = exp.Window(
        this=exp.RowNumber(),
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("k")), exp.Ordered(this=exp.column("v"))]),
    )
    ranked = exp.select("v", "n", rank.as_("rn")).from_(groups.subquery("g"))
    first = exp.Filter(
        this=exp.ArrayAgg(this=exp.column("v")),
        expression=exp.Where(this=exp.column("rn") <= OFFENDERS_CAP),
    )
    return exp.select(
        exp.Sum(this=exp.column("n")).as_("unexpected"),
        exp.Count(this=exp.Star()).as_("groups"),
        first.as_("offenders"),
    ).from_(ranked.subquery("r"))


def offender_table(values: dict[str, Any], limit: int | None) -> exp.Select | None:
    """`SELECT v FROM (VALUES …)` of the offending values that hold every one of the first `limit`
    unexpected rows (a hash semi-join, not a long OR chain per row), or None (unknown, too few carried,
    or not safely writable as literals)."""
    found, groups = values.get("offenders"), values.get("groups")
    if not isinstance(found, list | tuple) or not found:
        return None
    complete = groups is not None and int(groups) <= len(found)
    if not complete and (limit is None or limit > len(found)):
        return None
    if not all(
        isinstance(v, str | int | Decimal | dt.date) and not isinstance(v, bool | dt.datetime) for v in found
    ):
        return None
    table = exp.values([(lit(v),) for v in found], alias="o", columns=["v"])
    return exp.select(exp.column("v", table="o")).from_(table)


def offender_predicate(e: Expectation, values: dict[str, Any], limit: int | None) -> exp.Expr | None:
    """Samples of a uniqueness / referential check: rows whose value is among the offending values the
    grouped pass carried out, or the check's own predicate when none were carried."""
    found = offender_table(values, limit)
    if found is None:
        return e.unexpected()
    column = col(e.kw["column"])
    return exp.and_(column.is_(exp.null()).not_(), column.copy().isin(query=found))


def repeated_key(ctx: Ctx, keys: list[exp.Expr], rows: exp.Select) -> exp.Expr | None:
    """A row predicate TRUE on every row of `rows` whose key may occur twice, for a duplicate search
    that then groups only those rows: the key's hash is among the hashes seen twice, found by sorting
    the hashes (LAG over ORDER BY; the DuckDB engine sorts them in NumPy, governance.lake.hash_sort),
    not by grouping every key. Exact: equal keys hash equally, so every
    duplicated key passes; a key that shares only its hash passes too and is counted once by the
    grouping. None where the dialect groups the key as it is (`Dialect.key_hash`)."""
    hashed = ctx.traits.key_hash([k.copy() for k in keys])
    if hashed is None:
        return None
    h, prev = exp.column("h"), exp.column("p")
    hashes = rows.select(hashed.copy().as_("h"))
    seen_twice = exp.select(h.copy()).from_(hash_sort.neighbours(hashes)).where(h.copy().eq(prev))
    return hashed.isin(query=seen_twice)


def count_if(cond: exp.Expr) -> exp.Expr:
    """COUNT_IF(cond): sqlglot renders it per dialect (SUM(CASE …) on PostgreSQL, COUNT(IIF(…)) on T-SQL)."""
    return exp.CountIf(this=cond)


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def to_py(value: Any) -> Any:
    """Engine values → JSON-friendly Python (Decimal → float, dates → ISO strings)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_py(v) for v in value]
    if hasattr(value, "tolist"):
        return to_py(value.tolist())
    return value


def in_range(value: Any, kw: dict[str, Any], family: str = "") -> bool:
    """GX's between: inclusive unless strict_min/strict_max; a missing bound is open."""
    if value is None:
        return False
    lo, hi = kw.get("min_value"), kw.get("max_value")
    v = _comparable(value, family)
    if lo is not None:
        lo_v = _comparable(lo, family)
        if v < lo_v or (kw.get("strict_min") and v == lo_v):
            return False
    if hi is not None:
        hi_v = _comparable(hi, family)
        if v > hi_v or (kw.get("strict_max") and v == hi_v):
            return False
    return True


def _comparable(value: Any, family: str) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str) and (family in TEMPORAL or _looks_temporal(value)):
        try:
            return parse_datetime(value).replace(tzinfo=None)
        except (ValueError, OverflowError):
            return value
    if isinstance(value, Decimal):
        return float(value)
    return value


def _looks_temporal(value: str) -> bool:
    return len(value) >= 8 and value[:4].isdigit() and value[4:5] == "-"


def check_bounds(kw: dict[str, Any], required: bool = False) -> None:
    """GX's argument checks for a [min_value, max_value] range."""
    lo, hi = kw.get("min_value"), kw.get("max_value")
    for v in (lo, hi):
        if isinstance(v, dict) and "$PARAMETER" in v:
            raise Unsupported("GX evaluation parameters ($PARAMETER) are not supported; use a literal bound")
        if isinstance(v, dict | list):
            raise InputError(f"bound {v!r} is not a value")
    if required and lo is None and hi is None:
        raise InputError("min_value and max_value cannot both be None")
    if lo is not None and hi is not None:
        try:
            if _comparable(lo, "") > _comparable(hi, ""):
                raise InputError("min_value cannot be greater than max_value")
        except TypeError:
            raise InputError("min_value and max_value are not comparable") from None


def range_condition(expr: exp.Expr, kw: dict[str, Any], family: str) -> exp.Expr:
    """The row predicate that is TRUE when `expr` is OUTSIDE [min_value, max_value]."""
    lo, hi = kw.get("min_value"), kw.get("max_value")
    if lo is None and hi is None:
        raise InputError("min_value and max_value cannot both be None")
    parts: list[exp.Expr] = []
    if lo is not None:
        bound = typed_lit(lo, family)
        parts.append(
            exp.LTE(this=expr.copy(), expression=bound)
            if kw.get("strict_min")
            else exp.LT(this=expr.copy(), expression=bound)
        )
    if hi is not None:
        bound = typed_lit(hi, family)
        parts.append(
            exp.GTE(this=expr.copy(), expression=bound)
            if kw.get("strict_max")
            else exp.GT(this=expr.copy(), expression=bound)
        )
    return exp.or_(*parts) if len(parts) > 1 else parts[0]


class Expectation(ABC):
    """Base of every expectation implementation (one instance per configured expectation)."""

    family: ClassVar[str] = "table"
    needs_full_scan: ClassVar[bool] = False  # not evaluable from merged partition states
    type_name: str = ""

    def __init__(self, type_name: str, kwargs: dict[str, Any], ctx: Ctx) -> None:
        self.type_name = type_name
        self.kw = kwargs
        self.ctx = ctx
        self.check()

    # --- declared by subclasses ------------------------------------------------------------------
    def check(self) -> None:  # noqa: B027 - optional hook: most expectations have nothing to check
        """Raise InputError/Unsupported for bad kwargs or missing columns before any query runs."""

    def aggregates(self) -> dict[str, Metric]:
        return {}

    def extras(self) -> dict[str, exp.Expr]:
        return {}

    def extra_row(self) -> exp.Select | None:
        """A one-row sub-query whose named columns are metrics (several results of one grouped pass)."""
        return None

    def unexpected(self) -> exp.Expr | None:
        return None

    def sample_predicate(self, values: dict[str, Any], limit: int | None) -> exp.Expr | None:
        """The unexpected predicate for the samples query (at most `limit` rows per expectation), given
        this expectation's metric values."""
        return self.unexpected()

    def sample_columns(self) -> list[str]:
        return []

    def derived(self) -> dict[str, exp.Expr]:
        """Window columns the unexpected predicate needs (computed in an inner select of the sample query)."""
        return {}

    @abstractmethod
    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Turn the metric values of the scan into (success, GX result fields)."""

    # --- helpers ---------------------------------------------------------------------------------
    def need_column(self, name: str) -> None:
        if name not in self.ctx.columns:
            raise ColumnMissing(f'The column "{name}" in BatchData does not exist.')


class ColumnMissing(Exception):
    """The expectation names a column the dataset does not have (a failed expectation with an exception)."""
