"""The lake on abfss://, for real: `demo init` writes to Azurite and `governance.lake.resolve` reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azurite_server import ACCOUNT, ACCOUNT_KEY, Azurite
from helpers import copy_project, run_cli

from governance.lake import resolve
from governance.project import load_project


@pytest.mark.slow
def test_demo_lake_on_abfss_through_azurite(azurite: Azurite, tmp_path: Path) -> None:
    azurite.create_container("lake")
    config = copy_project(tmp_path / "proj")
    text = config.read_text()
    root = f"abfss://lake@{ACCOUNT}.dfs.core.windows.net/smartflow"
    remote = f'lake:\n  root: {root}\n  storage_options: {{account_key: "${{SFG_TEST_AZURITE_KEY}}"}}\n'
    assert "lake: {root: lake}" in text
    config.write_text(text.replace("lake: {root: lake}", remote.rstrip("\n"), 1))
    env = {  # the account key through ${VAR} in smartflow.yaml, the rest as AZURE_STORAGE_* variables
        "SFG_TEST_AZURITE_KEY": ACCOUNT_KEY,
        "AZURE_STORAGE_ACCOUNT_NAME": ACCOUNT,
        "AZURE_STORAGE_ENDPOINT": azurite.endpoint,
        "AZURE_STORAGE_ALLOW_HTTP": "true",
    }
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "demo",
        "init",
        "--scale",
        "0.02",
        "--as-of",
        "2026-06-01T10:00:00Z",
        env=env,
        check=0,
    )
    summary = json.loads(proc.stdout)
    assert summary["lake"] == root
    rows = {d["dataset"]: d["rows"] for d in summary["datasets"]}
    assert not (tmp_path / "proj" / "lake").exists()  # nothing went to a local folder

    again = run_cli("--config", str(config), "demo", "init", "--scale", "0.02", env=env)
    assert again.returncode == 2 and "--force" in again.stderr  # it sees the remote tables

    monkey = pytest.MonkeyPatch()
    try:
        for k, v in env.items():
            monkey.setenv(k, v)
        project = load_project(config)
        for name in ("bronze.sqlserver_transactions", "silver.transactions", "gold.daily_revenue"):
            loc = resolve.locate(project, name)
            assert loc.is_remote and loc.uri and loc.uri.startswith(root)
            assert loc.storage_options["account_key"] == ACCOUNT_KEY
            assert resolve.exists(loc)
            assert resolve.arrow_dataset(loc).count_rows() == rows[name]
        bronze = resolve.delta_table(resolve.locate(project, "bronze.sqlserver_transactions"))
        assert "smartflow.arrived_at" in bronze.history(1)[0]
        assert resolve.known_columns(project, "silver.transactions") == list(
            project.dataset("silver.transactions").columns
        )
    finally:
        monkey.undo()
