"""The CLI contract: help, version, exit codes, FILE:LINE errors and never a traceback."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli


def test_help_lists_commands_and_exit_codes() -> None:
    proc = run_cli("--help", check=0)
    assert "validate" in proc.stdout
    assert "Exit codes" in proc.stdout


def test_version() -> None:
    assert "smartflow-gov" in run_cli("--version", check=0).stdout


def test_missing_config_is_bad_input(tmp_path: Path) -> None:
    proc = run_cli("--config", str(tmp_path / "nope.yaml"), "validate", check=2)
    assert "not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_repo_project_is_valid(repo: Path) -> None:
    proc = run_cli(
        "--config", str(repo / "smartflow.yaml"), "--output", "json", "validate", "--no-data", check=0
    )
    assert '"valid": true' in proc.stdout


def test_bad_yaml_reports_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\ndatasets:\n  silver.x:\n    format: delta\n    path: [\n"
    )
    proc = run_cli("--config", str(tmp_path / "smartflow.yaml"), "validate", check=2)
    assert proc.stderr.startswith("smartflow.yaml:")
    assert "Traceback" not in proc.stderr


def test_unknown_key_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\ndatasets:\n  silver.x:\n    format: delta\n    path: silver/x\n    layer: silver\n    colour: red\n"
    )
    proc = run_cli("--config", str(tmp_path / "smartflow.yaml"), "validate", check=2)
    assert "smartflow.yaml:7: unknown key 'colour'" in proc.stderr
