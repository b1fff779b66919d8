"""A small Azure estate for the access and posture tests: two storage accounts in two resource groups
holding four datasets, role assignments at every level (subscription, resource group, account, container),
built-in and custom role definitions, and a Synapse workspace's roles.

Object ids are fake GUIDs whose first block names who they are (5eed… the stewards' group, a11a… an analyst).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arm_server import State

SUB = "11111111-2222-3333-4444-555555555555"
RG_LAKE = f"/subscriptions/{SUB}/resourceGroups/rg-lake"
RG_EVENTS = f"/subscriptions/{SUB}/resourceGroups/rg-events"
RG_OTHER = f"/subscriptions/{SUB}/resourceGroups/rg-other"
ACCT_CUSTOMERS = f"{RG_LAKE}/providers/Microsoft.Storage/storageAccounts/sfcustomers"
ACCT_EVENTS = f"{RG_EVENTS}/providers/Microsoft.Storage/storageAccounts/sfevents"
ACCT_UNRELATED = f"{RG_OTHER}/providers/Microsoft.Storage/storageAccounts/sfscratch"

STEWARDS = "5eed0000-0000-0000-0000-000000000001"
CS_LEAD = "c5c50000-0000-0000-0000-000000000002"
ANALYST = "a11a0000-0000-0000-0000-000000000003"
ETL = "e7e70000-0000-0000-0000-000000000004"
WRITER = "a7170000-0000-0000-0000-000000000005"
OPS = "0b500000-0000-0000-0000-000000000006"
BI = "b1b10000-0000-0000-0000-000000000007"
VIEWER = "f1e00000-0000-0000-0000-000000000008"

SUPPORT = "5a990000-0000-0000-0000-000000000009"
CONDITION = (
    "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEqualsIgnoreCase 'gold'"
)

BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
BUILTIN = {
    "Storage Blob Data Reader": (
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
        [
            {
                "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read"],
                "notActions": [],
                "dataActions": [f"{BLOBS}/read"],
                "notDataActions": [],
            }
        ],
    ),
    "Owner": (
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}],
    ),
    "Reader": (
        "acdd72a7-3c48-4ff7-a9b5-0d6e4a8f5c1f",
        [{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}],
    ),
}
CUSTOM = {
    # every blob data action except writing and deleting: reads
    "Lake Auditor": (
        "9a000000-0000-0000-0000-0000000000a1",
        [
            {
                "actions": [],
                "notActions": [],
                "dataActions": [f"{BLOBS}/*"],
                "notDataActions": [f"{BLOBS}/write", f"{BLOBS}/delete"],
            }
        ],
    ),
    # every blob data action except reading: does not read
    "Lake Writer": (
        "9a000000-0000-0000-0000-0000000000a2",
        [
            {
                "actions": [],
                "notActions": [],
                "dataActions": [f"{BLOBS}/*"],
                "notDataActions": [f"{BLOBS}/read"],
            }
        ],
    ),
    # a provider-wide read wildcard: reads
    "Storage Metadata Wildcard": (
        "9a000000-0000-0000-0000-0000000000a3",
        [
            {
                "actions": [],
                "notActions": [],
                "dataActions": ["Microsoft.Storage/*/read"],
                "notDataActions": [],
            }
        ],
    ),
}


def _definition(name: str, guid: str, perms: list[dict[str, Any]], custom: bool) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "description": name,
            "type": "CustomRole" if custom else "BuiltInRole",
            "permissions": perms,
            "assignableScopes": [f"/subscriptions/{SUB}"] if custom else ["/"],
        },
    }


def _assignment(n: int, scope: str, role: str, principal: str, ptype: str = "User") -> dict[str, Any]:
    guid = (BUILTIN.get(role) or CUSTOM.get(role) or ("9a000000-0000-0000-0000-0000000000ff", []))[0]
    name = f"00000000-0000-0000-0000-{n:012d}"
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "scope": scope,
            "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
            "principalId": principal,
            "principalType": ptype,
        },
    }


def _account(account_id: str, rg_location: str, **props: Any) -> dict[str, Any]:
    name = account_id.rsplit("/", 1)[-1]
    return {
        "id": account_id,
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": rg_location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_ZRS", "tier": "Standard"},
        "properties": {
            "provisioningState": "Succeeded",
            "isHnsEnabled": True,
            "primaryEndpoints": {
                "blob": f"https://{name}.blob.core.windows.net/",
                "dfs": f"https://{name}.dfs.core.windows.net/",
            },
            **props,
        },
    }


def _container(account_id: str, name: str, public: str) -> dict[str, Any]:
    return {
        "id": f"{account_id}/blobServices/default/containers/{name}",
        "name": name,
        "type": "Microsoft.Storage/storageAccounts/blobServices/containers",
        "etag": '"0x8D589847D51C7DE"',
        "properties": {"publicAccess": public, "hasImmutabilityPolicy": False, "hasLegalHold": False},
    }


def _cmk() -> dict[str, Any]:
    return {
        "keySource": "Microsoft.Keyvault",
        "keyvaultproperties": {"keyname": "lake-key", "keyvaulturi": "https://sf-kv.vault.azure.net"},
        "services": {"blob": {"enabled": True, "keyType": "Account"}},
    }


def fill(state: State) -> None:
    """The estate: see the module docstring. Expected read violations are listed in EXPECTED."""
    state.role_definitions = [_definition(n, g, p, False) for n, (g, p) in BUILTIN.items()] + [
        _definition(n, g, p, True) for n, (g, p) in CUSTOM.items()
    ]
    silver = f"{ACCT_CUSTOMERS}/blobServices/default/containers/silver"
    gold = f"{ACCT_CUSTOMERS}/blobServices/default/containers/gold"
    state.role_assignments = [
        _assignment(1, f"/subscriptions/{SUB}", "Storage Blob Data Reader", STEWARDS, "Group"),
        _assignment(2, RG_LAKE, "Storage Blob Data Reader", ANALYST),
        _assignment(3, ACCT_EVENTS, "Lake Auditor", ETL, "ServicePrincipal"),
        _assignment(4, silver, "Lake Writer", WRITER, "ServicePrincipal"),
        _assignment(5, f"/subscriptions/{SUB}", "Owner", OPS),
        _assignment(6, gold, "Storage Metadata Wildcard", BI),
        _assignment(7, f"/subscriptions/{SUB}", "Reader", VIEWER),
        _assignment(8, RG_OTHER, "Storage Blob Data Reader", VIEWER),  # another resource group: not above
        _assignment(
            9, f"{ACCT_CUSTOMERS}/blobServices/default/containers/scratch", "Storage Blob Data Reader", VIEWER
        ),
        _assignment(10, ACCT_CUSTOMERS, "Storage Blob Data Reader", CS_LEAD),
        {
            **_assignment(11, ACCT_CUSTOMERS, "Storage Blob Data Reader", SUPPORT),
            "properties": {
                **_assignment(11, ACCT_CUSTOMERS, "Storage Blob Data Reader", SUPPORT)["properties"],
                "condition": CONDITION,
                "conditionVersion": "2.0",
            },
        },
        _assignment(12, RG_LAKE, "Deleted Custom Role", ANALYST),  # its definition is gone: grants nothing
    ]
    state.storage_accounts = [
        _account(
            ACCT_CUSTOMERS,
            "westeurope",
            encryption=_cmk(),
            minimumTlsVersion="TLS1_2",
            allowBlobPublicAccess=False,
            supportsHttpsTrafficOnly=True,
            publicNetworkAccess="Disabled",
        ),
        _account(ACCT_UNRELATED, "westeurope", minimumTlsVersion="TLS1_0", allowBlobPublicAccess=True),
        _account(
            ACCT_EVENTS,
            "northeurope",
            encryption={"keySource": "Microsoft.Storage", "services": {"blob": {"enabled": True}}},
            allowBlobPublicAccess=True,
            supportsHttpsTrafficOnly=True,
        ),
    ]
    state.containers = {
        ACCT_CUSTOMERS.lower(): [
            _container(ACCT_CUSTOMERS, "gold", "None"),
            _container(ACCT_CUSTOMERS, "scratch", "Blob"),  # public, but holds no dataset
            _container(ACCT_CUSTOMERS, "silver", "None"),
        ],
        ACCT_EVENTS.lower(): [
            _container(ACCT_EVENTS, "events", "Container"),
            _container(ACCT_EVENTS, "raw", "None"),
        ],
        ACCT_UNRELATED.lower(): [_container(ACCT_UNRELATED, "tmp", "Container")],
    }
    state.synapse_definitions = [
        {
            "id": "6e4bf58a-b8e1-4cc3-bbf9-d73143322b78",
            "name": "Synapse Administrator",
            "isBuiltIn": True,
            "permissions": [
                {
                    "actions": ["Microsoft.Synapse/workspaces/*"],
                    "notActions": [],
                    "dataActions": [],
                    "notDataActions": [],
                }
            ],
            "scopes": ["workspaces/sfws"],
        },
        {
            "id": "e3844cc7-4670-42f0-9a6b-af4ed2b5c5b9",
            "name": "Synapse Compute Operator",
            "isBuiltIn": True,
            "permissions": [
                {
                    "actions": [
                        "Microsoft.Synapse/workspaces/bigDataPools/useCompute/action",
                        "Microsoft.Synapse/workspaces/bigDataPools/viewLogs/action",
                    ],
                    "notActions": [],
                    "dataActions": [],
                    "notDataActions": [],
                }
            ],
            "scopes": ["workspaces/sfws"],
        },
        {
            "id": "0601eb57-5b9e-4a43-9e4a-7a7d0b0bb5bd",
            "name": "Synapse Artifact User",
            "isBuiltIn": True,
            "permissions": [
                {
                    "actions": ["Microsoft.Synapse/workspaces/artifacts/read"],
                    "notActions": [],
                    "dataActions": [],
                    "notDataActions": [],
                }
            ],
            "scopes": ["workspaces/sfws"],
        },
    ]
    state.synapse_assignments = [
        {
            "id": f"5a000000-0000-0000-0000-00000000000{i}",
            "roleDefinitionId": role,
            "principalId": who,
            "scope": "workspaces/sfws",
            "principalType": ptype,
        }
        for i, (role, who, ptype) in enumerate(
            [
                ("6e4bf58a-b8e1-4cc3-bbf9-d73143322b78", STEWARDS, "Group"),
                ("e3844cc7-4670-42f0-9a6b-af4ed2b5c5b9", ANALYST, "User"),
                ("0601eb57-5b9e-4a43-9e4a-7a7d0b0bb5bd", VIEWER, "User"),
            ],
            start=1,
        )
    ]


# (principal, dataset, label, scope, via) of every Azure RBAC read violation in the estate
EXPECTED = {
    (ANALYST, "gold.customer360", "PII", RG_LAKE, "Storage Blob Data Reader"),
    (ANALYST, "silver.customers", "PII", RG_LAKE, "Storage Blob Data Reader"),
    (
        BI,
        "gold.customer360",
        "PII",
        f"{ACCT_CUSTOMERS}/blobServices/default/containers/gold",
        "Storage Metadata Wildcard",
    ),
    (ETL, "silver.transactions", "PII", ACCT_EVENTS, "Lake Auditor"),
    # an ABAC condition is reported, not evaluated: the assignment counts as a read of both containers
    (SUPPORT, "gold.customer360", "PII", ACCT_CUSTOMERS, "Storage Blob Data Reader"),
    (SUPPORT, "silver.customers", "PII", ACCT_CUSTOMERS, "Storage Blob Data Reader"),
}

CONFIG = """\
version: 1
project: estate
lake: {root: lake}
azure:
  subscription_id: "${TEST_SUBSCRIPTION}"
  arm_endpoint: "${TEST_ARM}"
  max_retries: 1
  synapse: {workspace_endpoint: "${TEST_SYNAPSE}"}
datasets:
  silver.customers:
    format: delta
    path: abfss://silver@sfcustomers.dfs.core.windows.net/customers
    layer: silver
  gold.customer360:
    format: delta
    path: abfss://gold@sfcustomers.dfs.core.windows.net/marts/customer360
    layer: gold
  silver.transactions:
    format: delta
    path: abfss://raw@sfevents.dfs.core.windows.net/transactions
    layer: silver
  silver.events:
    format: delta
    path: abfss://events@sfevents.dfs.core.windows.net/app
    layer: silver
  silver.local_only:
    format: delta
    path: silver/local_only
    layer: silver
"""

CLASSIFICATIONS = """\
labels:
  - {name: PII, description: Personal data}
  - {name: Internal, description: "Internal; no policy"}
assignments:
  - {dataset: silver.customers, columns: {email: [PII]}}
  - {dataset: gold.customer360, table: [PII]}
  - {dataset: silver.transactions, columns: {customer_name: [PII]}}
  - {dataset: silver.events, table: [Internal]}
  - {dataset: silver.local_only, table: [PII]}
"""

ACCESS = f"""\
principals:
  data_steward: {{azure: ["${{TEST_STEWARDS_GROUP}}"], synapse: ["{STEWARDS}"]}}
  customer_service_lead: {{azure: ["{CS_LEAD.upper()}"]}}
policies:
  - {{label: PII, allowed_roles: [data_steward, customer_service_lead]}}
"""

POSTURE = """\
storage:
  - account: "*"
    encryption: customer-managed
    min_tls: TLS1_2
    public_blob_access: false
    https_only: true
    public_network_access: Disabled
"""


def write_project(root: Path) -> Path:
    files = {
        "smartflow.yaml": CONFIG,
        "classifications/labels.yaml": CLASSIFICATIONS,
        "policies/access.yaml": ACCESS,
        "policies/posture.yaml": POSTURE,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "smartflow.yaml"


def env(url: str) -> dict[str, str]:
    return {
        "TEST_SUBSCRIPTION": SUB,
        "TEST_ARM": url,
        "TEST_SYNAPSE": url,
        "TEST_STEWARDS_GROUP": STEWARDS,
        "SMARTFLOW_AZURE_TOKEN": "test-token-not-a-secret",
    }
