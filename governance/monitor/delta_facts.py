"""What freshness reads from a local Delta table, kept per table version in `state_dir/cache/freshness.json`.

The freshness column's maximum and the partitions (row counts, arrivals from the commit history) depend
only on the table's snapshot; the lag, the staleness and which partitions are late depend on the clock and
the SLA, and are computed every time. A local table's snapshot is named by its newest commit file (and that
file's mtime, for a table made anew), so an unchanged table is answered without opening its snapshot,
reading its add actions or its history. A remote table is read every time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from governance.monitor.partitions import Commit, Partition
from governance.statecache import StateCache

FORMAT = "freshness/1"


@dataclass
class Facts:
    max_value: datetime | None
    partitions: list[Partition]
    note: str | None = None  # the partition column is not one of the table's


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _dump_partition(p: Partition) -> dict[str, Any]:
    out = asdict(p)
    out["start"] = p.start.isoformat()
    if p.commit is not None:
        out["commit"] = {
            **asdict(p.commit),
            "timestamp": p.commit.timestamp.isoformat(),
            "arrived_at": p.commit.arrived_at.isoformat(),
        }
    return out


def _load_partition(d: dict[str, Any]) -> Partition:
    c = d.get("commit")
    commit = None
    if c is not None:
        commit = Commit(**{**c, "timestamp": _time(c["timestamp"]), "arrived_at": _time(c["arrived_at"])})
    return Partition(**{**d, "start": _time(d["start"]), "commit": commit})


class FactsCache(StateCache):
    """dataset -> the facts of one snapshot, under (table, newest commit, mtime) and what was asked."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir, "freshness", FORMAT, limit=10_000)

    @staticmethod
    def ask(snapshot: tuple[str, str, int] | None, column: str, part_col: str | None, grain: str) -> Any:
        """What a dataset's facts are kept under: its snapshot and what was asked of it (None: not kept)."""
        return None if snapshot is None else [list(snapshot), column, part_col, grain]

    def get(self, dataset: str, ask: Any) -> Facts | None:
        entry = self.entries.get(dataset)
        if ask is None or not entry or entry.get("ask") != ask:
            return None
        try:
            return Facts(
                _time(entry["max_value"]),
                [_load_partition(p) for p in entry["partitions"]],
                entry.get("note"),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def remember(self, dataset: str, ask: Any, facts: Facts) -> None:
        if ask is None:
            return
        try:
            entry = {
                "ask": ask,
                "max_value": facts.max_value.isoformat() if facts.max_value else None,
                "partitions": [_dump_partition(p) for p in facts.partitions],
                "note": facts.note,
            }
            json.dumps(entry)
        except (TypeError, ValueError):  # a value JSON cannot hold: read again next time
            return
        self.put(dataset, entry)
