"""Data builders of the monitoring tests: a small project with real Delta tables whose history we control."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

AS_OF = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

CONFIG = """\
version: 1
lake: {root: lake}
state_dir: .smartflow
datasets:
  bronze.orders:
    format: delta
    path: bronze/orders
    layer: bronze
    partitioning: [ingest_date]
    columns: {order_id: VARCHAR, amount: DOUBLE, _ingested_at: TIMESTAMP, ingest_date: DATE}
    freshness: {column: _ingested_at, max_lag: P1DT2H, partition_column: ingest_date, late_tolerance: PT6H}
  silver.orders:
    format: delta
    path: silver/orders
    layer: silver
    partitioning: [business_date]
    columns: {order_id: VARCHAR, amount: DOUBLE, order_ts: TIMESTAMP, business_date: DATE}
    freshness: {column: order_ts, max_lag: PT2H, partition_column: business_date, late_tolerance: PT6H}
  gold.monthly:
    format: delta
    path: gold/monthly
    layer: gold
    partitioning: [month]
    partition_grain: month
    columns: {month: VARCHAR, revenue: DOUBLE}
    freshness: {column: month, max_lag: P40D, partition_column: month}
monitor:
  sinks: [local]
"""


def write_bronze(root: Path, days: list[date], late: dict[date, timedelta], rows: int = 5) -> None:
    """One append commit per ingest day, stamped with `smartflow.arrived_at` like the demo's bronze."""
    import pyarrow as pa
    from deltalake import CommitProperties, write_deltalake

    for d in days:
        arrived = datetime(d.year, d.month, d.day, 1, 30, tzinfo=UTC) + late.get(d, timedelta(0))
        n = rows + (d.toordinal() % 3)
        table = pa.table(
            {
                "order_id": pa.array([f"O{d:%Y%m%d}{i:04d}" for i in range(n)]),
                "amount": pa.array([float(i) for i in range(n)]),
                "_ingested_at": pa.array([arrived.replace(tzinfo=None)] * n, pa.timestamp("us")),
                "ingest_date": pa.array([d] * n, pa.date32()),
            }
        )
        write_deltalake(
            str(root / "lake/bronze/orders"),
            table,
            mode="append",
            partition_by=["ingest_date"],
            commit_properties=CommitProperties(
                custom_metadata={"smartflow.arrived_at": arrived.isoformat().replace("+00:00", "Z")}
            ),
        )


def write_silver(root: Path, days: list[date], last_ts: datetime) -> None:
    """A full rebuild in one overwrite commit (no arrival information)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    ts = [datetime(d.year, d.month, d.day, 12) for d in days]
    ts[-1] = last_ts.replace(tzinfo=None)
    table = pa.table(
        {
            "order_id": pa.array([f"O{i}" for i in range(len(days))]),
            "amount": pa.array([1.0] * len(days)),
            "order_ts": pa.array(ts, pa.timestamp("us")),
            "business_date": pa.array(days, pa.date32()),
        }
    )
    write_deltalake(str(root / "lake/silver/orders"), table, mode="overwrite", partition_by=["business_date"])


def write_monthly(root: Path, months: list[str]) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    table = pa.table({"month": pa.array(months), "revenue": pa.array([1.0] * len(months))})
    write_deltalake(str(root / "lake/gold/monthly"), table, mode="overwrite", partition_by=["month"])
