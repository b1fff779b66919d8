"""Multi-column expectations: row predicates over several columns (with GX's `ignore_row_if`)."""

from __future__ import annotations

from itertools import combinations
from typing import Any, ClassVar

from sqlglot import exp

from governance.errors import InputError
from governance.quality.expectations.base import Expectation, col, repeated_key, typed_lit
from governance.quality.expectations.column_map import MapExpectation

_IGNORE = {
    "both_values_are_missing": "all",
    "all_values_are_missing": "all",
    "either_value_is_missing": "any",
    "any_value_is_missing": "any",
    "neither": "none",
    "never": "none",
}


def not_true(cond: exp.Expr, columns: list[str]) -> exp.Expr:
    """TRUE unless `cond` is TRUE (a NULL operand makes it unknown, hence unexpected) — without
    COALESCE over a boolean, which T-SQL cannot express."""
    return exp.or_(exp.Not(this=exp.paren(cond)), *[col(c).is_(exp.null()) for c in columns])


class MultiColumn(MapExpectation):
    family: ClassVar[str] = "multicolumn"
    default_ignore: ClassVar[str] = "all_values_are_missing"

    def columns(self) -> list[str]:
        if "column_list" in self.kw:
            cols = list(self.kw["column_list"] or [])
            if len(cols) < 2 and type(self) is not SumEqual:
                raise InputError("column_list needs at least two columns")
            return cols
        return [self.kw["column_A"], self.kw["column_B"]]

    def domain(self) -> exp.Expr | None:
        mode = _IGNORE.get(self.kw.get("ignore_row_if") or self.default_ignore)
        if mode is None:
            raise InputError(f"unknown ignore_row_if {self.kw.get('ignore_row_if')!r}")
        nulls = [col(c).is_(exp.null()) for c in self.columns()]
        if mode == "all":
            return exp.Not(this=exp.paren(exp.and_(*nulls)))
        if mode == "any":
            return exp.Not(this=exp.paren(exp.or_(*nulls)))
        return None


class Pair(MultiColumn):
    """Column-pair results list unexpected values as [a, b] pairs, as GX does."""

    default_ignore = "both_values_are_missing"

    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        ok, result = super().evaluate(values)
        result["partial_unexpected_list"] = [
            [v[c] for c in self.columns()] for v in result["partial_unexpected_list"]
        ]
        return ok, result


class PairGreater(Pair):
    default_ignore = "both_values_are_missing"

    def condition(self) -> exp.Expr:
        a, b = col(self.kw["column_A"]), col(self.kw["column_B"])
        ok = exp.GTE(this=a, expression=b) if self.kw.get("or_equal") else exp.GT(this=a, expression=b)
        return not_true(ok, self.columns())


class PairEqual(Pair):
    default_ignore = "both_values_are_missing"

    def condition(self) -> exp.Expr:
        a, b = col(self.kw["column_A"]), col(self.kw["column_B"])
        return not_true(a.eq(b), self.columns())


class PairInSet(Pair):
    default_ignore = "both_values_are_missing"

    def condition(self) -> exp.Expr:
        a_name, b_name = self.kw["column_A"], self.kw["column_B"]
        fa, fb = self.ctx.family(a_name), self.ctx.family(b_name)
        pairs = [
            exp.and_(col(a_name).eq(typed_lit(x, fa)), col(b_name).eq(typed_lit(y, fb)))
            for x, y in self.kw["value_pairs_set"]
        ]
        if not pairs:
            return exp.true()
        return not_true(exp.paren(exp.or_(*pairs)), self.columns())


class SumEqual(MultiColumn):
    def condition(self) -> exp.Expr:
        total: exp.Expr = col(self.columns()[0])
        for c in self.columns()[1:]:
            total = exp.Add(this=total, expression=col(c))
        return not_true(exp.paren(total).eq(typed_lit(self.kw["sum_total"], "")), self.columns())


class UniqueWithinRecord(MultiColumn):
    def condition(self) -> exp.Expr:
        same = [
            col(a).eq(col(b))  # NULL = x is not TRUE: not a repeat
            for a, b in combinations(self.columns(), 2)
        ]
        return exp.or_(*same)


class CompoundUnique(MultiColumn):
    """Exact: duplicate tuples counted by a grouped sub-query in the extra query."""

    needs_full_scan = True

    def exact_unexpected(self) -> bool:
        return True

    def extras(self) -> dict[str, exp.Expr]:
        cols: list[exp.Expr] = [col(c) for c in self.columns()]
        rows = self.ctx.source()
        d = self.domain()
        if d is not None:
            rows = rows.where(d)
        candidates = repeated_key(self.ctx, cols, rows)
        if candidates is not None:
            rows = rows.where(candidates)
        groups = rows.select(exp.Count(this=exp.Star()).as_("n")).group_by(*cols)
        groups = groups.having(exp.Count(this=exp.Star()) > 1)
        return {
            "unexpected": exp.select(exp.Sum(this=exp.column("n"))).from_(groups.subquery("g")).subquery()
        }

    @property
    def _dup(self) -> str:
        return "__dup_" + "_".join(self.columns())

    def derived(self) -> dict[str, exp.Expr]:
        return {
            self._dup: exp.Window(
                this=exp.Count(this=exp.Star()), partition_by=[col(c) for c in self.columns()]
            )
        }

    def condition(self) -> exp.Expr:
        return exp.column(self._dup, quoted=True) > 1


IMPLS: dict[str, type[Expectation]] = {
    "expect_compound_columns_to_be_unique": CompoundUnique,
    "expect_column_pair_values_a_to_be_greater_than_b": PairGreater,
    "expect_column_pair_values_to_be_equal": PairEqual,
    "expect_column_pair_values_to_be_in_set": PairInSet,
    "expect_multicolumn_sum_to_equal": SumEqual,
    "expect_select_column_values_to_be_unique_within_record": UniqueWithinRecord,
}
