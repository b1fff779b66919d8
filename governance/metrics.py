"""The local metric history: every measured figure (SPEC §5) with its time and dimensions.

A small SQLite file under the state dir, written by every capability that measures something and read
by monitoring (show, anomalies, sinks, alert evaluation) and reports. Rows are append-only; each sink
remembers the last row id it delivered, so metrics not yet sent are never lost nor sent twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NAMESPACE = "smartflow/governance"
METRIC_NAMES = (
    "quality_success_percent",
    "quality_unexpected_count",
    "quality_evaluated_expectations",
    "quality_errored_expectations",  # suites with errors: no success rate is emitted for them
    "rows_validated",
    "freshness_lag_minutes",
    "missing_partitions",
    "pii_undeclared_columns",
    "lineage_coverage_percent",
    "glossary_coverage_percent",
    "run_duration_seconds",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts TEXT NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  dimensions TEXT NOT NULL DEFAULT '{}',
  run_id TEXT
);
CREATE INDEX IF NOT EXISTS metrics_name_ts ON metrics(name, ts);
CREATE TABLE IF NOT EXISTS sink_cursor (sink TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    dimensions: dict[str, str] = field(default_factory=dict)
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_id: str | None = None
    id: int | None = None


def store_path(state_dir: Path) -> Path:
    return state_dir / "metrics.sqlite"


@contextmanager
def connect(state_dir: Path) -> Iterator[sqlite3.Connection]:
    state_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(store_path(state_dir), timeout=30)
    try:
        conn.executescript(_SCHEMA)
        yield conn
        conn.commit()
    finally:
        conn.close()


def record(state_dir: Path, metrics: Iterable[Metric]) -> int:
    """Append metrics to the history; returns how many were written."""
    rows = [
        (
            m.ts.astimezone(UTC).isoformat(),
            m.name,
            float(m.value),
            json.dumps({k: str(v) for k, v in sorted(m.dimensions.items())}),
            m.run_id,
        )
        for m in metrics
    ]
    if not rows:
        return 0
    with connect(state_dir) as conn:
        conn.executemany("INSERT INTO metrics(ts, name, value, dimensions, run_id) VALUES (?,?,?,?,?)", rows)
    return len(rows)


def query(
    state_dir: Path,
    name: str | None = None,
    dimensions: dict[str, str] | None = None,
    since: datetime | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Metric]:
    """Metrics in time order, filtered by name, a subset of dimensions, a start time or a row id. Metrics
    with the same dimensions share one (read-only) dimensions dict."""
    if not store_path(state_dir).exists():
        return []
    sql = "SELECT id, ts, name, value, dimensions, run_id FROM metrics WHERE 1=1"
    args: list[str | int] = []
    if name:
        sql += " AND name = ?"
        args.append(name)
    if since:
        sql += " AND ts >= ?"
        args.append(since.astimezone(UTC).isoformat())
    if after_id is not None:
        sql += " AND id > ?"
        args.append(after_id)
    sql += " ORDER BY ts, id"
    with connect(state_dir) as conn:
        rows = conn.execute(sql, args).fetchall()
    out = []
    decoded: dict[str, dict[str, str]] = {}  # rows share a few hundred dimension sets: each decoded once
    for rid, ts, mname, value, dims, run_id in rows:
        d = decoded.get(dims)
        if d is None:
            d = decoded[dims] = json.loads(dims)
        if dimensions and any(d.get(k) != v for k, v in dimensions.items()):
            continue
        out.append(Metric(mname, value, d, datetime.fromisoformat(ts), run_id, rid))
    return out[-limit:] if limit else out


def cursor(state_dir: Path, sink: str) -> int:
    with connect(state_dir) as conn:
        row = conn.execute("SELECT last_id FROM sink_cursor WHERE sink = ?", (sink,)).fetchone()
    return int(row[0]) if row else 0


def advance_cursor(state_dir: Path, sink: str, last_id: int) -> None:
    with connect(state_dir) as conn:
        conn.execute(
            "INSERT INTO sink_cursor(sink, last_id) VALUES (?, ?) "
            "ON CONFLICT(sink) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
            (sink, last_id),
        )


def as_dict(m: Metric) -> dict[str, Any]:
    return {
        "name": m.name,
        "value": m.value,
        "dimensions": m.dimensions,
        "timestamp": m.ts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "run_id": m.run_id,
    }
