"""Partition calendars: values of every shape, gaps per grain (an absent period leaves no row)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from governance.monitor.partitions import missing, parse_partition_value


def test_values_of_every_shape() -> None:
    day = datetime(2026, 10, 12, tzinfo=UTC)
    for value in (
        date(2026, 10, 12),
        "2026-10-12",
        "20261012",
        datetime(2026, 10, 12, 17, 5),
        "2026-10-12 17:05:00",
    ):
        assert parse_partition_value(value, "day") == day
    assert parse_partition_value("2026-10", "month") == datetime(2026, 10, 1, tzinfo=UTC)
    assert parse_partition_value("2026-10-12T03", "hour") == datetime(2026, 10, 12, 3, tzinfo=UTC)
    assert parse_partition_value("north", "day") is None and parse_partition_value(None, "day") is None


def test_gaps_per_grain() -> None:
    days = [parse_partition_value(d, "day") for d in ("2026-10-10", "2026-10-13", "2026-10-11")]
    assert missing([d for d in days if d], "day") == ["2026-10-12"]
    months = [parse_partition_value(m, "month") for m in ("2025-11", "2026-02")]
    assert missing([m for m in months if m], "month") == ["2025-12", "2026-01"]
    hours = [parse_partition_value(h, "hour") for h in ("2026-10-12T22", "2026-10-13T01")]
    assert missing([h for h in hours if h], "hour") == ["2026-10-12T23", "2026-10-13T00"]
    assert missing([], "day") == []
