"""A project nobody here wrote, run through the real CLI: what broke on it stays fixed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli


def test_lake_root_from_an_environment_variable_is_read(hospital: Path) -> None:
    proc = run_cli("--output", "json", "quality", "run", cwd=hospital)
    assert proc.returncode == 1, proc.stderr  # the lab values fail their bound, nothing errors
    (suite,) = json.loads(proc.stdout)["suites"]
    assert suite["statistics"]["errored_expectations"] == 0
    between, exists_in = suite["results"]
    assert (between["success"], between["result"]["unexpected_count"]) == (False, 2)
    assert (exists_in["success"], exists_in["result"]["unexpected_count"]) == (True, 0)


@pytest.mark.parametrize("command", [["quality", "run"], ["freshness", "check"], ["nightly"]])
def test_unset_lake_root_variable_is_bad_input(hospital: Path, command: list[str]) -> None:
    config = hospital / "smartflow.yaml"
    text = config.read_text().replace(
        "  ref.patients:", "  ref.patients:\n    freshness: {column: x, max_lag: P1D}"
    )
    config.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "TRIAL_LAKE"}
    exe = Path(sys.executable).with_name("smartflow-gov")
    proc = subprocess.run([str(exe), *command], cwd=hospital, env=env, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "smartflow.yaml:2: " in proc.stderr and "TRIAL_LAKE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_glossary_assigned_to_an_undeclared_column_syncs_and_reapplies_nothing(hospital: Path) -> None:
    first = run_cli("--output", "json", "sync-glossary", "--apply", cwd=hospital)
    assert first.returncode == 0, first.stderr
    plan = json.loads(first.stdout)
    assert plan["summary"]["create"] > 0
    # the dataset declares no columns: the column comes from the Delta table itself and is assigned
    assert any(
        c["kind"] == "assignment"
        and c["action"] == "create"
        and "clinical.lab_results.value" in json.dumps(c)
        for c in plan["changes"]
    )
    second = run_cli("--output", "json", "sync-glossary", "--apply", cwd=hospital, check=0)
    again = json.loads(second.stdout)
    assert again["requests"]["write"] == 0
    assert again["summary"]["create"] == again["summary"]["update"] == again["summary"]["delete"] == 0


def test_contract_test_of_a_sql_table_checked_against_a_delta_table(hospital: Path) -> None:
    import sqlalchemy as sa
    from helpers import PG_URL

    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS trial_billing CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA trial_billing"))
        conn.execute(sa.text("CREATE TABLE trial_billing.invoices (invoice_id text, admission_id text)"))
        conn.execute(sa.text("INSERT INTO trial_billing.invoices VALUES ('I1', 'A10'), ('I2', 'A99')"))
    engine.dispose()
    config = hospital / "smartflow.yaml"
    config.write_text(
        config.read_text().replace(
            "catalog:",
            "  billing.invoices:\n    format: sql\n    connection: billing_db\n    table: trial_billing.invoices\n"
            '    layer: gold\nconnections:\n  billing_db: {url: "${TRIAL_PG_URL}"}\ncatalog:',
        )
    )
    (hospital / "expectations/gold").mkdir(parents=True)
    (hospital / "expectations/gold/invoices.yaml").write_text(
        "suite: invoices\ndataset: billing.invoices\nexpectations:\n"
        "  - type: expect_column_values_to_exist_in\n"
        "    kwargs: {column: admission_id, dataset: hospital.clinical.admissions, other_column: admission_id}\n"
    )
    env = {"TRIAL_PG_URL": PG_URL}
    run_cli(
        "contract",
        "export",
        "--dataset",
        "billing.invoices",
        "--out",
        "contracts",
        cwd=hospital,
        env=env,
        check=0,
    )
    contract = str(hospital / "contracts/billing.invoices.odcs.yaml")
    proc = run_cli("--output", "json", "contract", "test", contract, cwd=hospital, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (suite,) = json.loads(proc.stdout)["suites"]
    assert suite["statistics"]["errored_expectations"] == 0
    (exists_in,) = [
        r for r in suite["results"] if r["expectation_config"]["type"] == "expect_column_values_to_exist_in"
    ]
    assert (exists_in["success"], exists_in["result"]["unexpected_count"]) == (False, 1)
    text = run_cli("contract", "test", contract, cwd=hospital, env=env)
    assert text.returncode == 1 and "Traceback" not in text.stderr
    assert "contract test" in text.stdout


def test_one_errored_expectation_does_not_silence_the_suites_quality_alert(hospital: Path) -> None:
    suite = hospital / "expectations/silver/labs.yaml"
    # an expectation the engine cannot evaluate errors; the others are still judged
    suite.write_text(
        suite.read_text()
        + "  - type: expect_column_values_to_not_be_null\n"
        + "    kwargs: {column: value, row_condition: 'lab_site != \"X\"', condition_parser: great_expectations}\n"
    )
    (hospital / "alerts").mkdir()
    (hospital / "alerts/quality.yaml").write_text(
        "rules:\n  - name: labs-quality\n    kind: metric\n    metric: quality_success_percent\n"
        "    dimensions: {dataset: clinical.lab_results}\n    operator: LessThan\n    threshold: 100\n"
        "    aggregation: Minimum\n    window: P1D\n    frequency: PT1H\n    severity: 2\n"
        "    local: {metric: quality_success_percent, operator: LessThan, threshold: 100, aggregation: Minimum,"
        " dimensions: {dataset: clinical.lab_results}}\n"
    )
    run = run_cli("--output", "json", "quality", "run", cwd=hospital)
    (labs,) = json.loads(run.stdout)["suites"]
    assert labs["statistics"]["errored_expectations"] == 1
    assert labs["statistics"]["success_percent"] == 50.0
    evaluated = run_cli("--output", "json", "alerts", "evaluate", "--no-notify", cwd=hospital)
    assert evaluated.returncode in (0, 1), evaluated.stderr
    (rule,) = json.loads(evaluated.stdout)["rules"]
    assert (rule["rule"], rule["status"]) == ("labs-quality", "firing")
    shown = run_cli("--output", "json", "metrics", "show", cwd=hospital, check=0)
    assert "quality_success_percent" in shown.stdout


def test_a_length_rule_is_enforced_as_a_delta_constraint(hospital: Path) -> None:
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake
    from deltalake.exceptions import DeltaError

    (hospital / "expectations/silver/admissions.yaml").write_text(
        "suite: admissions\ndataset: hospital.clinical.admissions\nexpectations:\n"
        "  - type: expect_column_value_lengths_to_be_between\n"
        "    kwargs: {column: admission_id, min_value: 2, max_value: 3}\n"
    )
    run_cli("quality", "enforce", "--suite", "admissions", "--apply", cwd=hospital, check=0)
    table = os.environ["TRIAL_LAKE"] + "/clinical/admissions"
    checks = [k for k in DeltaTable(table).metadata().configuration if k.startswith("delta.constraints.sfg_")]
    assert len(checks) == 1
    plan = run_cli("--output", "json", "quality", "enforce", "--suite", "admissions", cwd=hospital, check=0)
    (ds,) = json.loads(plan.stdout)["datasets"]
    assert [c["action"] for c in ds["constraints"]] == ["noop"]  # a second apply changes nothing
    schema = DeltaTable(table).schema().to_arrow()
    row = {"admission_id": "A1234", "admitted_at": None, "admit_month": "2026-11"}
    with pytest.raises(DeltaError, match="failed validation"):
        write_deltalake(table, pa.Table.from_pylist([row], schema=pa.schema(schema)), mode="append")


def test_report_into_a_folder_that_cannot_be_made_is_bad_input(hospital: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = run_cli("report", "audit", "--out", str(blocker / "reports"), cwd=hospital)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "cannot create report folder" in proc.stderr


def test_a_partition_key_no_selected_table_has_is_bad_input(hospital: Path) -> None:
    typo = run_cli("quality", "run", "--suite", "labs", "--partition", "result_dat=2026-11-02", cwd=hospital)
    assert typo.returncode == 2 and "result_dat" in typo.stderr and "Traceback" not in typo.stderr
    assert not (hospital / "state/quality/runs").exists() or not any(
        (hospital / "state/quality/runs").iterdir()
    )
    # a value with a space and a slash, in one of two partition columns
    one = run_cli("--output", "json", "quality", "run", "--partition", "lab_site=Lab A/B", cwd=hospital)
    (labs,) = json.loads(one.stdout)["suites"]
    assert labs["partitions"] == {"lab_site": ["Lab A/B"]} and labs["rows_validated"] == 2
