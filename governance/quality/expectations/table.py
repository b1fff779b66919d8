"""Table expectations: row count (in the fused scan) and schema checks (from the engine's metadata)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp

from governance.errors import InputError
from governance.quality.expectations.base import Expectation, Metric, check_bounds, in_range


def _check_count_args(kw: dict[str, Any]) -> None:
    if "value" in kw:
        if not isinstance(kw["value"], int) or isinstance(kw["value"], bool):
            raise InputError("value must be an integer")
        return
    for k in ("min_value", "max_value"):
        v = kw.get(k)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise InputError(f"{k} must be an integer")
    check_bounds(kw)


class RowCount(Expectation):
    family: ClassVar[str] = "table"

    def check(self) -> None:
        _check_count_args(self.kw)

    def aggregates(self) -> dict[str, Metric]:
        return {"value": Metric(exp.Count(this=exp.Star()), "sum")}

    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        n = int(values["value"] or 0)
        if "value" in self.kw:
            return n == self.kw["value"], {"observed_value": n}
        return in_range(n, self.kw), {"observed_value": n}


class ColumnCount(Expectation):
    def check(self) -> None:
        _check_count_args(self.kw)

    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        n = len(self.ctx.columns)
        if "value" in self.kw:
            return n == self.kw["value"], {"observed_value": n}
        return in_range(n, self.kw), {"observed_value": n}


class ColumnsMatchSet(Expectation):
    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        observed = list(self.ctx.columns)
        want = set(self.kw.get("column_set") or [])
        got = set(observed)
        exact = self.kw.get("exact_match", True)
        ok = got == want if exact in (True, None) else want <= got
        details = {
            "mismatched": {
                k: sorted(v) for k, v in (("unexpected", got - want), ("missing", want - got)) if v
            }
        }
        result: dict[str, Any] = {"observed_value": sorted(observed)}
        if not ok:
            result["details"] = details
        return ok, result


class ColumnsMatchOrderedList(Expectation):
    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        observed = list(self.ctx.columns)
        if self.kw.get("column_list") is None:
            return True, {"observed_value": observed}
        want = list(self.kw["column_list"])
        ok = observed == want
        result: dict[str, Any] = {"observed_value": observed}
        if not ok:
            mismatched = [
                {
                    "Expected Column Position": i,
                    "Expected": want[i] if i < len(want) else None,
                    "Found": observed[i] if i < len(observed) else None,
                }
                for i in range(max(len(want), len(observed)))
                if (want[i] if i < len(want) else None) != (observed[i] if i < len(observed) else None)
            ]
            result["details"] = {"mismatched": mismatched}
        return ok, result


class ColumnExists(Expectation):
    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        names = list(self.ctx.columns)
        column = self.kw["column"]
        if column not in names:
            return False, {}
        index = self.kw.get("column_index")
        if index is not None:
            if not isinstance(index, int):
                raise InputError("column_index must be an integer")
            return names.index(column) == index, {}
        return True, {}


IMPLS: dict[str, type[Expectation]] = {
    "expect_table_row_count_to_be_between": RowCount,
    "expect_table_row_count_to_equal": RowCount,
    "expect_table_column_count_to_be_between": ColumnCount,
    "expect_table_column_count_to_equal": ColumnCount,
    "expect_table_columns_to_match_set": ColumnsMatchSet,
    "expect_table_columns_to_match_ordered_list": ColumnsMatchOrderedList,
    "expect_column_to_exist": ColumnExists,
}
