"""A project nobody here wrote, run through the real CLI: what broke on it stays fixed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import run_cli


def test_lake_root_from_an_environment_variable_is_read(hospital: Path) -> None:
    proc = run_cli("--output", "json", "quality", "run", cwd=hospital)
    assert proc.returncode == 1, proc.stderr  # the lab values fail their bound, nothing errors
    (suite,) = json.loads(proc.stdout)["suites"]
    assert suite["statistics"]["errored_expectations"] == 0
    between, exists_in = suite["results"]
    assert (between["success"], between["result"]["unexpected_count"]) == (False, 2)
    assert (exists_in["success"], exists_in["result"]["unexpected_count"]) == (True, 0)


def test_unset_lake_root_variable_is_bad_input(hospital: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRIAL_LAKE"}
    exe = Path(sys.executable).with_name("smartflow-gov")
    proc = subprocess.run([str(exe), "quality", "run"], cwd=hospital, env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "smartflow.yaml:2: " in proc.stderr and "TRIAL_LAKE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_glossary_assigned_to_an_undeclared_column_syncs_and_reapplies_nothing(hospital: Path) -> None:
    first = run_cli("--output", "json", "sync-glossary", "--apply", cwd=hospital)
    assert first.returncode == 0, first.stderr
    plan = json.loads(first.stdout)
    assert plan["summary"]["create"] > 0
    assert any("clinical.lab_results.value" in w for w in plan["warnings"])
    second = run_cli("--output", "json", "sync-glossary", "--apply", cwd=hospital, check=0)
    again = json.loads(second.stdout)
    assert again["requests"]["write"] == 0
    assert again["summary"]["create"] == again["summary"]["update"] == again["summary"]["delete"] == 0
