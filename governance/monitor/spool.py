"""A disk spool between the metric history and a remote sink: nothing lost, nothing sent twice.

For each sink, new history rows (after the sink's cursor in governance/metrics.py) are cut into request
batches and written to `state_dir/monitor/spool/<sink>/` *before* the cursor advances; a batch file is
deleted only once the sink acknowledged it. After a crash between the two steps the next run replaces
every file past the cursor (file names carry their history id range) with the rows it spools again; an
unreachable sink leaves the files for the next run; a lock keeps two runs from sending the same file.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance import metrics
from governance.lock import write_atomic


@dataclass(frozen=True)
class Batch:
    path: Path
    body: Any


def spool_dir(state_dir: Path, sink: str) -> Path:
    return state_dir / "monitor" / "spool" / sink


@contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    path = state_dir / "monitor" / "spool.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_atomic(path: Path, body: Any) -> None:
    write_atomic(path, json.dumps(body, separators=(",", ":")))


def enqueue(
    state_dir: Path, sink: str, build: Callable[[list[metrics.Metric]], list[Any]]
) -> tuple[int, int]:
    """Move history rows not yet spooled for `sink` into batch files; returns (rows, batches)."""
    after = metrics.cursor(state_dir, sink)
    rows = metrics.query(state_dir, after_id=after)
    if not rows:
        return 0, 0
    first, last = min(m.id or 0 for m in rows), max(m.id or 0 for m in rows)
    folder = spool_dir(state_dir, sink)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f"{first:012d}-{last:012d}-"
    for stale in folder.glob("*.json"):  # an attempt whose cursor never moved: its rows are re-spooled now
        if int(stale.name.split("-", 1)[0]) > after:
            stale.unlink()
    bodies = build(rows)
    for seq, body in enumerate(bodies):
        _write_atomic(folder / f"{prefix}{seq:05d}.json", body)
    metrics.advance_cursor(state_dir, sink, last)
    return len(rows), len(bodies)


def pending(state_dir: Path, sink: str) -> list[Batch]:
    folder = spool_dir(state_dir, sink)
    if not folder.is_dir():
        return []
    return [Batch(p, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]


def done(batch: Batch) -> None:
    batch.path.unlink(missing_ok=True)


def replace(batch: Batch, body: Any) -> None:
    """Keep only the part of a batch the sink did not accept."""
    _write_atomic(batch.path, body)
