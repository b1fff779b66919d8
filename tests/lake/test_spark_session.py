"""Which Spark session the spark engine uses (SPEC §6.3): spark.remote, else SPARK_REMOTE, else the active
session, else local — and a Connect URL's token never shows in a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli

from governance.errors import InputError
from governance.lake.spark_session import describe, remote_url
from governance.project import load_project


def _project(tmp_path: Path, spark: str) -> Path:
    (tmp_path / "smartflow.yaml").write_text(f"version: 1\nlake: {{root: lake}}\ndatasets: {{}}\n{spark}")
    return tmp_path / "smartflow.yaml"


def test_config_wins_over_spark_remote_and_expands_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _project(tmp_path, 'spark:\n  remote: "sc://cluster.example:15002/;token=${SFG_T}"\n')
    monkeypatch.setenv("SPARK_REMOTE", "sc://other.example:15002")
    monkeypatch.setenv("SFG_T", "s3cr3t-token")
    url = remote_url(load_project(config))
    assert url == "sc://cluster.example:15002/;token=s3cr3t-token"
    assert describe(url) == "sc://cluster.example:15002"


def test_spark_remote_then_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(_project(tmp_path, "spark: {conf: {spark.sql.shuffle.partitions: 8}}\n"))
    monkeypatch.setenv("SPARK_REMOTE", "sc://env.example:15002")
    assert remote_url(project) == "sc://env.example:15002"
    monkeypatch.delenv("SPARK_REMOTE")
    assert remote_url(project) is None  # the active session, else local[*]
    assert project.config.spark.conf == {"spark.sql.shuffle.partitions": 8}


def test_missing_variable_or_not_a_connect_url_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SFG_MISSING", raising=False)
    project = load_project(_project(tmp_path, 'spark: {remote: "sc://h:1/;token=${SFG_MISSING}"}\n'))
    with pytest.raises(InputError, match="SFG_MISSING"):
        remote_url(project)
    project = load_project(_project(tmp_path, "spark: {remote: 'http://h:1'}\n"))
    with pytest.raises(InputError, match="sc://"):
        remote_url(project)


def test_unknown_key_in_the_spark_section_is_reported_at_its_line(tmp_path: Path) -> None:
    config = _project(tmp_path, "spark:\n  remote: sc://h:1\n  master: local\n")
    proc = run_cli("--config", str(config), "validate", "--no-data")
    assert proc.returncode == 2 and "smartflow.yaml:" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
