"""Which data files of a Delta table a sample is drawn from: a seeded subset spread across partitions.

A reservoir sample of N rows reads every row of the table (DuckDB's `USING SAMPLE reservoir` over a
32 M-row table decodes all of it for 10 000 rows). A table's log knows each file's row count (the
`numRecords` of its add action's stats), so the sample can be drawn from a few files instead:

- partitions are visited in an order drawn from the seed (a hash of seed and partition values), and
  each partition's files in an order drawn likewise (a hash of seed and path);
- one file is taken from each partition in turn (the first file of every partition, then the second, …)
  until the chosen files hold at least `ROWS_PER_SAMPLE_ROW` times the sample's rows and number at
  least `MIN_FILES` (or every file);
- the sample is then drawn from those files' rows as before (reservoir, same seed).

Same seed and same snapshot: same files, same sample. A table no larger than that budget, or whose
log lacks a file's row count, is sampled from every row, as before.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from governance.lake.resolve import DatasetLocation

ROWS_PER_SAMPLE_ROW = 4  # the chosen files hold at least 4x the sample's rows
MIN_FILES = 8  # and at least 8 files, from 8 partitions when the table has that many


@dataclass(frozen=True)
class DataFile:
    path: str  # as the Delta log spells it
    rows: int | None  # numRecords from the add action's stats
    partition: tuple[Any, ...] = ()


@dataclass(frozen=True)
class FileSubset:
    """The files a sample is drawn from, out of how many the snapshot has."""

    paths: tuple[str, ...]
    rows: int
    files_total: int
    rows_total: int

    def summary(self) -> dict[str, int]:
        return {"files": len(self.paths), "of_files": self.files_total, "rows": self.rows,
                "of_rows": self.rows_total}  # fmt: skip


def _rank(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}\x00{text}".encode()).hexdigest()


def choose_files(files: Sequence[DataFile], size: int, seed: int) -> FileSubset | None:
    """The seeded subset of `files` a sample of `size` rows is drawn from (see the module docstring), or
    None when every file must be read (unknown row counts, or too few rows to leave any file out)."""
    if size <= 0 or not files or any(f.rows is None for f in files):
        return None
    total = sum(int(f.rows or 0) for f in files)
    budget = ROWS_PER_SAMPLE_ROW * size
    if total <= budget or len(files) <= MIN_FILES:
        return None
    by_partition: dict[tuple[Any, ...], list[DataFile]] = defaultdict(list)
    for f in files:
        by_partition[f.partition].append(f)
    queues = [
        sorted(group, key=lambda f: (_rank(seed, f.path), f.path))
        for _, group in sorted(
            by_partition.items(), key=lambda kv: (_rank(seed, json.dumps(kv[0], default=str)), str(kv[0]))
        )
    ]
    chosen: list[DataFile] = []
    rows = 0
    depth = 0
    while rows < budget or len(chosen) < MIN_FILES:
        for queue in queues:
            if depth < len(queue):
                chosen.append(queue[depth])
                rows += int(queue[depth].rows or 0)
                if rows >= budget and len(chosen) >= MIN_FILES:
                    break
        depth += 1
    if len(chosen) == len(files):
        return None
    return FileSubset(tuple(f.path for f in chosen), rows, len(files), total)


def delta_subset(table: DeltaTable, size: int, seed: int) -> FileSubset | None:
    """`choose_files` over the snapshot's add actions (paths, numRecords, partition values)."""
    from governance.lake.resolve import add_actions

    adds = add_actions(table)
    if not adds.num_rows or "num_records" not in adds.column_names:
        return None
    values = [adds.column(f"partition.{c}").to_pylist() for c in table.metadata().partition_columns]
    paths, rows = adds.column("path").to_pylist(), adds.column("num_records").to_pylist()
    files = [
        DataFile(p, n, tuple(v[i] for v in values)) for i, (p, n) in enumerate(zip(paths, rows, strict=True))
    ]
    return choose_files(files, size, seed)


def subset_view_sql(
    loc: DatasetLocation, table: DeltaTable, types: dict[str, str], size: int, seed: int
) -> tuple[str, FileSubset] | None:
    """DuckDB's Parquet scan of the files a sample of `size` rows is drawn from (`governance.lake.native`,
    columns and `types` as the table's view has them), or None to sample every row."""
    from governance.lake import native

    subset = delta_subset(table, size, seed)
    sql = native.view_sql(loc, table, types, set(subset.paths)) if subset is not None else None
    return (sql, subset) if sql is not None and subset is not None else None
