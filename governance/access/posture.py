"""Storage posture: the accounts and containers holding datasets against policies/posture.yaml.

Settings read from the account's ARM properties (StorageAccounts_List, api-version 2023-05-01) and the
containers' `publicAccess` (BlobContainers_List). An absent property takes the default its published
schema states: minimumTlsVersion TLS1_0, allowBlobPublicAccess false, keySource Microsoft.Storage;
supportsHttpsTrafficOnly true and publicNetworkAccess Enabled (the service defaults since 2019).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from governance.access.arm import Account, Arm, adls_datasets
from governance.project import Project
from governance.specs.posture import StoragePosture

TLS_ORDER = ("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3")
KEY_SOURCE = {"microsoft.storage": "microsoft-managed", "microsoft.keyvault": "customer-managed"}


def _actual(props: dict[str, Any]) -> dict[str, Any]:
    key_source = str((props.get("encryption") or {}).get("keySource") or "Microsoft.Storage")
    return {
        "encryption": KEY_SOURCE.get(key_source.lower(), key_source),
        "min_tls": props.get("minimumTlsVersion") or "TLS1_0",
        "public_blob_access": bool(props.get("allowBlobPublicAccess", False)),
        "https_only": bool(props.get("supportsHttpsTrafficOnly", True)),
        "public_network_access": props.get("publicNetworkAccess") or "Enabled",
    }


def _fix(acct: Account, setting: str, expected: Any) -> str:
    base = f"az storage account update --name {acct.name} --resource-group {acct.resource_group}"
    if setting == "encryption":
        if expected == "customer-managed":
            return f"{base} --encryption-key-source Microsoft.Keyvault --encryption-key-vault <vault-uri> --encryption-key-name <key>"
        return f"{base} --encryption-key-source Microsoft.Storage"
    flag = {
        "min_tls": "--min-tls-version",
        "public_blob_access": "--allow-blob-public-access",
        "https_only": "--https-only",
        "public_network_access": "--public-network-access",
    }[setting]
    value = str(expected).lower() if isinstance(expected, bool) else expected
    return f"{base} {flag} {value}"


def _violates(setting: str, actual: Any, expected: Any) -> bool:
    if setting == "min_tls":
        rank = {v: i for i, v in enumerate(TLS_ORDER)}
        return rank.get(str(actual), -1) < rank[str(expected)]
    return bool(actual != expected)


def rules_for(rules: list[StoragePosture], account: str) -> list[StoragePosture]:
    return [r for r in rules if fnmatchcase(account.lower(), r.account.lower())]


def check_posture(project: Project, arm: Arm) -> dict[str, Any]:
    """{"findings": [{account, setting, actual, expected, datasets, fix}], "accounts", "errors"}."""
    rules = [r for f in project.posture_files for r in f.storage]
    on_adls, _ = adls_datasets(project)
    accounts, missing = arm.accounts_for(on_adls) if on_adls and rules else ([], [])
    findings: list[dict[str, Any]] = []
    checked: list[dict[str, Any]] = []
    for acct in sorted(accounts, key=lambda a: a.name):
        applicable = rules_for(rules, acct.name)
        if not applicable:
            continue
        actual = _actual(acct.properties)
        names = sorted(d.dataset for d in acct.datasets)
        checked.append({"account": acct.name, "id": acct.id, "datasets": names, **actual})
        for setting in ("encryption", "min_tls", "public_blob_access", "https_only", "public_network_access"):
            for rule in applicable:
                expected = getattr(rule, setting)
                if expected is not None and _violates(setting, actual[setting], expected):
                    findings.append(
                        {
                            "account": acct.name,
                            "setting": setting,
                            "actual": actual[setting],
                            "expected": expected,
                            "datasets": names,
                            "fix": _fix(acct, setting, expected),
                        }
                    )
                    break
        if all(r.container_public_access for r in applicable):
            continue
        holding = {d.container for d in acct.datasets}
        for c in arm.containers(acct.id):
            public = (c.get("properties") or {}).get("publicAccess") or "None"
            if c.get("name") in holding and public != "None":
                findings.append(
                    {
                        "account": acct.name,
                        "setting": "container_public_access",
                        "container": c.get("name"),
                        "actual": public,
                        "expected": "None",
                        "datasets": sorted(d.dataset for d in acct.datasets if d.container == c.get("name")),
                        "fix": f"az storage container-rm update --storage-account {acct.name} "
                        f"--resource-group {acct.resource_group} --name {c.get('name')} --public-access off",
                    }
                )
    errors = [
        {
            "dataset": d.dataset,
            "error": f"storage account of {d.host} not found in subscription {arm.subscription}",
        }
        for d in missing
    ]
    return {"findings": findings, "accounts": checked, "errors": errors}
