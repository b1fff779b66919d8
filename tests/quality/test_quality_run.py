"""quality run on a tiny real Delta lake: fused queries, failures, masking, exit codes, incremental,
quarantine, history and metrics."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from helpers import run_cli
from tiny_lake import DAYS, orders, write_lake

from governance.metrics import query
from governance.project import load_project
from governance.quality.service import run


def _by_type(suite: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["expectation_config"]["type"]: r for r in suite["results"]}


def test_everything_passes_in_one_query(tiny: Path) -> None:
    write_lake(tiny.parent, DAYS, bad=False)
    result = run(load_project(tiny))
    suite = result.payload["suites"][0]
    assert result.exit_code == 0 and suite["success"]
    # ONE statement: the fused scan of every aggregate joined with the extra sub-queries (exact
    # uniqueness, the anti-join); no sample query when nothing fails
    assert suite["queries"] == 1
    assert result.extra["sql"]["silver.orders"][0].count('FROM "sfg_silver_orders"') >= 2
    assert suite["rows_validated"] == 30
    assert suite["statistics"]["evaluated_expectations"] == 8


def test_failures_counted_exactly_and_pii_masked(tiny: Path) -> None:
    result = run(load_project(tiny))
    suite = result.payload["suites"][0]
    r = _by_type(suite)
    assert result.exit_code == 1
    assert r["expect_column_values_to_be_unique"]["result"]["unexpected_count"] == 2
    assert r["expect_column_values_to_be_between"]["result"]["unexpected_count"] == 1
    assert r["expect_column_values_to_be_in_set"]["result"]["unexpected_count"] == 1
    assert r["expect_column_values_to_match_regex"]["result"]["unexpected_count"] == 1
    assert r["expect_column_values_to_exist_in"]["result"]["unexpected_count"] == 1
    assert r["expect_column_values_to_be_between"]["result"]["partial_unexpected_list"] == [-5.0]
    # samples: key column first, then the value; PII values only in masked form
    email = r["expect_column_values_to_match_regex"]["result"]
    assert email["partial_unexpected_list"] == ["xxxx.xxx(xx)xxxxxxx.xxx"]
    assert "jane" not in json.dumps(result.payload)
    assert list(email["partial_unexpected_index_list"][0])[0] == "order_id"
    # the fused scan + ONE samples query for all five failing expectations
    assert suite["queries"] == 2
    assert r["expect_column_mean_to_be_between"]["success"]


def test_observed_values_of_pii_columns_are_masked(tiny: Path) -> None:
    root = tiny.parent
    (root / "expectations/emails.yaml").write_text(
        "suite: emails\ndataset: silver.orders\nexpectations:\n"
        "  - {type: expect_column_max_to_be_between, kwargs: {column: email, min_value: a}}\n"
        "  - {type: expect_column_min_to_be_between, kwargs: {column: email, min_value: 0}}\n"
        "  - {type: expect_column_distinct_values_to_be_in_set, kwargs: {column: email, value_set: [x]}}\n"
        "  - {type: expect_column_most_common_value_to_be_in_set, kwargs: {column: email, value_set: [x]}}\n"
    )
    for engine in ("duckdb", "gx"):
        payload = run(load_project(tiny), suites=["emails"], engine=engine).payload
        text = json.dumps(payload)
        assert "example.com" not in text and "user1" not in text, engine
        assert "xxxx9@xxxxxxx.xxx" in text, engine


def test_warn_failures_do_not_fail_the_run(tiny: Path) -> None:
    root = tiny.parent
    write_lake(root, DAYS, bad=False)
    table = orders(DAYS, bad=False)
    table["status"][0] = "lost"
    write_deltalake(
        str(root / "lake/silver/orders"), pa.table(table), partition_by=["order_date"], mode="overwrite"
    )
    result = run(load_project(tiny))
    assert not result.payload["success"]
    assert result.exit_code == 0


def test_a_broken_dataset_is_its_own_error(tiny: Path) -> None:
    root = tiny.parent
    (root / "expectations/people.yaml").write_text(
        "suite: wh\ndataset: silver.ghost\nexpectations:\n"
        "  - {type: expect_table_row_count_to_be_between, kwargs: {min_value: 1}}\n"
    )
    result = run(load_project(tiny), engine="duckdb")
    by_suite = {s["suite_name"]: s for s in result.payload["suites"]}
    assert "error" in by_suite["wh"] and not by_suite["wh"]["success"]
    assert by_suite["orders"]["statistics"]["evaluated_expectations"] == 8  # the other dataset still ran
    assert result.exit_code == 3


def test_incremental_validates_only_new_partitions_and_merges_states(tiny: Path) -> None:
    root = tiny.parent
    suite = (root / "expectations/orders.yaml").read_text()
    (root / "expectations/orders.yaml").write_text(
        suite.replace(
            "dataset: silver.orders\n", "dataset: silver.orders\nincremental: {partition: order_date}\n"
        )
    )
    first = run(load_project(tiny)).payload["suites"][0]
    assert first["incremental"]["changed"] == [d.isoformat() for d in DAYS]
    new_day = dt.date(2026, 11, 4)
    extra = orders([new_day], bad=False)
    extra["order_id"] = [f"N{i}" for i in range(10)]
    write_deltalake(
        str(root / "lake/silver/orders"), pa.table(extra), partition_by=["order_date"], mode="append"
    )
    project = load_project(tiny)
    second_run = run(project)
    second = second_run.payload["suites"][0]
    scan = second_run.extra["sql"]["silver.orders"][0]
    assert "\"order_date\" = CAST('2026-11-04' AS DATE)" in scan and "GROUP BY" in scan
    assert "EXTRACT" not in scan
    assert second["incremental"]["changed"] == ["2026-11-04"]
    r = _by_type(second)
    # table-level figures merge stored partition states: 40 rows, the old negative amount still counted
    assert r["expect_table_row_count_to_be_between"]["result"]["observed_value"] == 40
    assert r["expect_column_values_to_be_between"]["result"]["unexpected_count"] == 1
    history = sorted((project.state_dir / "quality" / "runs").glob("*.json"))
    assert len(history) == 2
    third = run(load_project(tiny)).payload["suites"][0]
    # nothing changed: no query, and the verdicts of the last evaluation (failed stays failed)
    assert third["queries"] == 0 and third["incremental"]["partitions_scanned"] == 0
    assert third["incremental"]["carried_from"] == second_run.payload["run_id"]
    assert [(x["success"], x["result"].get("unexpected_count")) for x in third["results"]] == [
        (x["success"], x["result"].get("unexpected_count")) for x in second["results"]
    ]


def test_partition_option_scopes_the_scan(tiny: Path) -> None:
    result = run(load_project(tiny), partitions=["order_date=2026-11-02"])
    suite = result.payload["suites"][0]
    assert suite["rows_validated"] == 10
    assert suite["partitions"] == {"order_date": ["2026-11-02"]}


def test_bad_partition_value_is_bad_input(tiny: Path) -> None:
    proc = run_cli("--config", str(tiny), "quality", "run", "--partition", "order_date=not-a-date")
    assert proc.returncode == 2 and "order_date=not-a-date" in proc.stderr and "Traceback" not in proc.stderr


def test_quarantine_writes_failing_rows_of_error_expectations(tiny: Path) -> None:
    project = load_project(tiny)
    result = run(project, quarantine=True)
    path = project.state_dir / "quality" / "quarantine" / "silver.orders"
    rows = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
    failed = {tuple(r["_failed_expectations"]) for r in rows}
    assert result.extra["quarantined"]["silver.orders"] == len(rows) == 5  # 2 dup + amount + email + orphan
    assert not any("in_set" in f for fs in failed for f in fs)  # warn severity is not quarantined
    assert all(r["email"] is None or "@" in r["email"] or "x" in r["email"] for r in rows)
    assert not any("jane" in str(r["email"]) for r in rows)


def test_history_and_metrics_recorded(tiny: Path) -> None:
    project = load_project(tiny)
    result = run(project)
    names = {m.name for m in query(project.state_dir)}
    assert {
        "quality_success_percent",
        "quality_unexpected_count",
        "quality_evaluated_expectations",
        "rows_validated",
    } <= names
    stored = json.loads(
        (project.state_dir / "quality" / "runs" / f"{result.payload['run_id']}.json").read_text()
    )
    assert stored["suites"][0]["suite_name"] == "orders"


def test_cli_json_exit_code_and_verbose_sql(tiny: Path) -> None:
    proc = run_cli("--config", str(tiny), "--output", "json", "-v", "quality", "run", "--suite", "orders")
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["suites"][0]["queries"] == 2
    assert "2 queries" in proc.stderr and "SELECT" in proc.stderr
    bad = run_cli("--config", str(tiny), "quality", "run", "--suite", "nope")
    assert bad.returncode == 2 and "unknown suite" in bad.stderr


def test_export_import_gx_roundtrip(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "suite.json"
    run_cli("--config", str(tiny), "quality", "export-gx", "orders", "--out", str(out), check=0)
    doc = json.loads(out.read_text())
    assert doc["name"] == "orders" and len(doc["expectations"]) == 8
    proc = run_cli("--config", str(tiny), "quality", "import-gx", str(out), check=0)
    from ruamel.yaml import YAML

    back = YAML(typ="safe").load(proc.stdout)
    original = YAML(typ="safe").load((tiny.parent / "expectations/orders.yaml").read_text())
    assert back == original
