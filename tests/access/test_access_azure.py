"""`access check --source azure|synapse` and `posture check` over real HTTP against the local ARM server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from arm_estate import (
    ACCT_EVENTS,
    ANALYST,
    CONDITION,
    EXPECTED,
    OPS,
    RG_OTHER,
    STEWARDS,
    env,
    write_project,
)
from arm_server import ArmServer
from helpers import run_cli


def _run(config: Path, srv: ArmServer, *args: str, extra: dict[str, str] | None = None) -> tuple[int, dict]:
    proc = run_cli("--config", str(config), "--output", "json", *args, env={**env(srv.url), **(extra or {})})
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_azure_rbac_violations_are_found_exactly(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    code, out = _run(config, arm, "access", "check", "--source", "azure")
    assert code == 1
    assert out["sources"] == ["azure"]
    got = {(v["principal"], v["dataset"], v["label"], v["scope"], v["via"]) for v in out["violations"]}
    assert got == EXPECTED
    assert {v["condition"] for v in out["violations"] if "condition" in v} == {CONDITION}
    for v in out["violations"]:
        assert v["source"] == "azure"
        assert v["fix"] == f"az role assignment delete --ids {v['assignment_id']}"
        assert v["assignment_id"].startswith(
            v["scope"] + "/providers/Microsoft.Authorization/roleAssignments/"
        )
    # Owner reaches data through keys only: reported apart, never as a read violation
    assert {(k["principal"], k["via"]) for k in out["key_access"]} == {(OPS, "Owner")}
    assert "silver.local_only" in out["details"]["azure"]["not_on_adls"]
    # role definitions are read once each, whatever the number of assignments using them
    defs = [p for p in arm.state.paths() if "/roleDefinitions/" in p]
    assert len(defs) == len(set(defs))
    # the container scopes asked with atScope(), and lists followed nextLink across pages
    assignment_calls = [p for _, p in arm.state.requests if p.split("?")[0].endswith("/roleAssignments")]
    assert any("%24filter=atScope%28%29" in p or "$filter=atScope()" in p for p in assignment_calls)
    assert any("skipToken" in p for p in assignment_calls)
    assert any("skipToken" in p and "storageAccounts?" in p for _, p in arm.state.requests)


def test_stewards_and_leads_are_allowed_and_a_second_run_is_the_same(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    _, first = _run(config, arm, "access", "check", "--source", "azure")
    principals = {v["principal"] for v in first["violations"]}
    assert STEWARDS not in principals  # ${VAR} in principals, inherited from the subscription
    assert not any(v["principal"].startswith("c5c5") for v in first["violations"])  # id case does not matter
    assert not any(v["scope"].startswith(RG_OTHER) for v in first["violations"])
    _, second = _run(config, arm, "access", "check", "--source", "azure")
    assert second["violations"] == first["violations"]


def test_a_label_without_policy_is_unrestricted(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    (tmp_path / "policies/access.yaml").write_text(
        "policies:\n  - {label: Internal, allowed_roles: [nobody]}\n"
    )
    code, out = _run(config, arm, "access", "check", "--source", "azure")
    assert code == 1
    # only silver.events carries Internal; PII has no policy any more
    assert {v["dataset"] for v in out["violations"]} == {"silver.events"}
    assert {v["label"] for v in out["violations"]} == {"Internal"}
    assert any(v["principal"] == ANALYST for v in out["violations"]) is False  # RG rg-lake does not hold it


def test_synapse_workspace_roles(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    code, out = _run(config, arm, "access", "check", "--source", "synapse")
    assert code == 1
    got = {(v["principal"], v["via"]) for v in out["violations"]}
    assert got == {
        (ANALYST, "Synapse Compute Operator")
    }  # the administrator is a steward; artifacts read no data
    assert {v["dataset"] for v in out["violations"]} == {
        "silver.customers",
        "gold.customer360",
        "silver.transactions",
        "silver.local_only",
    }
    assert {v["fix"] for v in out["violations"]} == {
        "az synapse role assignment delete --workspace-name sfws --ids 5a000000-0000-0000-0000-000000000002 --yes"
    }
    assert {v["scope"] for v in out["violations"]} == {"workspaces/sfws"}
    # three assignments over two pages: the continuation header was sent back
    pages = [p for p in arm.state.paths() if p == "/roleAssignments"]
    assert len(pages) == 2
    assert out["details"]["synapse"]["assignments"] == 3


def test_posture_findings(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    code, out = _run(config, arm, "posture", "check")
    assert code == 1
    got = {(f["account"], f["setting"], str(f["actual"]), str(f["expected"])) for f in out["findings"]}
    assert got == {
        ("sfevents", "encryption", "microsoft-managed", "customer-managed"),
        ("sfevents", "min_tls", "TLS1_0", "TLS1_2"),
        ("sfevents", "public_blob_access", "True", "False"),
        ("sfevents", "public_network_access", "Enabled", "Disabled"),
        ("sfevents", "container_public_access", "Container", "None"),
    }
    by = {f["setting"]: f for f in out["findings"]}
    assert by["container_public_access"]["datasets"] == ["silver.events"]
    assert by["min_tls"]["datasets"] == ["silver.events", "silver.transactions"]
    assert by["min_tls"]["fix"] == (
        "az storage account update --name sfevents --resource-group rg-events --min-tls-version TLS1_2"
    )
    # the account holding no dataset is never judged, and only ARM metadata was read
    assert {a["account"] for a in out["accounts"]} == {"sfcustomers", "sfevents"}
    assert not any("sfscratch/blobServices" in p for p in arm.state.paths())
    assert all(
        p.startswith(("/subscriptions/", "/roleAssignments", "/roleDefinitions")) for p in arm.state.paths()
    )


def test_posture_clean_account_passes(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    (tmp_path / "policies/posture.yaml").write_text(
        "storage:\n  - account: sfcustomers\n    encryption: customer-managed\n    min_tls: TLS1_2\n"
    )
    code, out = _run(config, arm, "posture", "check")
    assert (code, out["findings"]) == (0, [])


def test_outage_mid_run_exits_3_without_secrets(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    arm.state.fail_after = 3
    proc = run_cli("--config", str(config), "access", "check", "--source", "azure", env=env(arm.url))
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "test-token-not-a-secret" not in proc.stderr + proc.stdout
    assert "503" in proc.stderr or "unreachable" in proc.stderr


def test_without_azure_section(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    text = config.read_text()
    start, end = text.index("azure:"), text.index("datasets:")
    config.write_text(text[:start] + text[end:])
    proc = run_cli("--config", str(config), "posture", "check", env=env(arm.url))
    assert proc.returncode == 2
    assert proc.stderr.startswith("smartflow.yaml: no `azure:` section")
    proc = run_cli("--config", str(config), "--output", "json", "access", "check", env=env(arm.url))
    assert proc.returncode == 0  # only the configured sources: postgres, here with no connection
    assert json.loads(proc.stdout)["sources"] == []
    assert arm.state.requests == []


@pytest.mark.parametrize("bad", ["http://example.com:9", "ftp://127.0.0.1"])
def test_arm_endpoint_from_env_is_checked(tmp_path: Path, arm: ArmServer, bad: str) -> None:
    config = write_project(tmp_path)
    proc = run_cli("--config", str(config), "posture", "check", env={**env(arm.url), "TEST_ARM": bad})
    assert proc.returncode == 2
    assert "smartflow.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_env_var_is_bad_input(
    tmp_path: Path, arm: ArmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_project(tmp_path)
    e = env(arm.url)
    del e["TEST_STEWARDS_GROUP"]
    monkeypatch.delenv("TEST_STEWARDS_GROUP", raising=False)
    proc = run_cli("--config", str(config), "access", "check", "--source", "azure", env=e)
    assert proc.returncode == 2
    assert "policies/access.yaml:2: environment variable TEST_STEWARDS_GROUP is not set" in proc.stderr


def test_datasets_on_an_account_outside_the_subscription(tmp_path: Path, arm: ArmServer) -> None:
    config = write_project(tmp_path)
    arm.state.storage_accounts = [a for a in arm.state.storage_accounts if a["id"] != ACCT_EVENTS]
    proc = run_cli(
        "--config", str(config), "--output", "json", "access", "check", "--source", "azure", env=env(arm.url)
    )
    assert proc.returncode == 3
    out = json.loads(proc.stdout)
    assert {e["dataset"] for e in out["errors"]} == {"silver.transactions"}
    assert any(v["dataset"] == "silver.customers" for v in out["violations"])  # the rest is still checked
