"""Contracts beyond the demo: datasets without declared columns (schema from the Delta log and from the
SQL catalog of PostgreSQL, reached through a `${VAR}` connection URL), other partitioning, round trip."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from helpers import SHARED, run_cli
from jsonschema import Draft201909Validator, FormatChecker
from ruamel.yaml import YAML

CONFIG = """
version: 1
lake: {root: lake}
datasets:
  silver.devices:
    format: delta
    path: silver/devices
    layer: silver
    partitioning: [site, day]
    key: [device_id]
  gold.orders_wh:
    format: sql
    layer: gold
    connection: warehouse
    table: SCHEMA.orders
connections:
  warehouse: {url: "${SMARTFLOW_CONTRACT_PG_URL}"}
"""
SUITES = {
    "devices.yaml": """
suite: devices
dataset: silver.devices
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: {column: device_id}
  - type: expect_column_value_lengths_to_be_between
    kwargs: {column: device_id, min_value: 3, max_value: 8}
    severity: warn
  - type: expect_compound_columns_to_be_unique
    kwargs: {column_list: [device_id, day]}
""",
    "orders.yaml": """
suite: orders_wh
dataset: gold.orders_wh
expectations:
  - type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: 0, max_value: 100}
  - type: expect_table_row_count_to_equal
    kwargs: {value: 3}
""",
}


@pytest.fixture()
def project(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import sqlalchemy as sa

    schema = f"sfg_c_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        conn.exec_driver_sql(
            f"CREATE TABLE {schema}.orders (order_id varchar(12) NOT NULL, amount numeric(8,2))"
        )
        conn.exec_driver_sql(f"INSERT INTO {schema}.orders VALUES ('a', 1.5), ('b', 250), ('c', NULL)")
    monkeypatch.setenv("SMARTFLOW_CONTRACT_PG_URL", pg_url)
    (tmp_path / "smartflow.yaml").write_text(CONFIG.replace("SCHEMA", schema))
    (tmp_path / "expectations").mkdir()
    for name, text in SUITES.items():
        (tmp_path / "expectations" / name).write_text(text)
    devices = pa.table(
        {
            "device_id": ["DEV1", "DEV2", "D3"],
            "reading": pa.array([1, 2, 3], pa.int32()),
            "site": ["a", "b", "a"],
            "day": pa.array([20260101, 20260101, 20260102], pa.int64()),
        }
    )
    write_deltalake(str(tmp_path / "lake/silver/devices"), devices, partition_by=["site", "day"])
    try:
        yield tmp_path / "smartflow.yaml"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def test_undeclared_columns_come_from_the_delta_log_and_the_sql_catalog(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_cli("--config", str(project), "contract", "export", "--out", str(out), check=0)
    schema = json.loads((SHARED / "contracts/odcs/odcs-json-schema-v3.1.0.json").read_text())
    validator = Draft201909Validator(schema, format_checker=FormatChecker())
    docs = {}
    for f in sorted(out.glob("*.odcs.yaml")):
        doc = json.loads(json.dumps(YAML(typ="safe").load(f.read_text()), default=str))
        assert not list(validator.iter_errors(doc)), f.name
        docs[doc["name"]] = doc
    devices = docs["silver.devices"]["schema"][0]
    assert {p["name"]: (p["physicalType"], p["logicalType"]) for p in devices["properties"]} == {
        "device_id": ("VARCHAR", "string"),
        "reading": ("INTEGER", "integer"),
        "site": ("VARCHAR", "string"),
        "day": ("BIGINT", "integer"),
    }
    parts = {p["name"]: p.get("partitionKeyPosition") for p in devices["properties"]}
    assert (parts["site"], parts["day"]) == (1, 2)
    assert {"property": "columnsFrom", "value": "table"} in devices["customProperties"]
    compound = devices["quality"][0]
    assert compound["metric"] == "duplicateValues" and compound["arguments"] == {
        "properties": ["device_id", "day"]
    }
    orders = docs["gold.orders_wh"]
    assert [(p["name"], p["logicalType"]) for p in orders["schema"][0]["properties"]] == [
        ("order_id", "string"),
        ("amount", "number"),
    ]
    assert orders["schema"][0]["quality"][0] == {
        "id": "table_row_count_to_equal",
        "severity": "error",
        "type": "library",
        "metric": "rowCount",
        "mustBe": 3,
        "dimension": "completeness",
    }
    assert (
        "postgresql" not in (out / "gold.orders_wh.odcs.yaml").read_text()
    )  # the URL stays in the environment
    plan = json.loads(
        run_cli(
            "--config",
            str(project),
            "--output",
            "json",
            "contract",
            "import",
            *map(str, out.glob("*")),
            check=0,
        ).stdout
    )
    assert plan["changes"] == [] and plan["files"] == []


def test_contract_test_runs_on_the_warehouse_where_the_table_lives(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_cli(
        "--config",
        str(project),
        "contract",
        "export",
        "--dataset",
        "gold.orders_wh",
        "--out",
        str(out),
        check=0,
    )
    proc = run_cli(
        "--config",
        str(project),
        "--output",
        "json",
        "contract",
        "test",
        str(out / "gold.orders_wh.odcs.yaml"),
    )
    assert proc.returncode == 1, proc.stderr
    (suite,) = json.loads(proc.stdout)["suites"]
    res = {r["expectation_config"]["meta"]["odcs_id"]: r for r in suite["results"]}
    assert res["amount_be_between"]["result"]["unexpected_count"] == 1  # 250 > 100; NULL is not invalid
    assert res["table_row_count_to_equal"]["success"] is True
    assert res["amount.logicalType"]["success"] is True
    assert not [k for k, r in res.items() if not r["success"] and k != "amount_be_between"]
