"""The one place a DuckDB connection to data is opened, and what DuckDB makes of an Arrow schema."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def duckdb_connection(threads: int | None = None, database: str | None = None) -> Any:
    """The one place a DuckDB connection to data is opened, with the settings every use needs
    (in memory, or on the `database` file: the demo builder spills its tables there)."""
    import duckdb

    con = duckdb.connect(database) if database else duckdb.connect()
    # Parquet footers read once per connection, not once per query (Delta never rewrites a file)
    con.execute("SET parquet_metadata_cache = true")
    # DuckDB draws a progress bar on stdout for a long query, which would corrupt --output json
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


_DESCRIBER: list[Any] = []  # one connection per process that only describes Arrow schemas
_DESCRIBED: dict[Any, dict[str, str]] = {}
_DESCRIBING = threading.Lock()


def duckdb_types(schema: pa.Schema) -> dict[str, str]:
    """Column -> DuckDB type name of an Arrow schema, as DuckDB reads it (an empty table is described:
    no rows; not Schema.empty_table(), which would import pandas, ~0.4 s of CPU). One connection per
    process does it: opening one costs ~0.1 s, more than describing."""
    import pyarrow as pa

    with _DESCRIBING:
        if schema not in _DESCRIBED:
            if not _DESCRIBER:
                _DESCRIBER.append(duckdb_connection(1))
            con = _DESCRIBER[0]
            con.register("sfg_schema", pa.Table.from_batches([], schema=schema))
            try:
                described = con.execute('DESCRIBE SELECT * FROM "sfg_schema"').fetchall()
            finally:
                con.unregister("sfg_schema")
            _DESCRIBED[schema] = {str(r[0]): str(r[1]) for r in described}
        return dict(_DESCRIBED[schema])
