"""Our two extensions, named in GX style: referential integrity and freshness of a column's maximum."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlglot import exp

from governance.durations import parse_duration
from governance.errors import InputError
from governance.quality.expectations.base import (
    Expectation,
    Metric,
    Unsupported,
    carries_offenders,
    col,
    offender_predicate,
    offender_row,
    parse_datetime,
    to_py,
)
from governance.quality.expectations.column_map import MapExpectation


class ExistIn(MapExpectation):
    """Every non-null value of `column` exists in `other_column` of `dataset` (an anti-join, exact)."""

    family: ClassVar[str] = "extension"
    needs_full_scan = True

    def check(self) -> None:
        super().check()
        if self.ctx.other is None:
            raise Unsupported("referential integrity needs the other dataset on the same engine")

    def exact_unexpected(self) -> bool:
        return True

    def _lookup(self) -> exp.Select:
        assert self.ctx.other is not None
        other = self.ctx.other(self.kw["dataset"])
        oc = col(self.kw["other_column"])
        return exp.select(oc).from_(other).where(oc.copy().is_(exp.null()).not_())

    def condition(self) -> exp.Expr:
        return exp.Not(this=col(self.kw["column"]).isin(query=self._lookup()))

    def _orphans(self) -> exp.Select:
        c = col(self.kw["column"])
        return (
            self.ctx.source()
            .where(c.is_(exp.null()).not_())
            .where(exp.Not(this=c.copy().isin(query=self._lookup())))
        )

    def extras(self) -> dict[str, exp.Expr]:
        if carries_offenders(self.ctx):
            return {}
        return {"unexpected": self._orphans().select(exp.Count(this=exp.Star())).subquery()}

    def extra_row(self) -> exp.Select | None:
        """The orphan row count and the first orphan values in key order, from one pass over the orphans."""
        if not carries_offenders(self.ctx):
            return None
        c, key = col(self.kw["column"]), self.ctx.order[0]
        first_key = exp.Min(this=col(key))
        rows = self._orphans()
        if key != self.kw["column"] and self.ctx.traits.rescans_cheaply:
            rows = self._orphan_rows()
        groups = rows.select(c.as_("v"), exp.Count(this=exp.Star()).as_("n"), first_key.as_("k")).group_by(
            c.copy()
        )
        return offender_row(groups)

    def _orphan_rows(self) -> exp.Select:
        """The orphan rows as the rows holding an orphan value, found by a pass that reads the column
        alone: the anti-join then carries no key column past every row, and the second pass stops at
        once when there is no orphan (a semi-join on nothing). The same rows as `_orphans()`."""
        c = col(self.kw["column"])
        values = self._orphans().select(c.copy())
        return self.ctx.source().where(c.is_(exp.null()).not_()).where(c.copy().isin(query=values))

    def sample_predicate(self, values: dict[str, Any], limit: int | None) -> exp.Expr | None:
        return offender_predicate(self, values, limit)


class MaxRecent(Expectation):
    """MAX(column) is no older than `max_lag` (ISO-8601 duration) at run time."""

    family: ClassVar[str] = "extension"

    def check(self) -> None:
        self.need_column(self.kw["column"])
        try:
            self.lag = parse_duration(self.kw["max_lag"])
        except (ValueError, InputError) as exc:
            raise InputError(f"max_lag must be an ISO-8601 duration: {exc}") from exc

    def aggregates(self) -> dict[str, Metric]:
        return {"value": Metric(exp.Max(this=col(self.kw["column"])), "max")}

    def evaluate(self, values: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        raw = values["value"]
        if raw is None:
            return False, {"observed_value": None}
        latest = raw if isinstance(raw, dt.datetime) else parse_datetime(str(to_py(raw)))
        if not isinstance(latest, dt.datetime):
            latest = dt.datetime(latest.year, latest.month, latest.day)
        if latest.tzinfo is None:
            latest = latest.replace(tzinfo=dt.UTC)
        lag = self.ctx.now - latest
        ok = lag <= self.lag
        return ok, {
            "observed_value": to_py(raw),
            "details": {
                "lag_minutes": round(lag.total_seconds() / 60, 1),
                "max_lag_minutes": self.lag.total_seconds() / 60,
            },
        }


IMPLS: dict[str, type[Expectation]] = {
    "expect_column_values_to_exist_in": ExistIn,
    "expect_column_max_to_be_recent": MaxRecent,
}
