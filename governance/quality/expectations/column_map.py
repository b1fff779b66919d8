"""Column map expectations: a row predicate per value, counted in the fused scan, `mostly` applied."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from sqlglot import exp

from governance.errors import InputError
from governance.quality.expectations.base import (
    Ctx,
    Expectation,
    Metric,
    Unsupported,
    carries_offenders,
    check_bounds,
    col,
    count_if,
    lit,
    offender_predicate,
    offender_row,
    range_condition,
    repeated_key,
    type_family,
    typed_lit,
)


def _pct(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


class MapExpectation(Expectation):
    """Shared shape of every row-wise expectation (column map, multicolumn map, referential integrity)."""

    family: ClassVar[str] = "column_map"
    include_nulls: ClassVar[bool] = False  # rows where the column is null are in the domain

    def columns(self) -> list[str]:
        return [self.kw["column"]]

    def check(self) -> None:
        if self.kw.get("row_condition"):
            raise Unsupported("row_condition is not supported")
        for c in self.columns():
            self.need_column(c)
        mostly = self.kw.get("mostly", 1)
        if not isinstance(mostly, int | float) or not 0 <= mostly <= 1:
            raise InputError(f"mostly must be a number between 0 and 1, got {mostly!r}")

    def domain(self) -> exp.Expr | None:
        """Rows considered (None: every row)."""
        return None if self.include_nulls else col(self.kw["column"]).is_(exp.null()).not_()

    @abstractmethod
    def condition(self) -> exp.Expr:
        """TRUE for an unexpected value (evaluated only inside the domain)."""

    def unexpected(self) -> exp.Expr | None:
        d = self.domain()
        cond = exp.paren(self.condition())  # NULL counts as not unexpected (CASE/WHERE)
        return cond if d is None else exp.and_(d, cond)

    def aggregates(self) -> dict[str, Metric]:
        d = self.domain()
        out = {"element_count": Metric(exp.Count(this=exp.Star()), "sum")}
        if d is None:
            considered: exp.Expr = exp.Count(this=exp.Star())
        elif type(self).domain is MapExpectation.domain:
            considered = exp.Count(this=col(self.kw["column"]))  # non-null values: cheaper than a CASE
        else:
            considered = count_if(d)
        out["considered"] = Metric(considered, "sum")
        if not self.exact_unexpected():
            out["unexpected"] = Metric(count_if(self.unexpected() or exp.false()), "sum")
        return out

    def exact_unexpected(self) -> bool:
        """Whether the unexpected count comes from `extras()` (grouped / anti-join) instead of the scan."""
        return False

    def sample_columns(self) -> list[str]:
        return self.columns()

    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        total = int(values["element_count"] or 0)
        considered = int(values["considered"] or 0)
        unexpected = int(values["unexpected"] or 0)
        missing = total - considered
        mostly = float(self.kw.get("mostly", 1))
        success = True if considered == 0 else (considered - unexpected) / considered >= mostly
        result: dict[str, Any] = {
            "element_count": total,
            "unexpected_count": unexpected,
            "unexpected_percent": _pct(unexpected, considered) if considered else 0.0,
        }
        if not self.include_nulls:
            result["missing_count"] = missing
            result["missing_percent"] = _pct(missing, total) if total else 0.0
            result["unexpected_percent_total"] = _pct(unexpected, total) if total else 0.0
            result["unexpected_percent_nonmissing"] = result["unexpected_percent"]
        samples = values.get("__samples", [])
        cols = self.sample_columns()
        vals = [
            s["values"][0] if len(cols) == 1 else dict(zip(cols, s["values"], strict=True)) for s in samples
        ]
        result["partial_unexpected_list"] = vals
        result["partial_unexpected_index_list"] = [
            {**s["key"], **dict(zip(cols, s["values"], strict=True))} for s in samples
        ]
        result["observed_value"] = None
        return success, result


class NotNull(MapExpectation):
    include_nulls = True

    def condition(self) -> exp.Expr:
        return col(self.kw["column"]).is_(exp.null())


class IsNull(MapExpectation):
    include_nulls = True

    def condition(self) -> exp.Expr:
        return col(self.kw["column"]).is_(exp.null()).not_()


class Unique(MapExpectation):
    """Exact: duplicates are counted by a grouped sub-query in the extra query (never approximated)."""

    needs_full_scan = True

    def exact_unexpected(self) -> bool:
        return True

    def _groups(self) -> exp.Select:
        c = self.kw["column"]
        rows = self.ctx.source().where(col(c).is_(exp.null()).not_())
        candidates = repeated_key(self.ctx, [col(c)], rows)
        if candidates is not None:
            rows = rows.where(candidates)
        return (
            rows.select(exp.Count(this=exp.Star()).as_("n"))
            .group_by(col(c))
            .having(exp.Count(this=exp.Star()) > 1)
        )

    def extras(self) -> dict[str, exp.Expr]:
        if carries_offenders(self.ctx):
            return {}
        total = exp.select(exp.Sum(this=exp.column("n"))).from_(self._groups().subquery("g"))
        return {"unexpected": total.subquery()}

    def extra_row(self) -> exp.Select | None:
        """The duplicate count and the first duplicated values in key order, from one grouped pass."""
        if not carries_offenders(self.ctx):
            return None
        c, key = self.kw["column"], self.ctx.order[0]
        first_key = col(c) if key == c else exp.Min(this=col(key))  # a key column's own value: no MIN
        groups = self._groups().select(col(c).as_("v"), first_key.as_("k"))
        return offender_row(groups)

    def sample_predicate(self, values: dict[str, Any], limit: int | None) -> exp.Expr | None:
        return offender_predicate(self, values, limit)

    def condition(self) -> exp.Expr:
        """A value among the duplicated ones (a hash semi-join, not a window over every row)."""
        c = self.kw["column"]
        dups = (
            self.ctx.source()
            .select(col(c))
            .where(col(c).is_(exp.null()).not_())
            .group_by(col(c))
            .having(exp.Count(this=exp.Star()) > 1)
        )
        return col(c).isin(query=dups)


class Between(MapExpectation):
    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        family = self.ctx.family(c)
        if family == "string" and any(
            isinstance(self.kw.get(k), int | float) for k in ("min_value", "max_value")
        ):
            raise InputError("numeric bounds on a string column")
        check_bounds(self.kw)
        return range_condition(col(c), self.kw, family)


def _set_literals(values: list[Any], family: str) -> list[exp.Expr]:
    return [typed_lit(v, family) for v in values if v is not None]


class InSet(MapExpectation):
    negate = False

    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        value_set = self.kw.get("value_set")
        if value_set is None and self.negate:
            raise InputError("value_set is required")
        value_set = value_set or []
        if not isinstance(value_set, list | tuple | set):
            raise InputError("value_set must be a list")
        items = _set_literals(list(value_set), self.ctx.family(c))
        member: exp.Expr = col(c).isin(*items) if items else exp.false()
        return member if self.negate else exp.Not(this=member)


class NotInSet(InSet):
    negate = True


def _regex(ctx: Ctx, c: exp.Expr, pattern: str) -> exp.Expr:
    if not isinstance(pattern, str):
        return exp.RegexpLike(this=c, expression=lit(pattern))
    return ctx.traits.full_match(c, pattern)


def _text(name: str, ctx_family: str) -> exp.Expr:
    c: exp.Expr = col(name)
    return c if ctx_family == "string" else exp.cast(c, "VARCHAR")


class MatchRegex(MapExpectation):
    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        return exp.Not(this=_regex(self.ctx, _text(c, self.ctx.family(c)), self.kw["regex"]))


class NotMatchRegex(MapExpectation):
    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        return _regex(self.ctx, _text(c, self.ctx.family(c)), self.kw["regex"])


def _combine(parts: list[exp.Expr], match_on: str) -> exp.Expr:
    if not parts:
        raise InputError("the pattern list must not be empty")
    return exp.and_(*parts) if match_on == "all" else exp.or_(*parts)


class MatchRegexList(MapExpectation):
    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        parts = [_regex(self.ctx, _text(c, self.ctx.family(c)), r) for r in self.kw["regex_list"]]
        return exp.Not(this=exp.paren(_combine(parts, self.kw.get("match_on", "any"))))


class NotMatchRegexList(MapExpectation):
    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        return _combine(
            [_regex(self.ctx, _text(c, self.ctx.family(c)), r) for r in self.kw["regex_list"]], "any"
        )


class MatchLike(MapExpectation):
    def condition(self) -> exp.Expr:
        return exp.Not(
            this=exp.Like(
                this=_text(self.kw["column"], self.ctx.family(self.kw["column"])),
                expression=lit(self.kw["like_pattern"]),
            )
        )


class NotMatchLike(MapExpectation):
    def condition(self) -> exp.Expr:
        return exp.Like(
            this=_text(self.kw["column"], self.ctx.family(self.kw["column"])),
            expression=lit(self.kw["like_pattern"]),
        )


class MatchLikeList(MapExpectation):
    def condition(self) -> exp.Expr:
        parts: list[exp.Expr] = [
            exp.Like(this=_text(self.kw["column"], self.ctx.family(self.kw["column"])), expression=lit(p))
            for p in self.kw["like_pattern_list"]
        ]
        return exp.Not(this=exp.paren(_combine(parts, self.kw.get("match_on", "any"))))


class NotMatchLikeList(MapExpectation):
    def condition(self) -> exp.Expr:
        parts: list[exp.Expr] = [
            exp.Like(this=_text(self.kw["column"], self.ctx.family(self.kw["column"])), expression=lit(p))
            for p in self.kw["like_pattern_list"]
        ]
        return _combine(parts, "any")


class LengthsBetween(MapExpectation):
    def condition(self) -> exp.Expr:
        for k in ("min_value", "max_value"):
            v = self.kw.get(k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise InputError(f"{k} must be an integer")
        return range_condition(exp.Length(this=col(self.kw["column"])), self.kw, "int")


class LengthsEqual(MapExpectation):
    def condition(self) -> exp.Expr:
        return exp.NEQ(this=exp.Length(this=col(self.kw["column"])), expression=lit(self.kw["value"]))


class Monotonic(MapExpectation):
    """Increasing / decreasing in row order (the dataset key): compares each value with the previous one."""

    decreasing: ClassVar[bool] = False
    needs_full_scan = True

    def check(self) -> None:
        super().check()
        if not self.ctx.order:
            raise Unsupported("needs a row order: declare the dataset's key")

    def exact_unexpected(self) -> bool:
        return True

    @property
    def _prev(self) -> str:
        return f"__prev_{self.kw['column']}"

    def derived(self) -> dict[str, exp.Expr]:
        c = self.kw["column"]
        order = exp.Order(expressions=[exp.Ordered(this=col(k)) for k in self.ctx.order])
        # previous NON-NULL value: partitioning by nullness skips the nulls (no IGNORE NULLS on PostgreSQL)
        nulls = exp.paren(col(c).is_(exp.null()))
        lag = exp.Anonymous(this="LAG", expressions=[col(c)])
        return {self._prev: exp.Window(this=lag, partition_by=[nulls], order=order)}

    def aggregates(self) -> dict[str, Metric]:
        nonnull = exp.Count(this=col(self.kw["column"]))
        return {
            "element_count": Metric(exp.Count(this=exp.Star()), "sum"),
            "considered": Metric(nonnull, "sum"),
        }

    def unexpected(self) -> exp.Expr | None:
        prev = exp.column(self._prev, quoted=True)
        cond = exp.paren(self.condition())  # NULL counts as not unexpected (CASE/WHERE)
        return exp.and_(col(self.kw["column"]).is_(exp.null()).not_(), prev.is_(exp.null()).not_(), cond)

    def condition(self) -> exp.Expr:
        c, prev = col(self.kw["column"]), exp.column(self._prev, quoted=True)
        strictly = bool(self.kw.get("strictly"))
        if self.decreasing:
            return exp.GTE(this=c, expression=prev) if strictly else exp.GT(this=c, expression=prev)
        return exp.LTE(this=c, expression=prev) if strictly else exp.LT(this=c, expression=prev)

    def extras(self) -> dict[str, exp.Expr]:
        c = self.kw["column"]
        inner = self.ctx.source().select(col(c), *[v.as_(k, quoted=True) for k, v in self.derived().items()])
        inner = inner.where(col(c).is_(exp.null()).not_())
        pred = exp.and_(exp.column(self._prev, quoted=True).is_(exp.null()).not_(), self.condition())
        return {"unexpected": exp.select(count_if(pred)).from_(inner.subquery("w")).subquery()}


class Increasing(Monotonic):
    pass


class Decreasing(Monotonic):
    decreasing = True


class ZScores(MapExpectation):
    """|x - mean| / stdev below `threshold`: mean and stdev from a window (samples) or a joined
    aggregate (the count, in the extra query) — two passes, so it needs a full scan."""

    needs_full_scan = True

    def exact_unexpected(self) -> bool:
        return True

    def _z(self, mean: exp.Expr, sd: exp.Expr) -> exp.Expr:
        z: exp.Expr = exp.Div(
            this=exp.paren(exp.Sub(this=exp.cast(col(self.kw["column"]), "DOUBLE"), expression=mean)),
            expression=sd,
        )
        if self.kw.get("double_sided", True):
            z = exp.Abs(this=z)
        return z

    def _cond(self, mean: exp.Expr, sd: exp.Expr) -> exp.Expr:
        return exp.Not(this=exp.LT(this=self._z(mean, sd), expression=lit(self.kw["threshold"])))

    def derived(self) -> dict[str, exp.Expr]:
        x = exp.cast(col(self.kw["column"]), "DOUBLE")
        c = self.kw["column"]
        return {
            f"__mean_{c}": exp.Window(this=exp.Avg(this=x)),
            f"__sd_{c}": exp.Window(this=exp.StddevSamp(this=x.copy())),
        }

    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        return self._cond(exp.column(f"__mean_{c}", quoted=True), exp.column(f"__sd_{c}", quoted=True))

    def extras(self) -> dict[str, exp.Expr]:
        c = col(self.kw["column"])
        x = exp.cast(c, "DOUBLE")
        stats = self.ctx.source().select(
            exp.Avg(this=x).as_("mu", quoted=True), exp.StddevSamp(this=x.copy()).as_("sd", quoted=True)
        )
        mean, sd = exp.column("mu", table="st", quoted=True), exp.column("sd", table="st", quoted=True)
        counted = (
            self.ctx.source()
            .select(
                count_if(
                    exp.and_(
                        c.copy().is_(exp.null()).not_(),
                        self._cond(mean, sd),
                    )
                )
            )
            .join(stats.subquery("st"), join_type="CROSS")
        )
        return {"unexpected": counted.subquery()}


class StrftimeFormat(MapExpectation):
    def condition(self) -> exp.Expr:
        c = self.kw["column"]
        fails = self.ctx.traits.strptime_fails(_text(c, self.ctx.family(c)), self.kw["strftime_format"])
        if fails is None:
            raise Unsupported(f"strftime formats are only evaluated on duckdb, not {self.ctx.dialect}")
        if self.ctx.family(c) != "string":
            raise InputError(f"column {c} does not hold strings; strftime formats apply to strings")
        return fails


class JsonParseable(MapExpectation):
    def condition(self) -> exp.Expr:
        if self.ctx.family(self.kw["column"]) != "string":
            return exp.true()  # a non-string value is not a JSON document
        invalid = self.ctx.traits.json_invalid(col(self.kw["column"]))
        if invalid is None:
            raise Unsupported(f"JSON parsing is not evaluated on {self.ctx.dialect}")
        return invalid


# ---- column type (an observed value, not a map, for SQL engines as in GX) ------------------------

_ALIASES = {
    "int": {
        "int",
        "integer",
        "int32",
        "int4",
        "integertype",
        "int64",
        "int8",
        "bigint",
        "biginttype",
        "longtype",
        "smallint",
        "int16",
        "int2",
        "tinyint",
        "shorttype",
        "bytetype",
        "long",
        "hugeint",
    },
    "float": {
        "float",
        "double",
        "real",
        "float64",
        "float32",
        "float8",
        "float4",
        "doubletype",
        "floattype",
        "double precision",
        "double_precision",
    },
    "string": {"str", "string", "varchar", "text", "stringtype", "object", "char"},
    "bool": {"bool", "boolean", "booleantype"},
    "timestamp": {"timestamp", "datetime", "datetime64", "timestamptype", "datetime64[ns]", "timestamp_ntz"},
    "date": {"date", "datetype"},
    "decimal": {"decimal", "numeric", "decimaltype"},
}


def type_matches(expected: str, actual: str) -> bool:
    """Whether engine type `actual` is what `expected` (a GX / SQL / Spark / numpy type name) asks for."""
    e, a = expected.lower().strip(), actual.lower().strip()
    if e == a or a.split("(")[0] == e:
        return True
    specific_int = {"bigint": "int64", "integer": "int32", "smallint": "int16", "tinyint": "int8"}
    if e in ("int", "integer", "integertype"):
        return type_family(a) == "int"  # SQL INTEGER / pandas int: any integer width
    if e in ("int32", "int4"):
        return a.split("(")[0] in ("integer", "int", "int4", "int32")
    if e in ("bigint", "int64", "int8", "biginttype", "longtype", "long"):
        return a.split("(")[0] in ("bigint", "int8", "int64", "long")
    if e in specific_int:
        return a.split("(")[0] == e
    for family, names in _ALIASES.items():
        if e in names:
            return type_family(a) == family
    return False


class OfType(Expectation):
    family: ClassVar[str] = "column_map"

    def check(self) -> None:
        self.need_column(self.kw["column"])

    def expected(self) -> list[str]:
        return [str(self.kw["type_"])]

    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        actual = self.ctx.columns[self.kw["column"]]
        ok = any(type_matches(t, actual) for t in self.expected())
        return ok, {"observed_value": actual.upper()}


class InTypeList(OfType):
    def expected(self) -> list[str]:
        return [str(t) for t in self.kw.get("type_list") or []]

    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        if not self.kw.get("type_list"):
            return True, {"observed_value": self.ctx.columns[self.kw["column"]].upper()}
        return super().evaluate(values)


IMPLS: dict[str, type[Expectation]] = {
    "expect_column_values_to_not_be_null": NotNull,
    "expect_column_values_to_be_null": IsNull,
    "expect_column_values_to_be_unique": Unique,
    "expect_column_values_to_be_between": Between,
    "expect_column_values_to_be_in_set": InSet,
    "expect_column_values_to_not_be_in_set": NotInSet,
    "expect_column_values_to_match_regex": MatchRegex,
    "expect_column_values_to_not_match_regex": NotMatchRegex,
    "expect_column_values_to_match_regex_list": MatchRegexList,
    "expect_column_values_to_not_match_regex_list": NotMatchRegexList,
    "expect_column_values_to_match_like_pattern": MatchLike,
    "expect_column_values_to_not_match_like_pattern": NotMatchLike,
    "expect_column_values_to_match_like_pattern_list": MatchLikeList,
    "expect_column_values_to_not_match_like_pattern_list": NotMatchLikeList,
    "expect_column_value_lengths_to_be_between": LengthsBetween,
    "expect_column_value_lengths_to_equal": LengthsEqual,
    "expect_column_values_to_be_increasing": Increasing,
    "expect_column_values_to_be_decreasing": Decreasing,
    "expect_column_values_to_match_strftime_format": StrftimeFormat,
    "expect_column_values_to_be_json_parseable": JsonParseable,
    "expect_column_value_z_scores_to_be_less_than": ZScores,
    "expect_column_values_to_be_of_type": OfType,
    "expect_column_values_to_be_in_type_list": InTypeList,
}
