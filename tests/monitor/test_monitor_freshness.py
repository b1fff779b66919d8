"""Freshness on real Delta tables: lag from file statistics, missing partitions, late arrivals."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import run_cli
from monitor_data import AS_OF, write_bronze

from governance import metrics
from governance.monitor import freshness, history
from governance.project import load_project


def _by_name(payload: dict) -> dict[str, dict]:
    return {e["dataset"]: e for e in payload["datasets"]}


def test_missing_late_and_lag(mini_project: Callable[..., Path]) -> None:
    root = mini_project()
    project = load_project(root / "smartflow.yaml")
    result = freshness.check(project, as_of=AS_OF)
    found = _by_name(result.payload)

    bronze = found["bronze.orders"]
    assert bronze["missing_partitions"] == ["2026-11-20"]
    assert [p["partition"] for p in bronze["late_partitions"]] == ["2026-11-24"]
    assert bronze["late_partitions"][0]["late_by_minutes"] == 380.0  # 12:20 vs 00:00 + PT6H
    assert bronze["lag_minutes"] == 24 * 60 + 30  # last arrival 2026-11-27T01:30
    assert bronze["stale"] is False
    assert bronze["partitions"] == 13

    silver = found["silver.orders"]
    assert silver["lag_minutes"] == 90.0 and not silver["stale"]
    assert silver["missing_partitions"] == []
    # one overwrite commit wrote every partition: a rebuild is not an arrival, nothing is judged late
    assert silver["late_partitions"] == [] and silver["unjudged_partitions"] == 14

    monthly = found["gold.monthly"]
    assert monthly["partition_grain"] == "month"
    assert monthly["missing_partitions"] == ["2026-10"]
    assert result.exit_code == 1


def test_stale_dataset_and_metrics(mini_project: Callable[..., Path]) -> None:
    root = mini_project()
    project = load_project(root / "smartflow.yaml")
    later = AS_OF + timedelta(hours=1)
    result = freshness.check(project, datasets=["silver.orders"], as_of=later)
    entry = result.payload["datasets"][0]
    assert entry["stale"] is True and entry["lag_minutes"] == 150.0
    assert result.exit_code == 1
    lag = metrics.query(project.state_dir, "freshness_lag_minutes", {"dataset": "silver.orders"})
    assert [m.value for m in lag] == [150.0]
    rows = metrics.query(project.state_dir, "row_count", {"dataset": "silver.orders"})
    assert len(rows) == 14 and rows[0].ts.date().isoformat() == "2026-11-14"
    # an unchanged partition count is not recorded twice
    freshness.check(project, datasets=["silver.orders"], as_of=later)
    assert len(metrics.query(project.state_dir, "row_count", {"dataset": "silver.orders"})) == 14
    # rows per partition show as one series over the calendar
    shown = history.show(project, "row_count", last=30).payload["series"]
    assert len(shown) == 1 and shown[0]["count"] == 14
    assert [p["partition"] for p in shown[0]["points"]][:2] == ["2026-11-14", "2026-11-15"]


def test_fresh_dataset_exits_zero_and_cli_json(mini_project: Callable[..., Path]) -> None:
    root = mini_project()
    proc = run_cli(
        "--config",
        str(root / "smartflow.yaml"),
        "--output",
        "json",
        "freshness",
        "check",
        "--dataset",
        "silver.orders",
        "--as-of",
        AS_OF.isoformat(),
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["checked_at"] == "2026-11-28T02:00:00Z"
    entry = payload["datasets"][0]
    assert {
        "dataset",
        "column",
        "max_value",
        "lag_minutes",
        "max_lag_minutes",
        "stale",
        "partition_column",
        "missing_partitions",
        "late_partitions",
    } <= entry.keys()
    assert entry["max_value"] == "2026-11-28T00:30:00Z"
    text = run_cli(
        "--config", str(root / "smartflow.yaml"), "freshness", "check", "--as-of", AS_OF.isoformat()
    )
    assert text.returncode == 1
    assert "missing: 2026-11-20" in text.stdout and "late: 2026-11-24 by 380m" in text.stdout


def test_unreadable_dataset_is_partial_failure(mini_project: Callable[..., Path]) -> None:
    import shutil

    root = mini_project()
    shutil.rmtree(root / "lake/gold/monthly")
    result = freshness.check(load_project(root / "smartflow.yaml"), as_of=AS_OF)
    found = _by_name(result.payload)
    assert "error" in found["gold.monthly"]
    assert found["bronze.orders"]["missing_partitions"] == ["2026-11-20"]  # the others were still checked
    assert result.exit_code == 3


def test_demo_lake_missing_ingest_day_and_late_partition(demo_project: Path) -> None:
    """On the demo lake: the bronze ingest day that never arrived and the partition that landed late."""
    defects = json.loads((demo_project / "lake/_demo/defects.json").read_text())["defects"]
    missing, late = defects["missing_partition"], defects["late_partition"]
    project = load_project(demo_project / "smartflow.yaml")
    result = freshness.check(project, record=False)  # the shared demo project stays read-only
    found = _by_name(result.payload)
    assert missing["partition"] in found[missing["dataset"]]["missing_partitions"]
    late_found = {p["partition"]: p for p in found[late["dataset"]]["late_partitions"]}
    assert late["partition"] in late_found
    if late.get("late_by_minutes") is not None:
        assert late_found[late["partition"]]["late_by_minutes"] == late["late_by_minutes"]
    assert result.exit_code == 1
    # derived layers show the gap too, but were rebuilt in one go: no arrival judged late there
    assert missing["partition"] in found["silver.transactions"]["missing_partitions"]


def test_sql_dataset_pushed_down_to_postgres(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    schema = f"mon_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(
            sa.text(f'CREATE TABLE "{schema}".orders (id int, order_ts timestamp, business_date date)')
        )
        for i, day in enumerate(["2026-11-24", "2026-11-25", "2026-11-27"]):
            conn.execute(
                sa.text(f'INSERT INTO "{schema}".orders VALUES (:i, :ts, :d)'),
                {"i": i, "ts": f"{day} 23:30:00", "d": day},
            )
    try:
        monkeypatch.setenv("MON_TEST_PG", pg_url)
        (tmp_path / "smartflow.yaml").write_text(
            "version: 1\n"
            "connections:\n  wh: {url: '${MON_TEST_PG}'}\n"
            "datasets:\n"
            "  gold.orders_wh:\n"
            f"    {{format: sql, connection: wh, table: {schema}.orders, layer: gold,\n"
            "     freshness: {column: order_ts, max_lag: PT2H, partition_column: business_date}}\n"
        )
        result = freshness.check(load_project(tmp_path / "smartflow.yaml"), as_of=AS_OF, record=False)
        entry = result.payload["datasets"][0]
        assert entry["max_value"] == "2026-11-27T23:30:00Z" and entry["lag_minutes"] == 150.0
        assert entry["stale"] is True and entry["missing_partitions"] == ["2026-11-26"]
        assert result.exit_code == 1
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_sql_table_without_schema_is_read_from_the_connection_schema_and_a_refused_login_is_exit_3(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from governance.errors import InfraError

    schema = f"mon_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'CREATE TABLE "{schema}".orders (id int, order_ts timestamp)'))
        conn.execute(sa.text(f"INSERT INTO \"{schema}\".orders VALUES (1, '2026-11-28 01:30:00')"))
    config = tmp_path / "smartflow.yaml"
    config.write_text(
        "version: 1\n"
        f"connections:\n  wh: {{url: '${{MON_TEST_PG}}', schema: {schema}}}\n"
        "datasets:\n"
        "  gold.orders_wh:\n"
        "    {format: sql, connection: wh, table: orders, layer: gold,\n"
        "     freshness: {column: order_ts, max_lag: PT2H}}\n"
    )
    try:
        monkeypatch.setenv("MON_TEST_PG", pg_url)
        entry = freshness.check(load_project(config), as_of=AS_OF, record=False).payload["datasets"][0]
        assert entry["max_value"] == "2026-11-28T01:30:00Z" and entry["stale"] is False
        assert entry["partition_column"] is None and entry["missing_partitions"] == []

        url = sa.engine.make_url(pg_url).set(username="nobody_here", password="s3cret-pw")
        monkeypatch.setenv("MON_TEST_PG", url.render_as_string(hide_password=False))
        with pytest.raises(InfraError) as failed:
            freshness.check_dataset(load_project(config), "gold.orders_wh", AS_OF)
        assert "s3cret-pw" not in str(failed.value)
        proc = run_cli("--config", str(config), "freshness", "check", "--as-of", AS_OF.isoformat(), check=3)
        assert "s3cret-pw" not in proc.stdout + proc.stderr
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_parquet_dataset_through_duckdb(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.dataset as ds

    table = pa.table(
        {
            "event_time": pa.array(["2026-11-27T10:00:00", "2026-11-28T01:00:00", "2026-11-25T05:00:00"]),
            "event_date": pa.array(["2026-11-27", "2026-11-28", "2026-11-25"]),
        }
    )
    ds.write_dataset(
        table,
        tmp_path / "lake/raw/events",
        format="parquet",
        partitioning=["event_date"],
        partitioning_flavor="hive",
    )
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\ndatasets:\n  bronze.events:\n"
        "    {format: parquet, path: raw/events, layer: bronze, partitioning: [event_date],\n"
        "     freshness: {column: event_time, max_lag: PT2H}}\n"
    )
    result = freshness.check(load_project(tmp_path / "smartflow.yaml"), as_of=AS_OF, record=False)
    entry = result.payload["datasets"][0]
    assert entry["max_value"] == "2026-11-28T01:00:00Z" and entry["lag_minutes"] == 60.0
    assert entry["missing_partitions"] == ["2026-11-26"] and entry["partition_column"] == "event_date"


def test_compaction_is_not_an_arrival(mini_project: Callable[..., Path]) -> None:
    from deltalake import DeltaTable

    root = mini_project()
    write_bronze(root, [date(2026, 11, 26)], late={})  # a second file in one partition ...
    DeltaTable(str(root / "lake/bronze/orders")).optimize.compact()  # ... compacted today
    project = load_project(root / "smartflow.yaml")
    result = freshness.check(project, datasets=["bronze.orders"], as_of=AS_OF, record=False)
    entry = result.payload["datasets"][0]
    assert [p["partition"] for p in entry["late_partitions"]] == ["2026-11-24"]
    assert entry["unjudged_partitions"] == 1  # 2026-11-26 now lives in a file OPTIMIZE wrote


def test_json_is_the_typed_model_in_the_output_order(mini_project: Callable[..., Path]) -> None:
    import shutil

    from governance.specs.freshness_check import FreshnessCheck

    root = mini_project()
    shutil.rmtree(root / "lake/gold/monthly")
    result = freshness.check(load_project(root / "smartflow.yaml"), as_of=AS_OF)
    found = _by_name(result.payload)
    # an unreadable dataset carries its error and no measurements; a read one has no error key
    assert list(found["gold.monthly"]) == [
        "dataset", "layer", "error", "stale", "missing_partitions", "late_partitions"
    ]  # fmt: skip
    assert list(found["bronze.orders"])[:7] == [
        "dataset", "layer", "column", "max_value", "lag_minutes", "max_lag_minutes", "stale"
    ]  # fmt: skip
    assert list(result.payload) == ["checked_at", "source", "datasets", "summary", "metrics_recorded"]
    typed = FreshnessCheck.model_validate(result.payload)
    assert typed.dump() == result.payload and typed.summary.errors == 1
    assert json.dumps(typed.dump()) == json.dumps(result.payload)


def test_an_unchanged_table_is_answered_from_its_kept_facts_and_a_new_commit_is_read_again(
    mini_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.lake import resolve

    root = mini_project()
    project = load_project(root / "smartflow.yaml")
    project.state_dir.mkdir(parents=True, exist_ok=True)
    first = freshness.check(project, as_of=AS_OF, record=False).payload
    assert (project.state_dir / "cache" / "freshness.json").is_file()

    def no_snapshot(*_: object, **__: object) -> None:
        raise AssertionError("an unchanged table's snapshot was opened")

    monkeypatch.setattr(resolve, "delta_table", no_snapshot)
    again = freshness.check(project, as_of=AS_OF, record=False).payload
    assert again == first
    later = freshness.check(project, as_of=AS_OF + timedelta(hours=3), record=False).payload
    assert _by_name(later)["silver.orders"]["lag_minutes"] == 90.0 + 180  # the clock is read every time
    assert _by_name(later)["silver.orders"]["stale"] is True

    monkeypatch.undo()
    write_bronze(root, [date(2026, 11, 20)], late={})  # the missing day lands
    bronze = _by_name(freshness.check(project, as_of=AS_OF, record=False).payload)["bronze.orders"]
    assert bronze["missing_partitions"] == [] and bronze["partitions"] == 14
