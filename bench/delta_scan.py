"""How the DuckDB engine reads a local Delta table, against deltalake's Arrow dataset, by partition count.

    .venv/bin/python bench/delta_scan.py [--partitions 50,3000] [--rows-per-partition 2000]

For each partition count a daily-partitioned Delta table is written once into a temporary folder; then,
each in a fresh DuckDB connection: opening the table (register), a full aggregate, and a one-partition
aggregate (pruning), best of 3. The table's paths spell its partition values, so the engine reads it in
one hive-partitioned scan ("one scan" below; governance/lake/native.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build(path: Path, partitions: int, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    from deltalake import write_deltalake

    rng = np.random.default_rng(7)
    days = np.repeat(np.arange(partitions), rows)
    table = pa.table(
        {
            "id": pa.array(np.arange(partitions * rows)),
            "amount": pa.array(rng.uniform(0, 1000, partitions * rows)),
            "code": pa.array(rng.choice(["a", "b", "c"], partitions * rows)),
            "day": pa.array([dt.date(2018, 1, 1) + dt.timedelta(days=int(d)) for d in days], pa.date32()),
        }
    )
    write_deltalake(str(path), table, partition_by=["day"])


def best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(path: Path, mode: str) -> dict[str, Any]:
    from deltalake import DeltaTable

    from governance.config import Dataset
    from governance.lake.engines import DuckDBEngine
    from governance.lake.resolve import DatasetLocation

    engine = DuckDBEngine()
    t0 = time.perf_counter()
    if mode == "engine":
        engine.register_location(
            DatasetLocation("t", Dataset(format="delta", path="t", layer="silver"), str(path))
        )
        view = engine.relation("t").name
    else:
        engine.con.register("arrow_t", DeltaTable(str(path)).to_pyarrow_dataset())
        view = "arrow_t"
    register = time.perf_counter() - t0
    sql = engine.con.execute(f"SELECT sql FROM duckdb_views() WHERE view_name = '{view}'").fetchone()
    text = str(sql[0]) if sql else ""
    kind = (
        "arrow"
        if "read_parquet" not in text
        else "one scan"
        if text.count("read_parquet") == 1
        else "branches"
    )
    full = best(
        lambda: engine.con.execute(f'SELECT count(*), sum(amount), max(code) FROM "{view}"').fetchall()
    )
    one = best(
        lambda: engine.con.execute(
            f"SELECT count(*), sum(amount) FROM \"{view}\" WHERE day = DATE '2018-01-02'"
        ).fetchall()
    )
    engine.close()
    return {"register": register, "full": full, "one": one, "kind": kind}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--partitions", default="50,3000")
    ap.add_argument("--rows-per-partition", type=int, default=2000)
    args = ap.parse_args()
    print(f"{'partitions':>10} {'reader':>8} {'register s':>11} {'full s':>8} {'1 part s':>9}  (× arrow)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.partitions.split(",")]:
            path = Path(tmp) / f"t{n}"
            build(path, n, args.rows_per_partition)
            base = measure(path, "arrow")
            ours = measure(path, "engine")
            for name, r in (("arrow", base), (ours["kind"], ours)):
                ratio = " ".join(f"{r[k] / base[k]:.2f}" for k in ("register", "full", "one"))
                print(f"{n:>10} {name:>8} {r['register']:11.3f} {r['full']:8.3f} {r['one']:9.3f}  ({ratio})")


if __name__ == "__main__":
    main()
