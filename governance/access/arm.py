"""Read-only ARM metadata the access and posture checks need: storage accounts, containers, role
assignments and role definitions (never the lake's data, never a key).

Datasets on ADLS are found from their location (`abfss://container@account.dfs.core.windows.net/…`, an
absolute dataset `path` or one under an abfss:// `lake.root`); their storage accounts are found by listing
the subscription's accounts and matching the abfss host against each account's dfs endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

from governance.azure.transport import AzureHttp
from governance.config import AzureConfig
from governance.errors import InputError, Location
from governance.project import Project

ARM_SCOPE = "https://management.azure.com/.default"
AUTHORIZATION_API = "2022-04-01"
STORAGE_API = "2023-05-01"
BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
LIST_KEYS = "Microsoft.Storage/storageAccounts/listKeys/action"


@dataclass(frozen=True)
class AdlsDataset:
    dataset: str
    host: str  # account.dfs.core.windows.net
    account: str
    container: str
    path: str


def adls_datasets(project: Project) -> tuple[list[AdlsDataset], list[str]]:
    """(datasets stored on ADLS, names of the others: warehouse tables or a local lake)."""
    from governance.lake.resolve import dataset_uri

    found: list[AdlsDataset] = []
    other: list[str] = []
    for name, spec in sorted(project.config.datasets.items()):
        uri = (
            dataset_uri(project.lake_root, spec.path)
            if spec.path and spec.format in ("delta", "parquet")
            else ""
        )
        u = urlparse(uri)
        if u.scheme not in ("abfss", "abfs") or "@" not in u.netloc:
            other.append(name)
            continue
        container, _, host = u.netloc.partition("@")
        found.append(
            AdlsDataset(name, host.lower(), host.split(".", 1)[0].lower(), container, u.path.strip("/"))
        )
    return found, other


def azure_section(project: Project) -> AzureConfig:
    if project.config.azure is None:
        raise InputError(
            "no `azure:` section (subscription_id, arm_endpoint): access and posture checks on Azure need it",
            Location(project.config_path.name),
        )
    return project.config.azure


@dataclass
class Account:
    """A storage account from the subscription's list (its ARM object as returned)."""

    id: str
    name: str
    properties: dict[str, Any]
    datasets: list[AdlsDataset] = field(default_factory=list)

    @property
    def resource_group(self) -> str:
        parts = self.id.split("/")
        lower = [p.lower() for p in parts]
        return parts[lower.index("resourcegroups") + 1] if "resourcegroups" in lower else ""

    def container_scope(self, container: str) -> str:
        return f"{self.id}/blobServices/default/containers/{container}"


class Arm:
    """ARM reads through the shared transport (retries, budget, loopback-only HTTP, redacted errors)."""

    def __init__(self, cfg: AzureConfig, http: AzureHttp | None = None) -> None:
        self.subscription, self.endpoint = cfg.resolved()
        self.http = http or AzureHttp(
            "ARM", scope=ARM_SCOPE, max_retries=cfg.max_retries, timeout=cfg.timeout_seconds
        )
        self._definitions: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self.http.close()

    def storage_accounts(self) -> list[dict[str, Any]]:
        url = f"{self.endpoint}/subscriptions/{quote(self.subscription)}/providers/Microsoft.Storage/storageAccounts"
        return list(self.http.pages(url, params={"api-version": STORAGE_API}))

    def containers(self, account_id: str) -> list[dict[str, Any]]:
        url = f"{self.endpoint}{account_id}/blobServices/default/containers"
        return list(self.http.pages(url, params={"api-version": STORAGE_API}))

    def role_assignments(self, scope: str) -> list[dict[str, Any]]:
        """Assignments at `scope` and above it (container → account → resource group → subscription)."""
        url = f"{self.endpoint}{scope}/providers/Microsoft.Authorization/roleAssignments"
        return list(self.http.pages(url, params={"$filter": "atScope()", "api-version": AUTHORIZATION_API}))

    def role_definition(self, definition_id: str) -> dict[str, Any]:
        """A role definition by its full id, read once per run; {} when it no longer exists (an assignment
        left behind by a deleted custom role grants nothing)."""
        key = definition_id.lower()
        if key not in self._definitions:
            resp = self.http.send(
                "GET",
                f"{self.endpoint}{definition_id}",
                params={"api-version": AUTHORIZATION_API},
                ok_missing=True,
            )
            self._definitions[key] = (resp.body or {}) if resp.status != 404 else {}
        return self._definitions[key]

    def accounts_for(self, datasets: list[AdlsDataset]) -> tuple[list[Account], list[AdlsDataset]]:
        """The subscription's accounts that hold `datasets` (matched on the dfs host), and the datasets
        whose account is not in the subscription."""
        by_host: dict[str, Account] = {}
        for raw in self.storage_accounts():
            acct = Account(raw.get("id", ""), raw.get("name", ""), raw.get("properties") or {})
            dfs = ((acct.properties.get("primaryEndpoints") or {}).get("dfs") or "").lower()
            host = urlparse(dfs).hostname or f"{acct.name.lower()}.dfs.core.windows.net"
            by_host[host] = acct
        used: dict[str, Account] = {}
        missing: list[AdlsDataset] = []
        for d in datasets:
            holder = by_host.get(d.host)
            if holder is None:
                missing.append(d)
                continue
            used.setdefault(holder.id, holder).datasets.append(d)
        return list(used.values()), missing
