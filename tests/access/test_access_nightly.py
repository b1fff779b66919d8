"""Access and posture on Azure as nightly steps and as a section of the audit report."""

from __future__ import annotations

import html
import json
from pathlib import Path

from arm_estate import ANALYST, env, write_project
from arm_server import ArmServer
from helpers import run_cli


def test_nightly_steps_and_audit_section(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    args = ["--config", str(config), "--output", "json", "nightly"]
    proc = run_cli(
        *args, "--step", "access-azure", "--step", "posture", "--step", "reports", env=env(arm.url)
    )
    assert proc.returncode == 1, proc.stderr
    steps = {s["name"]: s for s in json.loads(proc.stdout)["steps"]}
    assert steps["access-azure"]["status"] == "failed"
    assert steps["access-azure"]["summary"] == "10 violation(s) (azure, synapse)"
    assert steps["posture"]["status"] == "failed"
    assert steps["posture"]["summary"] == "5 finding(s) on 2 account(s)"
    report = next((tmp_path / "reports").glob("audit-*.html")).read_text()
    text = html.unescape(report)
    assert "Access and storage posture on Azure" in text
    assert f"<code>{ANALYST}</code>" in text
    assert "az role assignment delete --ids /subscriptions/" in text
    assert (
        "az storage account update --name sfevents --resource-group rg-events --min-tls-version TLS1_2"
        in text
    )
    assert "test-token-not-a-secret" not in report


def test_nightly_skips_both_without_azure(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    text = config.read_text()
    config.write_text(text[: text.index("azure:")] + text[text.index("datasets:") :])
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "nightly",
        "--step",
        "access-azure",
        "--step",
        "posture",
        "--step",
        "reports",
    )
    assert proc.returncode == 0, proc.stderr
    steps = {s["name"]: s for s in json.loads(proc.stdout)["steps"]}
    assert (steps["access-azure"]["status"], steps["access-azure"]["summary"]) == (
        "skipped",
        "no `azure:` section in smartflow.yaml",
    )
    assert steps["posture"]["status"] == "skipped"
    report = html.unescape(next((tmp_path / "reports").glob("audit-*.html")).read_text())
    assert "step 'posture' skipped: no `azure:` section in smartflow.yaml" in report


def test_nightly_records_an_arm_outage_and_goes_on(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    arm.state.fail_after = 4  # ARM answers 503 from the fifth request on, retries included
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "nightly",
        "--step",
        "access-azure",
        "--step",
        "posture",
        "--step",
        "reports",
        env=env(arm.url),
    )
    assert proc.returncode == 3, proc.stderr
    steps = {s["name"]: s for s in json.loads(proc.stdout)["steps"]}
    assert steps["access-azure"]["status"] == "error"
    assert "503" in steps["access-azure"]["error"]
    assert steps["posture"]["status"] == "error"
    assert steps["reports"]["status"] == "ok"
    report = html.unescape(next((tmp_path / "reports").glob("audit-*.html")).read_text())
    assert "step 'access-azure' error" in report
