"""The `azure:` section, the policy files and absolute abfss:// dataset paths, as every command sees them."""

from __future__ import annotations

from pathlib import Path

import pytest
from arm_estate import write_project
from helpers import run_cli

from governance.access.permissions import allows
from governance.catalog.model import dataset_entity
from governance.lake.resolve import locate
from governance.lineage.openlineage import dataset_ref
from governance.project import load_project

BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


AZURE_ENV = {
    "TEST_SUBSCRIPTION": "sub-1",
    "TEST_ARM": "http://127.0.0.1:9",
    "TEST_SYNAPSE": "http://127.0.0.1:9",
}


@pytest.fixture(autouse=True)
def _azure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in AZURE_ENV.items():
        monkeypatch.setenv(k, v)


def test_alerts_default_to_the_azure_section(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    project = load_project(config)
    assert project.config.alerts.subscription_id == "sub-1"
    assert project.config.alerts.arm_endpoint == "http://127.0.0.1:9"
    text = config.read_text().replace(
        "datasets:", "alerts: {subscription_id: own, arm_endpoint: 'https://arm.example'}\ndatasets:", 1
    )
    config.write_text(text)
    own = load_project(config).config.alerts
    assert (own.subscription_id, own.arm_endpoint) == ("own", "https://arm.example")


def test_absolute_abfss_paths_are_honoured(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path))
    loc = locate(project, "gold.customer360")
    assert loc.uri == "abfss://gold@sfcustomers.dfs.core.windows.net/marts/customer360"
    assert loc.is_remote
    assert locate(project, "silver.local_only").uri == f"{project.root}/lake/silver/local_only"
    assert dataset_ref(project, "silver.transactions") == (
        "abfss://raw@sfevents.dfs.core.windows.net",
        "transactions",
    )
    entity = dataset_entity(project, "silver.transactions", project.config.datasets["silver.transactions"])
    assert entity.qualified_name.startswith("https://sfevents.dfs.core.windows.net/raw/transactions/")


def test_a_bad_posture_file_is_file_line(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    (tmp_path / "policies/posture.yaml").write_text("storage:\n  - account: '*'\n    min_tls: TLS1_9\n")
    proc = run_cli("--config", str(config), "validate")
    assert proc.returncode == 2
    assert proc.stderr.startswith("policies/posture.yaml:3: "), proc.stderr
    proc = run_cli("--config", str(config), "posture", "check")
    assert proc.returncode == 2 and "policies/posture.yaml:3: " in proc.stderr


def test_a_bad_principal_is_file_line(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    text = (
        (tmp_path / "policies/access.yaml")
        .read_text()
        .replace("customer_service_lead: {azure:", "customer_service_lead: {entra:")
    )
    (tmp_path / "policies/access.yaml").write_text(text)
    proc = run_cli("--config", str(config), "validate")
    assert proc.returncode == 2
    assert "policies/access.yaml:3: unknown key 'entra'" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("perms", "reads"),
    [
        ([{"dataActions": [f"{BLOBS}/read"]}], True),
        ([{"dataActions": [f"{BLOBS}/*"], "notDataActions": [f"{BLOBS}/read"]}], False),
        ([{"dataActions": ["*/read"]}], True),
        ([{"dataActions": ["microsoft.storage/*"]}], True),  # case-insensitive
        ([{"actions": ["*"]}], False),  # Owner: actions only
        ([{"dataActions": [f"{BLOBS}/write"]}, {"dataActions": [f"{BLOBS}/read"]}], True),  # any block
        ([{"dataActions": [f"{BLOBS}/*"], "notDataActions": ["*/read"]}], False),
        ([{"dataActions": [f"{BLOBS}/re"]}], False),  # whole-action match, not a prefix
    ],
)
def test_data_action_semantics(perms: list[dict[str, list[str]]], reads: bool) -> None:
    assert allows(perms, f"{BLOBS}/read", data=True) is reads


def test_validate_flags_unused_principals_and_unknown_posture_accounts(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    text = (
        (tmp_path / "policies/access.yaml")
        .read_text()
        .replace("customer_service_lead: {", "customer_servce_lead: {")
    )
    (tmp_path / "policies/access.yaml").write_text(text)
    (tmp_path / "policies/posture.yaml").write_text("storage:\n  - {account: sfcustomer, min_tls: TLS1_2}\n")
    proc = run_cli("--config", str(config), "validate")
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert (
        "policies/access.yaml:3: principals: 'customer_servce_lead' is in no policy's allowed_roles"
        in lines[0]
    )
    assert lines[0].endswith("(did you mean 'customer_service_lead'?)")
    assert lines[1].startswith(
        "policies/posture.yaml:2: posture rule for account 'sfcustomer': no dataset is stored on it"
    )
