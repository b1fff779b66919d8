"""A tiny lake of our own (two Delta tables, one PII column, known defects) for fast quality tests.

In a module of its own (not conftest) so tests can import it whatever other test folders run with them."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

CONFIG = """
version: 1
lake: {root: lake}
state_dir: .smartflow
datasets:
  silver.orders:
    format: delta
    path: silver/orders
    layer: silver
    partitioning: [order_date]
    key: [order_id]
  silver.people:
    format: delta
    path: silver/people
    layer: silver
    key: [person_id]
  silver.ghost:
    format: delta
    path: silver/ghost
    layer: silver
  gold.orders_wh:
    format: sql
    layer: gold
    connection: warehouse
    table: PLACEHOLDER_SCHEMA.orders
connections:
  warehouse: {url: "${SMARTFLOW_TEST_PG_URL}"}
"""

CLASSIFICATIONS = """
labels:
  - {name: PII}
assignments:
  - dataset: silver.orders
    columns: {email: [PII]}
  - dataset: gold.orders_wh
    columns: {email: [PII]}
"""

SUITE = """
suite: orders
dataset: silver.orders
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: {column: order_id}
  - type: expect_column_values_to_be_unique
    kwargs: {column: order_id}
  - type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: 0, max_value: 1000}
  - type: expect_column_values_to_be_in_set
    kwargs: {column: status, value_set: [new, paid, shipped]}
    severity: warn
  - type: expect_column_values_to_match_regex
    kwargs: {column: email, regex: "^[^@]+@[^@]+[.][a-z]+$"}
  - type: expect_column_values_to_exist_in
    kwargs: {column: person_id, dataset: silver.people, other_column: person_id}
  - type: expect_column_mean_to_be_between
    kwargs: {column: amount, min_value: 1, max_value: 500}
  - type: expect_table_row_count_to_be_between
    kwargs: {min_value: 1}
"""


def orders(days: list[dt.date], bad: bool = True) -> dict[str, list[object]]:
    rows: dict[str, list[object]] = {
        k: [] for k in ("order_id", "person_id", "amount", "status", "email", "order_date")
    }
    n = 0
    for day in days:
        for _ in range(10):
            n += 1
            rows["order_id"].append(f"O{day:%m%d}{n:04d}")
            rows["person_id"].append(1 + n % 5)
            rows["amount"].append(float(10 + n % 90))
            rows["status"].append("paid")
            rows["email"].append(f"user{n}@example.com")
            rows["order_date"].append(day)
    if bad:  # one duplicate id, one negative amount, one unknown status, one bad e-mail, one orphan person
        rows["order_id"][1] = rows["order_id"][0]
        rows["amount"][2] = -5.0
        rows["status"][3] = "lost"
        rows["email"][4] = "jane.doe(at)example.com"
        rows["person_id"][5] = 99
    return rows


def write_lake(root: Path, days: list[dt.date], bad: bool = True) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(
        str(root / "lake/silver/orders"),
        pa.table(orders(days, bad)),
        partition_by=["order_date"],
        mode="overwrite",
    )
    write_deltalake(
        str(root / "lake/silver/people"),
        pa.table({"person_id": [1, 2, 3, 4, 5], "name": ["a", "b", "c", "d", "e"]}),
        mode="overwrite",
    )


DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(3)]


def project(root: Path, lake: Path, incremental: bool, expectations: str) -> Path:
    """A project under `root` over `lake` with one suite `orders` on silver.orders (incremental by
    order_date or not) holding `expectations` (its `expectations:` YAML block)."""
    (root / "expectations").mkdir(parents=True, exist_ok=True)
    (root / "classifications").mkdir(exist_ok=True)
    config = textwrap.dedent(CONFIG).replace("lake: {root: lake}", f"lake: {{root: {json.dumps(str(lake))}}}")
    (root / "smartflow.yaml").write_text(config)
    (root / "classifications/pii.yaml").write_text(CLASSIFICATIONS)
    head = "suite: orders\ndataset: silver.orders\n"
    if incremental:
        head += "incremental: {partition: order_date}\n"
    (root / "expectations/orders.yaml").write_text(head + expectations)
    return root / "smartflow.yaml"
