"""Who can read each labelled dataset on ADLS through Azure RBAC, against the access policies.

For each container holding a dataset, the role assignments at that container and above it (account,
resource group, subscription: ARM's `$filter=atScope()`) are listed; each assignment's role definition is
read once and a principal reads the dataset when the role's data actions (wildcards honoured, notDataActions
subtracted) include blob read. Roles are judged by their permissions, never by their names, so custom roles
count like built-in ones. Owner and Contributor reach data only through the account keys (`listKeys`), not
through data actions: they are listed apart as `key_access`, not as read violations.

Group membership in Entra ID is not expanded: a user reading through a group's assignment is reported as
that group (its object id), which is what the fix removes.
"""

from __future__ import annotations

from typing import Any

from governance.access.arm import BLOB_READ, LIST_KEYS, AdlsDataset, Arm, adls_datasets
from governance.access.permissions import allows
from governance.access.principals import dataset_labels, policies_for, role_of
from governance.project import Project


def _permissions(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return list((definition.get("properties") or {}).get("permissions") or [])


def check_azure(project: Project, arm: Arm) -> dict[str, Any]:
    """{"violations", "key_access", "datasets", "not_on_adls", "errors"} for every labelled ADLS dataset."""
    policies = policies_for(project, "azure")
    labels_of = dataset_labels(project)
    on_adls, other = adls_datasets(project)
    restricted = [
        d
        for d in on_adls
        if any(lb in policies and not policies[lb].unrestricted for lb in labels_of.get(d.dataset, ()))
    ]
    accounts, missing = arm.accounts_for(restricted) if restricted else ([], [])
    violations: list[dict[str, Any]] = []
    key_access: list[dict[str, Any]] = []
    checked: list[dict[str, Any]] = []
    errors = [
        {
            "dataset": d.dataset,
            "error": f"storage account of {d.host} not found in subscription {arm.subscription}",
        }
        for d in missing
    ]
    for acct in sorted(accounts, key=lambda a: a.name):
        by_container: dict[str, list[AdlsDataset]] = {}
        for d in acct.datasets:
            by_container.setdefault(d.container, []).append(d)
        for container, datasets in sorted(by_container.items()):
            scope = acct.container_scope(container)
            assignments = arm.role_assignments(scope)
            for d in datasets:
                checked.append(
                    {
                        "dataset": d.dataset,
                        "account": acct.name,
                        "container": container,
                        "assignments": len(assignments),
                    }
                )
            for a in assignments:
                props = a.get("properties") or {}
                definition = arm.role_definition(props.get("roleDefinitionId", ""))
                perms = _permissions(definition)
                role_name = (definition.get("properties") or {}).get("roleName") or props.get(
                    "roleDefinitionId", ""
                )
                principal = props.get("principalId", "")
                base = {
                    "source": "azure",
                    "principal": principal,
                    "principal_type": props.get("principalType"),
                    "scope": props.get("scope") or "",
                    "via": role_name,
                }
                if allows(perms, BLOB_READ, data=True):
                    for d in datasets:
                        for label in sorted(labels_of.get(d.dataset, ())):
                            pol = policies.get(label)
                            if pol is None or pol.allows(principal):
                                continue
                            v = {
                                **base,
                                "dataset": d.dataset,
                                "label": label,
                                "fix": f"az role assignment delete --ids {a.get('id', '')}",
                                "assignment_id": a.get("id", ""),
                                "policy_roles": role_of(project, "azure", principal),
                            }
                            if props.get("condition"):
                                v["condition"] = props[
                                    "condition"
                                ]  # ABAC conditions are reported, not evaluated
                            violations.append(v)
                elif allows(perms, LIST_KEYS, data=False):
                    key_access.extend({**base, "dataset": d.dataset} for d in datasets)
    violations.sort(key=lambda v: (v["dataset"], v["label"], v["principal"], v["scope"]))
    return {
        "violations": violations,
        "key_access": sorted(key_access, key=lambda v: (v["dataset"], v["principal"], v["scope"])),
        "datasets": checked,
        "not_on_adls": other,
        "errors": errors,
    }
