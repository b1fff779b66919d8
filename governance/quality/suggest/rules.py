"""One function per kind of suggestion. Each reads the profile and returns what it proposes.

A rule returns a `Suggestion` when the profile alone settles it (no nulls seen, every value unique, a
closed value set, one string shape, no orphan key), or a `Pending` when the bounds come from a
per-partition history and wait for their share of the false-alarm budget.

Every suggestion holds on the table it was learned from, both as a whole and per partition (row count:
a lower bound only, since a table holds many partitions), so a suite validates a whole table or
`--partition` alike. Nothing here reads a value of a PII column: no value set, range or mean for one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from governance.quality.suggest.bounds import MIN_HISTORY, Interval
from governance.quality.suggest.profile import MAX_SET, ColumnProfile, Profile
from governance.quality.suggest.shapes import alternation

MIN_UNIQUE_ROWS = 20  # fewer non-null rows: uniqueness may be chance
ROWS_PER_VALUE = 10  # a value set needs on average this many rows per value


@dataclass
class Suggestion:
    type: str
    kwargs: dict[str, Any]
    evidence: str


@dataclass
class Pending:
    """Bounds from histories: (series, side) pairs, side "lower" | "upper" | "both"; `make` builds the
    suggestion from their intervals (None where a series has no bound)."""

    series: list[tuple[list[float], str]]
    make: Callable[[list[Interval | None]], Suggestion | None]
    extreme: bool = False  # the series are per-partition minima/maxima

    @property
    def sides(self) -> int:
        return sum(2 if side == "both" else 1 for _, side in self.series)


@dataclass
class Facts:
    profile: Profile
    key: list[str] = field(default_factory=list)
    row_history: dict[str, float] = field(default_factory=dict)  # partition → rows (metric store + profile)
    table_rows_history: list[float] = field(default_factory=list)  # rows_validated of past runs

    @property
    def partitioned(self) -> bool:
        return self.profile.partition is not None and len(self.profile.partitions) >= MIN_HISTORY

    def series(self, pick: Callable[[Any], float | None]) -> list[float]:
        out = [pick(p) for p in self.profile.partitions]
        return [v for v in out if v is not None]

    def over(self) -> str:
        n = len(self.profile.partitions)
        return f" over {n} partitions" if self.profile.partition else ""


Proposal = Suggestion | Pending


def _down(x: float, integer: bool) -> float | int:
    if integer:
        return math.floor(x)
    q = 10 ** (math.floor(math.log10(abs(x))) - 5) if x else 1
    return float(f"{math.floor(x / q) * q:.12g}")


def _up(x: float, integer: bool) -> float | int:
    return -_down(-x, integer)


def _n(x: int) -> str:
    return f"{x:,}"


# --- table ------------------------------------------------------------------------------------------


def row_count(f: Facts) -> list[Proposal]:
    if f.partitioned:
        counts = [f.row_history[k] for k in sorted(f.row_history)]

        def make(iv: list[Interval | None]) -> Suggestion | None:
            lo = iv[0]
            if lo is None or lo.lower is None:
                return None
            return Suggestion(
                "expect_table_row_count_to_be_between",
                {"min_value": max(1, math.floor(lo.lower))},
                f"rows per partition: {lo.describe()}; lower bound only (a table holds many partitions)",
            )

        return [Pending([(counts, "lower")], make)]
    if len(f.table_rows_history) >= MIN_HISTORY:

        def make_table(iv: list[Interval | None]) -> Suggestion | None:
            lo = iv[0]
            if lo is None or lo.lower is None:
                return None
            return Suggestion(
                "expect_table_row_count_to_be_between",
                {"min_value": max(1, math.floor(lo.lower))},
                f"rows of past quality runs (metric history): {lo.describe()}",
            )

        return [Pending([(f.table_rows_history, "lower")], make_table)]
    return [
        Suggestion(
            "expect_table_row_count_to_be_between",
            {"min_value": 1},
            f"the table has {_n(f.profile.rows)} rows; no history to bound its volume",
        )
    ]


# --- columns ----------------------------------------------------------------------------------------


def not_null(f: Facts, c: ColumnProfile) -> list[Proposal]:
    rows = f.profile.rows
    if not rows or not c.non_null:
        return []
    nulls = rows - c.non_null
    if nulls == 0:
        return [
            Suggestion(
                "expect_column_values_to_not_be_null",
                {"column": c.name},
                f"0 nulls in {_n(rows)} rows{f.over()}",
            )
        ]
    if f.partitioned:
        fractions = f.series(lambda p: 1 - p.non_null[c.name] / p.rows if p.rows else None)

        def make(iv: list[Interval | None]) -> Suggestion | None:
            hi = iv[0]
            if hi is None or hi.upper is None:
                return None
            mostly = math.floor((1 - hi.upper) * 10_000) / 10_000
            if mostly <= 0:
                return None
            return Suggestion(
                "expect_column_values_to_not_be_null",
                {"column": c.name, "mostly": mostly},
                f"null fraction per partition: {hi.describe()}",
            )

        return [Pending([(fractions, "upper")], make)]
    mostly = math.floor(c.non_null / rows * 1000) / 1000
    if mostly <= 0:
        return []
    return [
        Suggestion(
            "expect_column_values_to_not_be_null",
            {"column": c.name, "mostly": mostly},
            f"{_n(nulls)} nulls in {_n(rows)} rows",
        )
    ]


def _unique(c: ColumnProfile) -> bool:
    return c.kind in ("string", "integer") and c.non_null >= MIN_UNIQUE_ROWS and c.distinct == c.non_null


def unique(f: Facts, c: ColumnProfile) -> list[Proposal]:
    if c.name == f.profile.partition or not _unique(c):
        return []
    return [
        Suggestion(
            "expect_column_values_to_be_unique",
            {"column": c.name},
            f"{_n(c.non_null)} distinct values in {_n(c.non_null)} non-null rows",
        )
    ]


def _has_set(f: Facts, c: ColumnProfile) -> bool:
    return (
        not c.pii
        and c.value_set is not None
        and 0 < len(c.value_set) <= MAX_SET
        and c.non_null >= ROWS_PER_VALUE * len(c.value_set)
        and c.name != f.profile.partition
        and not _unique(c)
    )


def value_set(f: Facts, c: ColumnProfile) -> list[Proposal]:
    if not _has_set(f, c):
        return []
    assert c.value_set is not None
    return [
        Suggestion(
            "expect_column_values_to_be_in_set",
            {"column": c.name, "value_set": list(c.value_set)},
            f"{len(c.value_set)} distinct values in {_n(c.non_null)} non-null rows{f.over()}",
        )
    ]


def pattern(f: Facts, c: ColumnProfile) -> list[Proposal]:
    if c.kind != "string" or not c.non_null or _has_set(f, c) or c.length_max is None:
        return []
    fine = (c.fine_shapes, c.fine_range, True, "fine")
    coarse = (c.coarse_shapes, c.coarse_range, False, "coarse")
    # one exact shape (lengths kept), else at most two shapes of runs (lengths free)
    for count, bounds, is_fine, name in (fine, coarse):
        if count is None or bounds is None or count > (1 if is_fine else 2):
            continue
        regex = alternation(list(bounds), is_fine)
        if regex is not None:
            return [
                Suggestion(
                    "expect_column_values_to_match_regex",
                    {"column": c.name, "regex": regex},
                    f"all {_n(c.non_null)} non-null values have {count} {name} shape(s)",
                )
            ]
    assert c.length_min is not None
    kwargs: dict[str, Any] = {"column": c.name, "max_value": 2 * c.length_max}
    if c.length_min >= 1:
        kwargs["min_value"] = c.length_min
    return [
        Suggestion(
            "expect_column_value_lengths_to_be_between",
            kwargs,
            f"lengths {c.length_min}..{c.length_max} in {_n(c.non_null)} values (too many shapes for a "
            f"pattern); the upper bound is twice the longest",
        )
    ]


def _measured(f: Facts, c: ColumnProfile) -> bool:
    """A numeric column whose values we may bound: not PII, not an identifier, not the partition."""
    return (
        c.kind in ("integer", "number")
        and not c.pii
        and c.non_null > 0
        and c.name != f.profile.partition
        and c.name not in f.key
        and not c.orphans
        and not _unique(c)
        and not _has_set(f, c)
    )


def value_range(f: Facts, c: ColumnProfile) -> list[Proposal]:
    if not _measured(f, c):
        return []
    integer = c.kind == "integer"
    if f.partitioned:
        lows = f.series(lambda p: None if p.minimum.get(c.name) is None else float(p.minimum[c.name]))
        highs = f.series(lambda p: None if p.maximum.get(c.name) is None else float(p.maximum[c.name]))
        signed = min(lows) >= 0 if lows else False

        def make(iv: list[Interval | None]) -> Suggestion | None:
            lo, hi = iv
            kwargs: dict[str, Any] = {"column": c.name}
            why = []
            if lo is not None and lo.lower is not None:
                low = max(lo.lower, 0.0) if signed else lo.lower
                kwargs["min_value"] = _down(low, integer)
                why.append(f"min per partition: {lo.describe()}" + ("; never negative" if signed else ""))
            if hi is not None and hi.upper is not None:
                kwargs["max_value"] = _up(hi.upper, integer)
                why.append(f"max per partition: {hi.describe()}")
            if len(kwargs) == 1:
                return None
            return Suggestion("expect_column_values_to_be_between", kwargs, "; ".join(why))

        return [Pending([(lows, "lower"), (highs, "upper")], make, extreme=True)]
    return [
        Suggestion(
            "expect_column_values_to_be_between",
            {
                "column": c.name,
                "min_value": _down(float(c.minimum), integer),
                "max_value": _up(float(c.maximum), integer),
            },
            f"observed range of {_n(c.non_null)} values (no partition history: not widened)",
        )
    ]


def mean(f: Facts, c: ColumnProfile) -> list[Proposal]:
    if not _measured(f, c) or not f.partitioned:
        return []
    means = f.series(lambda p: p.mean.get(c.name))

    def make(iv: list[Interval | None]) -> Suggestion | None:
        b = iv[0]
        if b is None or b.lower is None or b.upper is None:
            return None
        return Suggestion(
            "expect_column_mean_to_be_between",
            {"column": c.name, "min_value": _down(b.lower, False), "max_value": _up(b.upper, False)},
            f"mean per partition: {b.describe()}",
        )

    return [Pending([(means, "both")], make)]


def partition_window(f: Facts, c: ColumnProfile) -> list[Proposal]:
    part = f.profile.partition
    if not f.partitioned or part is None or c.kind != "temporal" or c.name == part or not c.non_null:
        return []
    early = f.series(lambda p: p.before_partition.get(c.name))
    if len(early) != len(f.profile.partitions) or any(early):
        return []
    return [
        Suggestion(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": c.name, "column_B": part, "or_equal": True},
            f"no value before its partition's {part} in {len(early)} partitions",
        )
    ]


def foreign_key(f: Facts, c: ColumnProfile) -> list[Proposal]:
    out: list[Proposal] = []
    for target, orphans in sorted(c.orphans.items()):
        if orphans:
            continue
        dataset, _, other = target.rpartition(".")
        out.append(
            Suggestion(
                "expect_column_values_to_exist_in",
                {"column": c.name, "dataset": dataset, "other_column": other},
                f"every one of {_n(c.non_null)} non-null values is a {target} (its declared key)",
            )
        )
    return out


COLUMN_RULES: tuple[Callable[[Facts, ColumnProfile], list[Proposal]], ...] = (
    not_null,
    unique,
    value_set,
    pattern,
    foreign_key,
    value_range,
    mean,
    partition_window,
)
TABLE_RULES: tuple[Callable[[Facts], list[Proposal]], ...] = (row_count,)
