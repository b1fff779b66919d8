"""`validate` refuses references that would only fail later: a table in a job's SQL that is not a
dataset, a critical column that does not exist, a critical data element that names a dataset instead of a
column — each FILE:LINE, exit 2, nothing run."""

from __future__ import annotations

from pathlib import Path

from helpers import copy_project, run_cli


def _validate(cfg: Path) -> tuple[int, str]:
    proc = run_cli("--config", str(cfg), "validate", "--no-data")
    return proc.returncode, proc.stdout + proc.stderr


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_the_project_as_shipped_is_valid(tmp_path: Path) -> None:
    assert _validate(copy_project(tmp_path))[0] == 0


def test_a_table_in_a_jobs_sql_that_is_not_a_dataset_is_refused_at_its_line(tmp_path: Path) -> None:
    cfg = copy_project(tmp_path)
    manifest = tmp_path / "manifests" / "gold_anomaly_alerts.yaml"
    _edit(manifest, "FROM silver.device_telemetry AS d", "FROM silver.device_telemetri AS d")
    line = next(i for i, t in enumerate(manifest.read_text().splitlines(), 1) if "device_telemetri AS" in t)
    code, out = _validate(cfg)
    assert code == 2
    assert f"manifests/gold_anomaly_alerts.yaml:{line}:" in out
    assert "'silver.device_telemetri'" in out and "did you mean 'silver.device_telemetry'" in out


def test_what_a_jobs_sql_names_is_kept_by_its_text_and_judged_against_todays_datasets(tmp_path: Path) -> None:
    cfg = copy_project(tmp_path)
    (tmp_path / ".smartflow").mkdir()
    manifest = tmp_path / "manifests" / "gold_anomaly_alerts.yaml"
    _edit(manifest, "FROM silver.device_telemetry AS d", "FROM silver.device_telemetri AS d")
    first = _validate(cfg)
    assert first[0] == 2 and (tmp_path / ".smartflow/cache/sql_tables.json").is_file()
    assert _validate(cfg) == first  # from the kept parse
    _edit(cfg, "  silver.device_telemetry:\n", "  silver.device_telemetri:\n")  # now it is a dataset
    code, out = _validate(cfg)
    assert "'silver.device_telemetri', which is not a declared dataset" not in out, out


def test_ctes_and_tables_the_sql_creates_are_not_unknown_tables(tmp_path: Path) -> None:
    cfg = copy_project(tmp_path)
    manifest = tmp_path / "manifests" / "gold_anomaly_alerts.yaml"
    text = manifest.read_text()
    assert "WITH hourly AS" in text  # the shipped SQL reads its own CTEs
    _edit(
        manifest,
        "sql: |\n",
        "sql: |\n  CREATE TEMP TABLE scratch AS SELECT 1 AS x;\n  SELECT * FROM scratch;\n",
    )
    assert _validate(cfg)[0] == 0


def test_a_critical_column_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    cfg = copy_project(tmp_path)
    silver = tmp_path / "classifications" / "assignments" / "silver.yaml"
    _edit(
        silver,
        "  - dataset: silver.customers\n",
        "  - dataset: silver.customers\n    critical: [customer_idd]\n",
    )
    code, out = _validate(cfg)
    assert code == 2
    assert "classifications/assignments/silver.yaml:" in out
    assert "silver.customers has no column 'customer_idd'" in out


def test_a_critical_data_element_naming_a_dataset_is_refused(tmp_path: Path) -> None:
    cfg = copy_project(tmp_path)
    domain = tmp_path / "domains" / "customer.yaml"
    _edit(domain, "      - silver.customers.customer_id\n", "      - silver.customers\n")
    code, out = _validate(cfg)
    assert code == 2
    assert "critical data element 'Customer Identifier': 'silver.customers' is a dataset" in out
