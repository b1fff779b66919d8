"""Freshness from the Delta log vs scanning the data.

Builds a Delta table of DAYS daily partitions (one commit per day, like bronze ingest) with ROWS rows each,
then times `freshness.check` (column max from file statistics, partitions and arrivals from add actions and
commit history) against the baseline a naive check would run: DuckDB over the whole table for max(ts) and
the distinct partition values. Prints both and their ratio.

    .venv/bin/python bench/monitor.py [DAYS] [ROWS_PER_DAY]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


def build(root: Path, days: int, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    from deltalake import CommitProperties, write_deltalake

    first = date(2026, 1, 1)
    rng = np.random.default_rng(7)
    for i in range(days):
        d = first + timedelta(days=i)
        base = np.datetime64(d, "us").astype(np.int64)
        ts = base + rng.integers(0, 86_400_000_000, size=rows)
        table = pa.table(
            {
                "id": pa.array(np.arange(rows) + i * rows),
                "amount": pa.array(rng.random(rows) * 100),
                "ts": pa.array(ts, pa.timestamp("us")),
                "ingest_date": pa.array([d] * rows, pa.date32()),
            }
        )
        arrived = datetime(d.year, d.month, d.day, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")
        write_deltalake(
            str(root / "lake/bronze/events"),
            table,
            mode="append",
            partition_by=["ingest_date"],
            commit_properties=CommitProperties(custom_metadata={"smartflow.arrived_at": arrived}),
        )
    (root / "smartflow.yaml").write_text(
        "version: 1\ndatasets:\n  bronze.events:\n"
        "    {format: delta, path: bronze/events, layer: bronze, partitioning: [ingest_date],\n"
        "     freshness: {column: ts, max_lag: P1D, partition_column: ingest_date, late_tolerance: PT6H}}\n"
    )


def best(fn, n: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    import duckdb
    from deltalake import DeltaTable

    from governance.monitor import freshness
    from governance.project import load_project

    days = int(sys.argv[1]) if len(sys.argv) > 1 else 90
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        build(root, days, rows)
        print(
            f"built {days} partitions x {rows:,} rows = {days * rows:,} rows in {time.perf_counter() - t:.1f}s"
        )
        project = load_project(root / "smartflow.yaml")

        def ours() -> None:
            freshness.check(project, record=False)

        def scan() -> None:
            data = DeltaTable(str(root / "lake/bronze/events")).to_pyarrow_dataset()
            con = duckdb.connect()
            con.register("t", data)
            con.execute("SELECT max(ts) FROM t").fetchall()
            con.execute("SELECT DISTINCT ingest_date FROM t").fetchall()
            con.close()

        ours_s, scan_s = best(ours), best(scan)
        result = freshness.check(project, record=False).payload["datasets"][0]
        print(
            f"freshness.check (Delta log + statistics): {ours_s * 1000:8.1f} ms  "
            f"({result['partitions']} partitions, {result['rows']:,} rows from the log)"
        )
        print(f"baseline: DuckDB scan max + distinct     : {scan_s * 1000:8.1f} ms")
        print(f"ratio baseline/ours: {scan_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
