"""Partition calendars and arrivals, read from metadata only (Delta log, file listing), never a data scan.

A partition's arrival is the commit that first added one of its current files: delta-rs stamps each added
file's `modificationTime` with its commit's timestamp (other writers a moment before), so each file maps to
the first commit at or after it. The arrival time is that commit's `smartflow.arrived_at` custom metadata
when present, else its timestamp.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from deltalake import DeltaTable

Grain = Literal["day", "month", "hour"]
ARRIVED_AT = "smartflow.arrived_at"
MAINTENANCE = {"OPTIMIZE", "REORG", "RESTORE", "VACUUM START", "VACUUM END", "CONVERT"}


@dataclass(frozen=True)
class Commit:
    version: int
    timestamp: datetime  # when the commit was written
    arrived_at: datetime  # simulated/declared arrival (custom metadata), else the timestamp
    overwrite: bool  # a full (re)load: partitions it adds did not "arrive" then
    declared: bool  # arrived_at came from custom metadata
    maintenance: bool = False  # OPTIMIZE / REORG / RESTORE rewrite files: no data arrives


@dataclass
class Partition:
    start: datetime  # the partition's period start, UTC
    label: str  # as shown: 2026-10-12, 2026-10, 2026-10-12T03
    rows: int = 0
    files: int = 0
    first_added_ms: int | None = None
    commit: Commit | None = None
    commit_partitions: int = 0  # how many partitions that commit added (bulk loads add many)
    extra: dict[str, Any] = field(default_factory=dict)


def parse_partition_value(value: Any, grain: Grain) -> datetime | None:
    """A partition value (date, timestamp, 'YYYY-MM-DD', 'YYYY-MM', 'YYYY-MM-DDTHH') as a UTC period start."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        text = str(value).strip().replace(" ", "T")
        try:
            if len(text) == 7:  # YYYY-MM
                dt = datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)
            elif len(text) == 13:  # YYYY-MM-DDTHH
                dt = datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)
            elif len(text) == 8 and text.isdigit():  # YYYYMMDD
                dt = datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
            else:
                dt = datetime.fromisoformat(text)
                dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        except ValueError:
            return None
    return period_start(dt.astimezone(UTC), grain)


def period_start(dt: datetime, grain: Grain) -> datetime:
    if grain == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    if grain == "month":
        return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def next_period(dt: datetime, grain: Grain) -> datetime:
    if grain == "hour":
        return dt + timedelta(hours=1)
    if grain == "month":
        return dt.replace(year=dt.year + dt.month // 12, month=dt.month % 12 + 1)
    return dt + timedelta(days=1)


_LABELS = {"hour": "%Y-%m-%dT%H", "month": "%Y-%m", "day": "%Y-%m-%d"}


def label(dt: datetime, grain: Grain) -> str:
    return dt.strftime(_LABELS[grain])


def missing(starts: list[datetime], grain: Grain) -> list[str]:
    """Periods absent between the first and the last present one (an absent day leaves no row)."""
    if not starts:
        return []
    present = set(starts)
    out, cur, last = [], min(starts), max(starts)
    while cur < last:
        if cur not in present:
            out.append(label(cur, grain))
        cur = next_period(cur, grain)
    return out


def _utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _parse_time(text: Any) -> datetime | None:
    try:
        dt = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def commits(table: DeltaTable) -> list[Commit]:
    """The commit history (oldest first) with each commit's arrival time."""
    out = []
    for h in table.history():
        ts = _utc_from_ms(int(h.get("timestamp", 0)))
        declared = _parse_time(h[ARRIVED_AT]) if h.get(ARRIVED_AT) else None
        params = h.get("operationParameters") or {}
        mode = str(params.get("mode", "")).lower()
        operation = str(h.get("operation", "")).upper()
        overwrite = mode == "overwrite" or operation.startswith("CREATE OR REPLACE")
        out.append(
            Commit(
                version=int(h.get("version", 0)),
                timestamp=ts,
                arrived_at=declared or ts,
                overwrite=overwrite,
                declared=declared is not None,
                maintenance=operation in MAINTENANCE,
            )
        )
    return sorted(out, key=lambda c: c.version)


def delta_partitions(table: DeltaTable, column: str, grain: Grain) -> list[Partition]:
    """Partitions of a Delta table from its add actions (row counts from file stats), with arrivals."""

    from governance.lake.resolve import add_actions

    actions = add_actions(table)
    key = f"partition.{column}"
    if key not in actions.column_names:
        raise KeyError(column)
    by_start: dict[datetime, Partition] = {}
    values = actions.column(key).to_pylist()
    records = (
        actions.column("num_records").to_pylist()
        if "num_records" in actions.column_names
        else [0] * len(values)
    )
    mtimes = actions.column("modification_time").to_pylist()
    for value, rows, mtime in zip(values, records, mtimes, strict=True):
        start = parse_partition_value(value, grain)
        if start is None:
            continue
        part = by_start.setdefault(start, Partition(start, label(start, grain)))
        part.rows += int(rows or 0)
        part.files += 1
        if mtime is not None and (part.first_added_ms is None or mtime < part.first_added_ms):
            part.first_added_ms = int(mtime)
    history = commits(table)
    stamps = [int(c.timestamp.timestamp() * 1000) for c in history]
    per_commit: dict[int, int] = {}
    for part in by_start.values():
        if part.first_added_ms is None or not history:
            continue
        i = bisect.bisect_left(stamps, part.first_added_ms)
        part.commit = history[min(i, len(history) - 1)]
        per_commit[part.commit.version] = per_commit.get(part.commit.version, 0) + 1
    for part in by_start.values():
        if part.commit is not None:
            part.commit_partitions = per_commit[part.commit.version]
    return sorted(by_start.values(), key=lambda p: p.start)


def late(parts: list[Partition], tolerance: timedelta) -> tuple[list[dict[str, Any]], int]:
    """Partitions that arrived after their period start + tolerance; and how many could not be judged.

    A partition whose current files come from a full (re)load that also wrote other partitions (without a
    declared arrival) or from a maintenance rewrite (OPTIMIZE compaction, RESTORE) carries no arrival
    information, so it is not judged.
    """
    found, unjudged = [], 0
    for p in parts:
        c = p.commit
        if c is None:
            unjudged += 1
            continue
        if c.maintenance or (not c.declared and p.commit_partitions > 1 and (c.overwrite or c.version == 0)):
            unjudged += 1
            continue
        deadline = p.start + tolerance
        if c.arrived_at > deadline:
            found.append(
                {
                    "partition": p.label,
                    "late_by_minutes": round((c.arrived_at - deadline).total_seconds() / 60, 1),
                    "arrived_at": c.arrived_at.isoformat().replace("+00:00", "Z"),
                    "version": c.version,
                }
            )
    return found, unjudged
