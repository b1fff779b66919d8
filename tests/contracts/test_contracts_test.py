"""`contract test`: a third-party contract (the ODCS full example's `receivers` table) on a small real Delta
lake, and the project's own contract on the SmartFlow demo lake, checked against `quality run`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from helpers import run_cli

# Adapted from the ODCS v3.1.0 full example (docs/examples/all/full-example.odcs.yaml): its `receivers`
# object, with the server moved to a local Delta folder and the quality rules a consumer would add.
THIRD_PARTY = """
apiVersion: v3.1.0
kind: DataContract
id: 53581432-6c55-4ba2-a65f-72344a91553a
version: 1.1.0
status: active
domain: seller
servers:
  - server: my-lake
    type: local
    path: ../lake/master/receivers_master
    format: delta
schema:
  - id: receivers_obj
    name: receivers
    physicalName: receivers_master
    physicalType: table
    businessName: Receivers Master Data
    properties:
      - id: receiver_id_prop
        name: id
        primaryKey: true
        primaryKeyPosition: 1
        logicalType: string
        physicalType: varchar(18)
        required: true
        unique: true
        classification: restricted
      - id: country_code_prop
        name: country_code
        primaryKey: true
        primaryKeyPosition: 2
        logicalType: string
        required: true
        quality:
          - id: country_code_valid
            metric: invalidValues
            mustBeLessOrEqualTo: 5
            unit: percent
            arguments: {validValues: [FR, DE, NL, US]}
            severity: error
      - id: receiver_name_prop
        name: receiver_name
        logicalType: string
        required: true
        classification: PII
        quality:
          - id: receiver_name_short
            type: custom
            engine: greatExpectations
            implementation: {type: expect_column_value_lengths_to_be_between, kwargs: {max_value: 3}}
      - id: receiver_type_prop
        name: receiver_type
        logicalType: string
        quality:
          - name: receiver_type_known
            type: custom
            engine: greatExpectations
            implementation:
              type: expect_column_values_to_be_in_set
              kwargs: {value_set: [individual, business]}
            severity: warning
      - id: credit_limit_prop
        name: credit_limit
        logicalType: integer
        quality:
          - id: credit_limit_nulls
            metric: nullValues
            mustBeLessThan: 2
            unit: rows
    quality:
      - id: volume
        metric: rowCount
        mustBeBetween: [3, 1000]
      - id: freshness_sql
        type: sql
        query: SELECT max(updated_at) FROM receivers
        mustBeGreaterThan: 0
"""


def write_receivers(root: Path, rows: list[tuple[Any, ...]]) -> None:
    ids, countries, names, types, limits = (list(c) for c in zip(*rows, strict=True))
    table = pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "country_code": pa.array(countries, pa.string()),
            "receiver_name": pa.array(names, pa.string()),
            "receiver_type": pa.array(types, pa.string()),
            "credit_limit": pa.array(limits, pa.float64()),  # a double where the contract says integer
        }
    )
    write_deltalake(str(root / "lake/master/receivers_master"), table, mode="overwrite")


GOOD = [
    ("R1", "FR", "Ada", "business", 10.0),
    ("R2", "DE", "Bob", "individual", 20.0),
    ("R3", "NL", "Cyd", "business", None),
    ("R4", "US", "Dee", "individual", 5.0),
]


@pytest.fixture()
def consumer(tmp_path: Path) -> tuple[Path, Path]:
    """A consumer's project (declaring nothing about receivers) and the producer's contract beside it."""
    (tmp_path / "smartflow.yaml").write_text("version: 1\nlake: {root: lake}\ndatasets: {}\n")
    (tmp_path / "contracts").mkdir()
    contract = tmp_path / "contracts/receivers.odcs.yaml"
    contract.write_text(THIRD_PARTY)
    return tmp_path / "smartflow.yaml", contract


def results_by_id(proc: Any) -> dict[str, dict[str, Any]]:
    payload = json.loads(proc.stdout)
    (suite,) = payload["suites"]
    return {r["expectation_config"]["meta"]["odcs_id"]: r for r in suite["results"]}


def test_a_third_party_contract_passes_on_data_that_keeps_it(consumer: tuple[Path, Path]) -> None:
    config, contract = consumer
    write_receivers(config.parent, GOOD)
    proc = run_cli("--config", str(config), "--output", "json", "contract", "test", str(contract))
    res = results_by_id(proc)
    failed = {k for k, r in res.items() if not r["success"]}
    # the declared integer column holds doubles: a schema check fails, with the observed type
    assert failed == {"credit_limit_prop.logicalType", "freshness_sql"}
    assert res["credit_limit_prop.logicalType"]["result"]["observed_value"] == "DOUBLE"
    assert res["freshness_sql"]["exception_info"]["raised_exception"] is True  # sql rules are not run
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["suites"][0]["queries"] <= 3  # one fused scan (+ unique extras)


def test_a_third_party_contract_reports_each_broken_promise(consumer: tuple[Path, Path]) -> None:
    config, contract = consumer
    text = contract.read_text().replace("logicalType: integer", "logicalType: number")
    contract.write_text(text)
    bad = [
        *GOOD,
        ("R4", "US", None, "alien", None),  # duplicate key, missing name, a second null limit
        ("R5", "XX", "Eveline", "business", 1.0),  # unknown country, a name too long
    ]
    write_receivers(config.parent, bad)
    proc = run_cli("--config", str(config), "--output", "json", "contract", "test", str(contract))
    assert proc.returncode == 1
    res = results_by_id(proc)
    failed = {k for k, r in res.items() if not r["success"]}
    assert failed == {
        "receiver_id_prop.unique",
        "receivers.primaryKey",
        "receiver_name_prop.required",
        "country_code_valid",  # 1 of 6 > 5 %
        "receiver_type_known",  # warning severity: reported, does not decide the exit code alone
        "credit_limit_nulls",  # 2 nulls, must be < 2
        "receiver_name_short",
        "freshness_sql",
    }
    assert res["country_code_valid"]["result"]["unexpected_percent"] == pytest.approx(100 / 6)
    assert res["credit_limit_nulls"]["result"]["unexpected_count"] == 2
    assert res["credit_limit_nulls"]["expectation_config"]["meta"]["odcs_threshold"] == {
        "mustBeLessThan": 2,
        "of": "unexpected_count",
    }
    assert res["receiver_type_known"]["expectation_config"]["severity"] == "warn"
    assert res["volume"]["success"] is True  # 6 rows in [3, 1000]
    # the contract classifies receiver_name as PII: its failing values are shown masked only
    sample = res["receiver_name_short"]["result"]["partial_unexpected_list"]
    assert res["receiver_name_short"]["success"] is False and sample and "Eve" not in proc.stdout


def test_contract_for_a_declared_dataset_named_by_dataset_option(tmp_path: Path) -> None:
    write_receivers(tmp_path, GOOD)
    (tmp_path / "smartflow.yaml").write_text(
        textwrap.dedent(
            """
            version: 1
            lake: {root: lake}
            datasets:
              master.receivers: {format: delta, path: master/receivers_master, layer: silver}
            """
        )
    )
    contract = tmp_path / "elsewhere.odcs.yaml"  # no server entry: --dataset says where the data is
    text = THIRD_PARTY.split("schema:")[1].replace("logicalType: integer", "logicalType: number")
    contract.write_text(
        "apiVersion: v3.1.0\nkind: DataContract\nid: r\nversion: 1.0.0\nstatus: active\nschema:" + text
    )
    cfg = str(tmp_path / "smartflow.yaml")
    proc = run_cli("--config", cfg, "contract", "test", str(contract))
    assert proc.returncode == 2 and "use --dataset NAME" in proc.stderr
    proc = run_cli(
        "--config",
        cfg,
        "--output",
        "json",
        "contract",
        "test",
        "--dataset",
        "master.receivers",
        str(contract),
    )
    # the sql rule cannot run here: an error result (SPEC 6.1), not a failure, so the contract passes
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = results_by_id(proc)
    assert [k for k, r in res.items() if not r["success"]] == ["freshness_sql"]
    assert res["freshness_sql"]["exception_info"]["raised_exception"] is True
    assert all(r["success"] for k, r in res.items() if k != "freshness_sql")


def test_missing_table_of_a_declared_dataset_is_an_infrastructure_fault(tmp_path: Path) -> None:
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\nlake: {root: lake}\ndatasets:\n  master.receivers: {format: delta, path: nowhere, layer: silver}\n"
    )
    contract = tmp_path / "c.odcs.yaml"
    contract.write_text(THIRD_PARTY)
    proc = run_cli(
        "--config",
        str(tmp_path / "smartflow.yaml"),
        "contract",
        "test",
        "--dataset",
        "master.receivers",
        str(contract),
    )
    assert proc.returncode == 3 and "Traceback" not in proc.stderr


def test_the_projects_own_contract_on_the_demo_lake_agrees_with_quality_run(
    demo_project: Path, tmp_path: Path
) -> None:
    config = str(demo_project / "smartflow.yaml")
    run_cli(
        "--config",
        config,
        "contract",
        "export",
        "--dataset",
        "gold.customer360_view",
        "--out",
        str(tmp_path),
        check=0,
    )
    contract = tmp_path / "gold.customer360_view.odcs.yaml"
    tested = json.loads(
        run_cli("--config", config, "--output", "json", "contract", "test", str(contract)).stdout
    )
    run = json.loads(
        run_cli(
            "--config", config, "--output", "json", "quality", "run", "--suite", "gold_customer360_view"
        ).stdout
    )

    def verdicts(results: list[dict[str, Any]]) -> list[tuple[str, str, bool, Any]]:
        return sorted(
            (
                r["expectation_config"]["type"],
                json.dumps(r["expectation_config"]["kwargs"], sort_keys=True),
                r["success"],
                r["result"].get("unexpected_count"),
            )
            for r in results
        )

    suite_results = run["suites"][0]["results"]
    contract_results = tested["suites"][0]["results"]
    ids = [r["expectation_config"]["meta"]["odcs_id"] for r in contract_results]
    quality_part = [r for r in contract_results if "." not in r["expectation_config"]["meta"]["odcs_id"]]
    assert len(ids) == len(set(ids))
    assert verdicts(quality_part) == verdicts(suite_results)
    assert tested["suites"][0]["queries"] == run["suites"][0]["queries"]  # same fused scan


def test_importing_a_third_party_contract_declares_its_suite_and_labels(tmp_path: Path) -> None:
    write_receivers(tmp_path, GOOD)
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\nlake: {root: lake}\ndatasets:\n"
        "  master.receivers: {format: delta, path: master/receivers_master, layer: silver}\n"
    )
    (tmp_path / "classifications").mkdir()
    (tmp_path / "classifications/labels.yaml").write_text(
        "# our labels\nlabels:\n  - {name: PII, sensitivity: 9}\n  - {name: Restricted, sensitivity: 5}\n"
    )
    (tmp_path / "contracts").mkdir()
    contract = tmp_path / "contracts/receivers.odcs.yaml"
    contract.write_text(THIRD_PARTY)  # its server path is where master.receivers lives
    cfg = str(tmp_path / "smartflow.yaml")
    proc = run_cli(
        "--config", cfg, "--output", "json", "contract", "import", "--write", str(contract), check=0
    )
    out = json.loads(proc.stdout)
    assert [c["dataset"] for c in out["contracts"]] == ["master.receivers"]
    problems = "\n".join(out["problems"])
    assert "rule freshness_sql: a sql rule is not evaluated" in problems
    assert "rule credit_limit_nulls: threshold mustBeLessThan 2" in problems
    suite = (tmp_path / "expectations/silver/master_receivers.yaml").read_text()
    assert suite.startswith("# yaml-language-server: $schema=../../schemas/expectations.schema.json")
    for expected in (
        "kwargs: {column: country_code, value_set: [FR, DE, NL, US], mostly: 0.95}",
        "kwargs: {value_set: [individual, business], column: receiver_type}",
        "kwargs: {min_value: 3, max_value: 1000}",
        "kwargs: {column: id}",  # required + unique
        "kwargs: {column: receiver_name}",
    ):
        assert expected in suite, suite
    labels = (tmp_path / "classifications/labels.yaml").read_text()
    assert labels.startswith("# our labels")  # untouched: assignments go to a file of their own
    assigned = (tmp_path / "classifications/contracts.yaml").read_text()
    assert "id: [Restricted]" in assigned and "receiver_name: [PII]" in assigned
    config = (tmp_path / "smartflow.yaml").read_text()
    assert "key: [id, country_code]" in config
    run_cli("--config", cfg, "validate", "--no-data", check=0)
    again = json.loads(
        run_cli("--config", cfg, "--output", "json", "contract", "import", str(contract), check=0).stdout
    )
    assert again["changes"] == []
    # the suite it wrote runs with quality run and passes on data that keeps the contract
    run = json.loads(
        run_cli("--config", cfg, "--output", "json", "quality", "run", "--suite", "master_receivers").stdout
    )
    assert run["suites"][0]["success"] is True
