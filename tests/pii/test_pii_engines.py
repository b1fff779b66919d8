"""The same scan on PostgreSQL (through SQLAlchemy) and Spark agrees with DuckDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pii_fixtures import seeded_table, write_project

from governance.pii.service import scan
from governance.project import load_project


def _essence(payload: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {(f["column"], f["rule"], f["status"], f["match_percent"], f["in_text"], f["distinct_matches"])
            for f in payload["findings"]}  # fmt: skip


@pytest.fixture
def pg_table(pg_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    table = seeded_table()
    name = f"pii_seed_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    types = {"customer_id": "bigint", "amount": "double precision"}
    cols = ", ".join(f'"{c}" {types.get(c, "text")}' for c in table.column_names)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE TABLE public."{name}" ({cols})')
        rows = list(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
        marks = ", ".join(["%s"] * len(table.column_names))
        conn.exec_driver_sql(f'INSERT INTO public."{name}" VALUES ({marks})', rows)
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS public."{name}"')
        engine.dispose()


def test_postgresql_scan_matches_duckdb(tmp_path: Path, pg_url: str, pg_table: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("SMARTFLOW_PII_TEST_PG", pg_url)
    extra = (
        f"  silver.customers_wh: {{format: sql, connection: wh, table: public.{pg_table}, layer: silver}}\n"
        "connections:\n  wh: {url: '${SMARTFLOW_PII_TEST_PG}'}\n"
    )
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, extra_config=extra)
    project = load_project(config)
    lake = scan(project, ["silver.customers"])
    warehouse = scan(project, ["silver.customers_wh"])
    ds = warehouse.payload["datasets"][0]
    assert ds["error"] is None and ds["engine"] == "sql" and ds["sample_size"] == 300
    assert ds["columns_scanned"] == 10  # amount (double precision) is not scanned
    assert _essence(warehouse.payload) == _essence(lake.payload)
    assert warehouse.exit_code == 1

    # a real TABLESAMPLE BERNOULLI … REPEATABLE sample: bounded and reproducible
    first = scan(project, ["silver.customers_wh"], sample=100, seed=9)
    again = scan(project, ["silver.customers_wh"], sample=100, seed=9)
    size = first.payload["datasets"][0]["sample_size"]
    assert 0 < size <= 100
    assert first.payload["findings"] == again.payload["findings"]


def test_postgresql_unreachable_is_exit_3(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("SMARTFLOW_PII_TEST_PG", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    extra = (
        "  silver.customers_wh: {format: sql, connection: wh, table: public.x, layer: silver}\n"
        "connections:\n  wh: {url: '${SMARTFLOW_PII_TEST_PG}'}\n"
    )
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, extra_config=extra)
    result = scan(load_project(config), ["silver.customers_wh"])
    assert result.exit_code == 3 and result.payload["datasets"][0]["error"]


@pytest.mark.slow
def test_spark_scan_matches_duckdb(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")})
    project = load_project(config)
    duck = scan(project, ["silver.customers"])
    spark = scan(project, ["silver.customers"], engine="spark")
    ds = spark.payload["datasets"][0]
    assert ds["error"] is None and ds["engine"] == "spark" and ds["sample_size"] == 300
    assert _essence(spark.payload) == _essence(duck.payload)
    sampled = scan(project, ["silver.customers"], engine="spark", sample=100, seed=5)
    size = sampled.payload["datasets"][0]["sample_size"]
    assert 0 < size <= 100
