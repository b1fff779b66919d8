"""GX ⇄ ODCS on the expectations the SmartFlow suites do not use: every one survives export + import."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli
from ruamel.yaml import YAML

CONFIG = """
version: 1
lake: {root: lake}
datasets:
  silver.things:
    format: delta
    path: silver/things
    layer: silver
    columns: {id: BIGINT, code: VARCHAR, score: DOUBLE, a: INTEGER, b: INTEGER, at: TIMESTAMP}
    freshness: {column: at, max_lag: PT90M}
"""
SUITE = """
# a comment that must survive
suite: things
dataset: silver.things
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: {column: id, mostly: 1}
  - type: expect_column_values_to_not_be_null
    kwargs: {column: code, mostly: 0.95}
    severity: warn
    notes: Codes arrive a day late for some sources.
    meta: {owner: ops}
  - type: expect_column_mean_to_be_between
    kwargs: {column: score, min_value: 0, max_value: 10}
  - type: expect_column_values_to_be_unique
    kwargs: {column: code, mostly: 0.9999999}
  - type: expect_column_values_to_be_in_set
    kwargs: {column: code, value_set: [A, B, 3], mostly: 0.333}
  - type: expect_column_values_to_match_regex
    kwargs: {column: code, regex: "^[A-Z]\\\\d?$"}
  - type: expect_compound_columns_to_be_unique
    kwargs: {column_list: [a, b]}
  - type: expect_compound_columns_to_be_unique
    kwargs: {column_list: [a, b], ignore_row_if: any_value_is_missing}
  - type: expect_table_row_count_to_be_between
    kwargs: {min_value: 10, max_value: 10}
  - type: expect_table_row_count_to_be_between
    kwargs: {min_value: 0, strict_min: true}
  - type: expect_table_row_count_to_be_between
    kwargs: {max_value: 1000, strict_max: false}
  - type: expect_table_row_count_to_be_between
    kwargs: {min_value: 1, max_value: 5}
  - type: expect_table_row_count_to_equal
    kwargs: {value: 7}
  - type: expect_column_pair_values_a_to_be_greater_than_b
    kwargs: {column_A: a, column_B: b, or_equal: true}
  - type: expect_column_values_to_be_between
    kwargs: {column: score, min_value: 0}
"""


def test_every_form_round_trips_without_change(tmp_path: Path) -> None:
    (tmp_path / "smartflow.yaml").write_text(CONFIG)
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations/things.yaml").write_text(SUITE)
    config = str(tmp_path / "smartflow.yaml")
    run_cli("--config", config, "validate", "--no-data", check=0)
    out = tmp_path / "out"
    run_cli("--config", config, "contract", "export", "--out", str(out), check=0)
    contract = out / "silver.things.odcs.yaml"
    plan = json.loads(
        run_cli("--config", config, "--output", "json", "contract", "import", str(contract), check=0).stdout
    )
    assert plan["changes"] == [] and plan["files"] == [], plan

    doc = YAML(typ="safe").load(contract.read_text())
    obj = doc["schema"][0]
    rules = [*obj.get("quality", []), *(r for p in obj["properties"] for r in p.get("quality", []))]
    kinds = {r["id"]: (r["type"], r.get("metric")) for r in rules}
    assert kinds["id_not_be_null"] == ("library", "nullValues")
    assert kinds["score_mean_to_be_between"] == ("custom", None)  # a mean has no ODCS library metric
    assert kinds["a_b_compound_columns_to_be_unique"] == ("library", "duplicateValues")
    assert kinds["a_b_compound_columns_to_be_unique_2"] == ("custom", None)
    assert kinds["table_row_count_to_be_between"] == (
        "custom",
        None,
    )  # min == max: mustBeBetween needs two numbers
    assert kinds["table_row_count_to_be_between_3"] == ("custom", None)  # an explicit strict_max: false
    by_id = {r["id"]: r for r in rules}
    assert (by_id["id_not_be_null"]["mustBeLessOrEqualTo"], by_id["id_not_be_null"]["unit"]) == (
        0,
        "percent",
    )  # mostly: 1
    assert (
        by_id["code_not_be_null"]["mustBeLessOrEqualTo"] == 5
        and by_id["code_not_be_null"]["severity"] == "warning"
    )
    assert by_id["code_be_unique"]["mustBeLessOrEqualTo"] == 0.00001  # 1 - 0.9999999, no float noise
    assert by_id["code_be_in_set"]["mustBeLessOrEqualTo"] == 66.7
    assert by_id["table_row_count_to_be_between_2"]["mustBeGreaterThan"] == 0
    assert by_id["table_row_count_to_be_between_4"]["mustBeBetween"] == [1, 5]
    assert by_id["score_be_between"]["implementation"]["kwargs"] == {"column": "score", "min_value": 0}
    assert doc["slaProperties"] == [
        {"property": "latency", "value": 90, "unit": "m", "element": "silver.things.at"}
    ]

    # a consumer rewrites thresholds and units; the import turns them back into suite kwargs
    text = contract.read_text().replace("value: 90\n    unit: m", "value: 1.5\n    unit: hours")
    contract.write_text(text)
    plan = json.loads(
        run_cli("--config", config, "--output", "json", "contract", "import", str(contract), check=0).stdout
    )
    assert plan["changes"] == []  # 1.5 hours is PT90M
    run_cli("--config", config, "contract", "import", "--write", str(contract), check=0)
    assert (tmp_path / "expectations/things.yaml").read_text() == SUITE
