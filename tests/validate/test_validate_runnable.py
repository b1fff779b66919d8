"""validate says no to what cannot run: a kwarg of the wrong type, and an expectation the engine of its
dataset marks Unsupported, are FILE:LINE and exit 2. The vocabulary, the JSON Schema and the registry of
implementations name the same types and kwargs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PG_URL, copy_project, run_cli

from governance.quality.expectations import REGISTRY
from governance.quality.expectations.vocabulary import VOCABULARY, kwarg_schema
from governance.specs.schema_export import schema_for
from governance.validation import check

SUITE = """suite: checks
dataset: silver.transactions
expectations:
  - type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: lots}
  - type: expect_column_values_to_not_be_null
    kwargs: {column: region, row_condition: 'region = "x"'}
  - type: expect_column_values_to_be_dateutil_parseable
    kwargs: {column: region}
  - type: expect_column_values_to_be_in_set
    kwargs: {column: region, value_set: north}
  - type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: 0, strict_min: "yes", mostly: high}
  - type: expect_compound_columns_to_be_unique
    kwargs: {column_list: transaction_id}
  - type: expect_column_values_to_be_between
    kwargs: {column: transaction_date, min_value: "2024-01-01", max_value: "2030-12-31T00:00:00Z"}
"""


def _messages(config: Path) -> list[str]:
    return [str(p) for p in check(config, check_data=False)[1]]


def _line(path: Path, needle: str, start: int = 0) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, t in enumerate(lines, 1) if i > start and needle in t)


def test_wrong_kwarg_types_and_what_duckdb_cannot_run_are_file_line(tmp_path: Path) -> None:
    config = copy_project(tmp_path)
    suite = tmp_path / "expectations" / "silver" / "checks.yaml"
    suite.write_text(SUITE)
    found = _messages(config)
    rel = "expectations/silver/checks.yaml"
    assert f"{rel}:5: expect_column_values_to_be_between: kwarg 'min_value' must be a number, an ISO-8601 " \
           "date or date-time, or null, got a string ('lots')" in found  # fmt: skip
    assert any(
        m.startswith(f"{rel}:7: expect_column_values_to_not_be_null: the duckdb engine cannot run this:")
        and "row_condition" in m
        for m in found
    ), found
    assert (
        f"{rel}:8: expectation type 'expect_column_values_to_be_dateutil_parseable' is not implemented by "
        "smartflow-gov" in found
    )
    assert (
        f"{rel}:11: expect_column_values_to_be_in_set: kwarg 'value_set' must be a list, got a string ('north')"
        in found
    )
    assert (
        f"{rel}:13: expect_column_values_to_be_between: kwarg 'strict_min' must be true or false, got a string ('yes')"
        in found
    )
    assert (
        f"{rel}:13: expect_column_values_to_be_between: mostly must be a number between 0 and 1" not in found
    )
    assert any(m.startswith(f"{rel}:13:") and "'mostly' must be a number between 0 and 1" in m for m in found)
    assert (
        f"{rel}:15: expect_compound_columns_to_be_unique: kwarg 'column_list' must be a list of strings, got a string ('transaction_id')"
        in found
    )
    assert not any(m.startswith(f"{rel}:17:") for m in found), found  # ISO dates are good bounds
    assert all(m.startswith(rel) for m in found), found

    proc = run_cli("--config", str(config), "validate", "--no-data")
    assert proc.returncode == 2 and f"{rel}:5:" in proc.stderr and "Traceback" not in proc.stderr


def test_a_numeric_column_with_a_date_bound_is_refused_by_the_engine_rule(tmp_path: Path) -> None:
    """The declared type matters: the engine's own check ("cannot compare numeric column with string")
    is what validate reports."""
    config = copy_project(tmp_path)
    (tmp_path / "expectations" / "silver" / "checks.yaml").write_text(
        "suite: checks\ndataset: silver.transactions\nexpectations:\n"
        "  - type: expect_column_values_to_be_between\n    kwargs: {column: amount, max_value: '2024-01-01'}\n"
    )
    found = _messages(config)
    assert len(found) == 1 and found[0].startswith("expectations/silver/checks.yaml:5:"), found
    assert "the duckdb engine cannot run this" in found[0] and "numeric" in found[0]


def test_what_postgresql_cannot_run_is_reported_for_a_sql_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = copy_project(tmp_path)
    text = config.read_text().replace(
        "\nconnections:",
        "\n  gold.orders_wh:\n    format: sql\n    layer: gold\n    connection: warehouse\n    table: public.orders\n"
        "    columns: {order_id: INTEGER, payload: VARCHAR, placed: VARCHAR}\n\nconnections:",
    )
    config.write_text(text)
    suite = tmp_path / "expectations" / "gold" / "orders.yaml"
    suite.write_text(
        "suite: orders\ndataset: gold.orders_wh\nexpectations:\n"
        "  - {type: expect_column_values_to_be_json_parseable, kwargs: {column: payload}}\n"
        "  - {type: expect_column_values_to_match_strftime_format, kwargs: {column: placed, strftime_format: '%Y'}}\n"
        "  - {type: expect_column_values_to_not_be_null, kwargs: {column: order_id}}\n"
    )
    monkeypatch.delenv("SMARTFLOW_WAREHOUSE_URL", raising=False)
    assert _messages(config) == []  # the engine is unknown without the connection: nothing guessed
    monkeypatch.setenv("SMARTFLOW_WAREHOUSE_URL", PG_URL)
    found = _messages(config)
    assert [m.split(": ", 1)[0] for m in found] == [
        "expectations/gold/orders.yaml:4",
        "expectations/gold/orders.yaml:5",
    ]
    assert all("the sql engine cannot run this" in m and "postgres" in m for m in found), found
    # on DuckDB (a Delta dataset) the same two run
    duck = tmp_path / "expectations" / "silver" / "duck.yaml"
    duck.write_text(
        suite.read_text()
        .replace("gold.orders_wh", "silver.transactions")
        .replace("suite: orders", "suite: duck")
        .replace("payload", "region")
        .replace("placed", "payment_method")
        .replace("order_id", "transaction_id")
    )
    assert [m for m in _messages(config) if "duck.yaml" in m] == []


def test_the_vocabulary_the_registry_and_the_json_schema_name_the_same_types() -> None:
    assert set(VOCABULARY) == set(REGISTRY)
    schema = schema_for("expectations")
    expectation = schema["$defs"]["Expectation"]
    assert set(expectation["properties"]["type"]["enum"]) == set(REGISTRY)
    for case in expectation["allOf"]:
        name = case["if"]["properties"]["type"]["const"]
        props = case["then"]["properties"]["kwargs"]["properties"]
        assert set(props) == set(VOCABULARY[name].allowed)
        assert all(props[k] == kwarg_schema(k) for k in props)


def test_the_committed_schemas_are_the_generated_ones(repo: Path) -> None:
    for kind in ("expectations",):
        committed = json.loads((repo / "schemas" / f"{kind}.schema.json").read_text())
        assert committed == json.loads(json.dumps(schema_for(kind))), (
            f"run smartflow-gov schema export schemas/ ({kind})"
        )
