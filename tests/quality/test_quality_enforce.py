"""`quality enforce` on real Delta tables (deltalake refuses what a constraint forbids) and
`quality export --format dlt`."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError
from helpers import run_cli

CONFIG = """
version: 1
lake: {root: lake}
state_dir: .smartflow
datasets:
  silver.orders: {format: delta, path: silver/orders, layer: silver, key: [order_id]}
  silver.refunds: {format: delta, path: silver/refunds, layer: silver}
  gold.report: {format: parquet, path: gold/report, layer: gold}
"""
ORDERS_SUITE = """
suite: orders
dataset: silver.orders
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: {column: order_id}
  - type: expect_column_values_to_be_unique
    kwargs: {column: order_id}
  - type: expect_column_values_to_match_regex
    kwargs: {column: order_id, regex: "^O[0-9]+$"}
  - type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: 0, max_value: 1000}
  - type: expect_column_values_to_be_in_set
    kwargs: {column: status, value_set: [new, paid, shipped]}
  - type: expect_column_values_to_be_in_set
    kwargs: {column: channel, value_set: [web, shop]}
    severity: warn
  - type: expect_column_value_lengths_to_be_between
    kwargs: {column: status, min_value: 3, mostly: 0.5}
"""
REFUNDS_SUITE = """
suite: refunds
dataset: silver.refunds
expectations:
  - type: expect_column_values_to_be_between
    kwargs: {column: refund, min_value: 0}
"""
SCHEMA = pa.schema(
    [("order_id", pa.string()), ("amount", pa.float64()), ("status", pa.string()), ("channel", pa.string())]
)
ORDERS = {
    "order_id": ["O1", "O2", "O3", None],
    "amount": [10.0, 999.5, None, 5.0],
    "status": ["new", "paid", None, "shipped"],
    "channel": ["web", "phone", "shop", "web"],
}


def write(root: Path, name: str, cols: dict[str, list[Any]], mode: str = "overwrite") -> None:
    schema = SCHEMA if name == "orders" else None
    write_deltalake(str(root / "lake/silver" / name), pa.table(cols, schema=schema), mode=mode)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "smartflow.yaml").write_text(CONFIG)
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations/orders.yaml").write_text(ORDERS_SUITE)
    (tmp_path / "expectations/refunds.yaml").write_text(REFUNDS_SUITE)
    clean = dict(ORDERS, order_id=["O1", "O2", "O3", "O4"])
    write(tmp_path, "orders", clean)
    write(tmp_path, "refunds", {"refund": [1.0, 2.0]})
    return tmp_path / "smartflow.yaml"


def enforce(config: Path, *args: str, check: int | None = None) -> tuple[int, dict[str, Any], str]:
    proc = run_cli("--config", str(config), "--output", "json", "quality", "enforce", *args, check=check)
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def constraints(root: Path, name: str) -> dict[str, str]:
    conf = DeltaTable(str(root / "lake/silver" / name)).metadata().configuration
    return {
        k.removeprefix("delta.constraints."): v for k, v in conf.items() if k.startswith("delta.constraints.")
    }


def test_applied_constraints_make_deltalake_refuse_violating_writes(project: Path) -> None:
    root = project.parent
    version = DeltaTable(str(root / "lake/silver/orders")).version()
    rc, plan, _ = enforce(project, check=0)
    assert DeltaTable(str(root / "lake/silver/orders")).version() == version  # a plan writes nothing
    orders = next(d for d in plan["datasets"] if d["dataset"] == "silver.orders")
    assert {c["action"] for c in orders["constraints"]} == {"create"}
    assert [c["expression"] for c in orders["constraints"]] == [
        "NOT order_id IS NULL",
        "order_id IS NULL OR order_id ~ '^O[0-9]+$'",
        "amount IS NULL OR (amount >= 0 AND amount <= 1000)",
        "status IS NULL OR status IN ('new', 'paid', 'shipped')",
    ]
    reasons = {s["expectation"]: s["reason"] for s in orders["skipped"]}
    assert reasons["expect_column_values_to_be_in_set(channel)"] == "warn severity"
    assert "mostly 0.5" in reasons["expect_column_value_lengths_to_be_between(status)"]
    assert "not a row-level rule" in reasons["expect_column_values_to_be_unique(order_id)"]
    assert {d["dataset"] for d in plan["datasets"]} == {
        "silver.orders",
        "silver.refunds",
    }  # only suites' tables

    enforce(project, "--apply", check=0)
    applied = constraints(root, "orders")
    assert len(applied) == 4 and all(n.startswith("sfg_") for n in applied)
    table = root / "lake/silver/orders"
    ok = {"order_id": ["O9"], "amount": [1000.0], "status": [None], "channel": ["fax"]}
    write_deltalake(str(table), pa.table(ok), mode="append")  # a NULL status and a warn-only channel pass
    for bad in (
        {"order_id": [None]},
        {"order_id": ["X9"]},
        {"amount": [1000.01]},
        {"amount": [-1.0]},
        {"status": ["lost"]},
    ):
        row = pa.table({**ok, **bad}, schema=SCHEMA)
        with pytest.raises(DeltaError, match="failed validation"):
            write_deltalake(str(table), row, mode="append")
    # a second apply changes nothing
    version = DeltaTable(str(table)).version()
    rc, again, _ = enforce(project, "--apply", check=0)
    assert again["summary"]["create"] == 0 and again["summary"]["noop"] == 5
    assert DeltaTable(str(table)).version() == version


def test_existing_violations_are_counted_and_nothing_is_applied(project: Path) -> None:
    root = project.parent
    write(root, "orders", ORDERS)  # one null order_id
    write(
        root,
        "orders",
        {
            **ORDERS,
            "order_id": ["O7", "bad-id", "O8", "O9"],
            "amount": [-5.0, 2.0, 3.0, 4.0],
            "status": ["lost", "new", "new", "new"],
        },
        mode="append",
    )
    rc, out, _ = enforce(project, "--apply")
    assert rc == 1 and out["applied"] is False
    orders = next(d for d in out["datasets"] if d["dataset"] == "silver.orders")
    assert sorted(c["violations"] for c in orders["constraints"]) == [1, 1, 1, 1]
    # the counts are those `quality run` reports for the same expectations
    run = json.loads(
        run_cli("--config", str(project), "--output", "json", "quality", "run", "--suite", "orders").stdout
    )
    unexpected = {
        (r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column")): r["result"].get(
            "unexpected_count"
        )
        for r in run["suites"][0]["results"]
    }
    assert unexpected[("expect_column_values_to_not_be_null", "order_id")] == 1
    assert unexpected[("expect_column_values_to_be_in_set", "status")] == 1
    assert unexpected[("expect_column_values_to_be_between", "amount")] == 1
    assert unexpected[("expect_column_values_to_match_regex", "order_id")] == 1
    # nothing half-applied: not even on the clean table
    assert constraints(root, "orders") == {} and constraints(root, "refunds") == {}
    text = run_cli("--config", str(project), "quality", "enforce", "--apply").stdout
    assert "nothing applied" in text and "bad-id" not in text and "lost" not in text  # counts, never values


def test_edited_rules_are_replaced_and_prune_drops_only_managed_constraints(project: Path) -> None:
    root = project.parent
    enforce(project, "--apply", check=0)
    table = DeltaTable(str(root / "lake/silver/orders"))
    table.alter.add_constraint({"team_rule": "amount IS NULL OR amount < 5000"})  # somebody else's constraint
    suite = root / "expectations/orders.yaml"
    text = suite.read_text().replace("max_value: 1000", "max_value: 2000")
    text = text.replace(
        "  - type: expect_column_values_to_be_in_set\n    kwargs: {column: status, value_set: [new, paid, shipped]}\n",
        "",
    )
    suite.write_text(text)
    rc, plan, _ = enforce(project, check=0)
    changes = {
        (c["action"], c.get("reason"))
        for d in plan["datasets"]
        for c in d["constraints"]
        if c["action"] != "noop"
    }
    assert changes == {
        ("create", None),
        ("delete", "replaced"),
        ("keep", "no longer in a suite (use --prune)"),
    }
    enforce(project, "--apply", check=0)
    after = constraints(root, "orders")
    assert any("amount <= 2000" in v for v in after.values()) and not any(
        "<= 1000" in v for v in after.values()
    )
    assert any("status" in v for v in after.values())  # kept without --prune
    enforce(project, "--apply", "--prune", check=0)
    after = constraints(root, "orders")
    assert not any("status" in v for v in after.values())
    assert after["team_rule"] == "amount IS NULL OR amount < 5000"  # never ours to drop
    rc, last, _ = enforce(project, "--prune", check=0)
    assert last["summary"]["create"] == last["summary"]["delete"] == 0


def test_a_missing_table_is_an_infrastructure_fault_and_others_still_plan(project: Path) -> None:
    import shutil

    shutil.rmtree(project.parent / "lake/silver/refunds")
    rc, out, _ = enforce(project, "--apply")
    assert rc == 3 and out["applied"] is False
    assert constraints(project.parent, "orders") == {}  # all tables or none
    by = {d["dataset"]: d for d in out["datasets"]}
    assert "no Delta table" in by["silver.refunds"]["error"]
    assert len(by["silver.orders"]["constraints"]) == 4


def test_dlt_export_groups_expectations_by_severity_in_spark_sql(project: Path) -> None:
    proc = run_cli("--config", str(project), "quality", "export", "--format", "dlt", "orders", check=0)
    source = proc.stdout
    tree = ast.parse(source)
    assigns = {t.targets[0].id: ast.literal_eval(t.value) for t in tree.body if isinstance(t, ast.Assign)}
    assert (
        assigns["ORDERS_WARN"]
        == {
            "channel_be_in_set": "channel IS NULL OR channel IN ('web', 'shop')",
            "status_value_lengths_to_be_between": "status IS NULL OR LENGTH(status) >= 3",  # mostly 0.5: tracked only
        }
    )
    assert set(assigns["ORDERS_DROP"]) == {
        "order_id_not_be_null",
        "order_id_match_regex",
        "amount_be_between",
        "status_be_in_set",
    }
    assert "order_id RLIKE '^O[0-9]+$'" in assigns["ORDERS_DROP"]["order_id_match_regex"]
    for sql in [*assigns["ORDERS_WARN"].values(), *assigns["ORDERS_DROP"].values()]:
        sqlglot.parse_one(sql, read="spark")  # valid Spark SQL
    assert "dlt.expect_all_or_drop(ORDERS_DROP)" in source and "dlt.expect_all(ORDERS_WARN)" in source
    assert "expect_column_values_to_be_unique(order_id)" in source.split("Not expressible")[1]
    fail = run_cli(
        "--config",
        str(project),
        "quality",
        "export",
        "--format",
        "dlt",
        "orders",
        "--on-error",
        "fail",
        check=0,
    )
    assert "dlt.expect_all_or_fail(ORDERS_FAIL)" in fail.stdout
    ast.parse(fail.stdout)


@pytest.mark.slow
def test_dlt_expressions_count_on_spark_what_quality_run_counts(project: Path) -> None:
    from governance.lake.engines import local_spark

    root = project.parent
    write(
        root, "orders", {**ORDERS, "order_id": ["O7", "bad-id", None, "O9"], "amount": [-5.0, 2.0, 3.0, 4.0]}
    )
    source = run_cli(
        "--config", str(project), "quality", "export", "--format", "dlt", "orders", check=0
    ).stdout
    assigns = {
        t.targets[0].id: ast.literal_eval(t.value)
        for t in ast.parse(source).body
        if isinstance(t, ast.Assign)
    }
    spark = local_spark()
    df = spark.createDataFrame(DeltaTable(str(root / "lake/silver/orders")).to_pandas())
    failing = {name: df.filter(f"NOT ({sql})").count() for name, sql in assigns["ORDERS_DROP"].items()}
    run = json.loads(
        run_cli("--config", str(project), "--output", "json", "quality", "run", "--suite", "orders").stdout
    )
    counts = {
        r["expectation_config"]["type"] + ":" + r["expectation_config"]["kwargs"]["column"]: r["result"][
            "unexpected_count"
        ]
        for r in run["suites"][0]["results"]
        if "unexpected_count" in r["result"]
    }
    assert failing["order_id_not_be_null"] == counts["expect_column_values_to_not_be_null:order_id"] == 1
    assert failing["order_id_match_regex"] == counts["expect_column_values_to_match_regex:order_id"] == 1
    assert failing["amount_be_between"] == counts["expect_column_values_to_be_between:amount"] == 1
