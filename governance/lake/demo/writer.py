"""Delta writes for the demo lake: one commit per call, each carrying `smartflow.arrived_at`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from governance.lake.demo.calendar import iso_z
from governance.lake.resolve import DatasetLocation

ARRIVED_AT = "smartflow.arrived_at"


@dataclass
class TableWriter:
    """Appends commits to one Delta table; the first commit creates (or, with `replace`, replaces) it."""

    loc: DatasetLocation
    schema: pa.Schema
    replace: bool = False
    rows: int = 0
    commits: int = 0
    partitions: set[tuple[object, ...]] = field(default_factory=set)
    _table: Any = field(default=None, repr=False)  # the open DeltaTable after the first commit

    def write(self, data: pa.Table | Iterable[pa.RecordBatch], arrived_at: datetime) -> int:
        from deltalake import CommitProperties, DeltaTable, write_deltalake

        reader = pa.RecordBatchReader.from_batches(self.schema, self._conform(data))
        first = self.commits == 0
        # Later commits go through the open table, which only reads the log entries it has not seen;
        # reopening by URI would re-read the whole log on every commit (slow on object stores).
        write_deltalake(
            self._table if self._table is not None else self.loc.uri or "",
            reader,
            partition_by=self.loc.spec.partitioning or None,
            mode="overwrite" if first and self.replace else "append",
            schema_mode="overwrite" if first and self.replace else None,
            name=self.loc.name if first else None,
            description=self.loc.spec.description if first else None,
            storage_options=self.loc.storage_options or None,
            commit_properties=CommitProperties(custom_metadata={ARRIVED_AT: iso_z(arrived_at)}),
        )
        if self._table is None:
            self._table = DeltaTable(self.loc.uri or "", storage_options=self.loc.storage_options or None)
        self.commits += 1
        return self.rows

    def _conform(self, data: pa.Table | Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        batches = data.to_batches() if isinstance(data, pa.Table) else data
        keys = self.loc.spec.partitioning
        for batch in batches:
            if batch.num_rows == 0:
                continue
            batch = pa.Table.from_batches([batch]).select(self.schema.names).cast(self.schema)
            self.rows += batch.num_rows
            if keys:
                parts = batch.select(keys).group_by(keys).aggregate([])
                self.partitions.update(zip(*(parts[k].to_pylist() for k in keys), strict=True))
            yield from batch.to_batches()
