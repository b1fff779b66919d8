"""Cross-source referential integrity and a connection lost mid-run, on real PostgreSQL and real Delta.

- a PostgreSQL table checked against a Delta table (and the reverse) keeps every expectation: the
  referenced key set is brought to the validating engine, with the counts of the same suite on DuckDB;
- the PostgreSQL connection killed in the middle of the dataset's query (pg_terminate_backend from
  another connection, after the columns were read): that dataset's expectations are errors, not
  failures, the other dataset is still evaluated, and the run exits 3.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from helpers import run_cli

from governance.project import load_project
from governance.quality.service import run


def _counts(payload: dict[str, Any], suite: str) -> list[tuple[str, bool, int | None]]:
    s = next(s for s in payload["suites"] if s["suite_name"] == suite)
    return [
        (r["expectation_config"]["type"], r["success"], r["result"].get("unexpected_count"))
        for r in s["results"]
    ]


@pytest.fixture()
def warehouse(tiny: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """The tiny project with silver.orders and silver.people copied into a PostgreSQL schema of its own:
    gold.orders_wh (declared by the tiny config) and gold.people_wh."""
    import sqlalchemy as sa

    root = tiny.parent
    schema = f"sfg_x_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        DeltaTable(str(root / "lake/silver/orders")).to_pandas().to_sql(
            "orders", engine, schema=schema, index=False
        )
        DeltaTable(str(root / "lake/silver/people")).to_pandas().to_sql(
            "people", engine, schema=schema, index=False
        )
        config = (root / "smartflow.yaml").read_text().replace("PLACEHOLDER_SCHEMA", schema)
        config = config.replace(
            "  gold.orders_wh:\n",
            f"  gold.people_wh:\n    format: sql\n    layer: gold\n    connection: warehouse\n"
            f"    table: {schema}.people\n  gold.orders_wh:\n",
        )
        (root / "smartflow.yaml").write_text(config)
        monkeypatch.setenv("SMARTFLOW_TEST_PG_URL", pg_url)
        yield tiny, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _suite_on(root: Path, name: str, dataset: str, people: str) -> None:
    suite = (root / "expectations/orders.yaml").read_text()
    suite = suite.replace("suite: orders", f"suite: {name}").replace(
        "dataset: silver.orders", f"dataset: {dataset}"
    )
    (root / f"expectations/{name}.yaml").write_text(
        suite.replace("dataset: silver.people", f"dataset: {people}")
    )


def test_postgres_table_checked_against_delta_and_the_reverse(warehouse: tuple[Path, str]) -> None:
    config, _ = warehouse
    root = config.parent
    _suite_on(root, "orders_wh", "gold.orders_wh", "silver.people")  # PostgreSQL rows, Delta keys
    _suite_on(root, "orders_pg_people", "silver.orders", "gold.people_wh")  # Delta rows, PostgreSQL keys
    result = run(load_project(config))
    reference = _counts(result.payload, "orders")  # everything on DuckDB over Delta
    for suite in ("orders_wh", "orders_pg_people"):
        s = next(s for s in result.payload["suites"] if s["suite_name"] == suite)
        assert s.get("error") is None and s["statistics"]["errored_expectations"] == 0, s
        assert _counts(result.payload, suite) == reference, suite
    exist = [c for c in reference if c[0] == "expect_column_values_to_exist_in"]
    assert exist == [("expect_column_values_to_exist_in", False, 1)]
    assert result.exit_code == 1
    assert "jane" not in str(result.payload)


def test_referenced_dataset_out_of_reach_errors_only_that_expectation(warehouse: tuple[Path, str]) -> None:
    config, schema = warehouse
    root = config.parent
    _suite_on(root, "orders_wh", "gold.orders_wh", "silver.ghost")  # a Delta table that does not exist
    result = run(load_project(config), suites=["orders_wh"])
    suite = result.payload["suites"][0]
    kinds = {
        r["expectation_config"]["type"]: r["exception_info"]["raised_exception"] for r in suite["results"]
    }
    assert kinds.pop("expect_column_values_to_exist_in") is True
    assert not any(kinds.values())  # the 7 others were evaluated
    assert suite["statistics"]["errored_expectations"] == 1
    assert result.exit_code == 3


def test_connection_killed_mid_query_is_an_error_not_a_failure(
    warehouse: tuple[Path, str], pg_url: str
) -> None:
    import sqlalchemy as sa

    config, schema = warehouse
    root = config.parent
    # the warehouse dataset reads a view that holds its query open for a while, so another connection can
    # terminate it in the middle
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(
            sa.text(
                f'CREATE VIEW "{schema}".slow_orders AS SELECT o.* FROM "{schema}".orders o '
                "CROSS JOIN (SELECT pg_sleep(30)) s"
            )
        )
    text = (
        (root / "smartflow.yaml")
        .read_text()
        .replace(f"table: {schema}.orders", f"table: {schema}.slow_orders")
    )
    (root / "smartflow.yaml").write_text(text)
    _suite_on(root, "orders_wh", "gold.orders_wh", "silver.people")
    killed: list[int] = []
    stop = threading.Event()

    def kill_when_running() -> None:
        with admin.connect() as conn:
            while not stop.is_set() and not killed:
                pids = (
                    conn.execute(
                        sa.text(
                            "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                            "AND query LIKE :q"
                        ),
                        {"q": "%slow_orders%"},
                    )
                    .scalars()
                    .all()
                )
                for pid in pids:
                    conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                    killed.append(pid)
                conn.commit()
                stop.wait(0.05)

    watcher = threading.Thread(target=kill_when_running, daemon=True)
    watcher.start()
    try:
        proc = run_cli("--config", str(config), "--output", "json", "quality", "run", cwd=root)
    finally:
        stop.set()
        watcher.join(timeout=10)
        admin.dispose()
    assert killed, "the warehouse query was never seen running"
    assert proc.returncode == 3, proc.stderr
    import json

    payload = json.loads(proc.stdout)
    by_suite = {s["suite_name"]: s for s in payload["suites"]}
    lost = by_suite["orders_wh"]
    assert lost["statistics"]["errored_expectations"] == len(lost["results"]) == 8
    assert lost["statistics"]["unsuccessful_expectations"] == 0
    assert all(r["result"] == {} and r["exception_info"]["infrastructure"] for r in lost["results"])
    assert all("\n" not in r["exception_info"]["exception_message"] for r in lost["results"])
    # the Delta dataset was still evaluated, with its real failures
    assert by_suite["orders"]["statistics"]["errored_expectations"] == 0
    assert by_suite["orders"]["statistics"]["unsuccessful_expectations"] == 5


@pytest.mark.slow
def test_spark_checks_delta_rows_against_postgres_keys(warehouse: tuple[Path, str]) -> None:
    """On Spark the referenced key set (here read from PostgreSQL) is loaded as a temporary view of the
    Spark session: the counts equal those of the same suite on DuckDB over Delta."""
    config, _ = warehouse
    root = config.parent
    _suite_on(root, "orders_pg_people", "silver.orders", "gold.people_wh")
    project = load_project(config)
    reference = _counts(run(project, suites=["orders"]).payload, "orders")
    spark = run(project, suites=["orders_pg_people"], engine="spark")
    s = spark.payload["suites"][0]
    assert s.get("error") is None and s["statistics"]["errored_expectations"] == 0, s
    assert _counts(spark.payload, "orders_pg_people") == reference
    assert "jane" not in str(spark.payload)
