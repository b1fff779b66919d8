"""What the policies allow, per platform: label -> the principal ids of its allowed roles.

A role's ids on a platform come from `principals:` in policies/*.yaml (values may use ${VAR}); a role
listed under `allowed_roles` that names no principal there allows nobody on that platform. A label with
no policy is unrestricted, and so is a label whose allowed roles include `public`.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.config import expand_env
from governance.project import Project
from governance.specs.policies import Principal

UNRESTRICTED = frozenset({"public", "PUBLIC"})


@dataclass
class LabelPolicy:
    label: str
    roles: set[str]
    ids: set[str]  # lower-cased principal ids of those roles on the platform

    @property
    def unrestricted(self) -> bool:
        return bool(self.roles & UNRESTRICTED)

    def allows(self, principal_id: str) -> bool:
        return self.unrestricted or principal_id.lower() in self.ids


def principals(project: Project) -> dict[str, Principal]:
    out: dict[str, Principal] = {}
    for f in project.policy_files:
        out.update(f.principals)
    return out


def policies_for(project: Project, platform: str) -> dict[str, LabelPolicy]:
    """label -> its policy on `platform` ("azure" | "synapse" | "sql")."""
    who = principals(project)
    out: dict[str, LabelPolicy] = {}
    for f in project.policy_files:
        for p in f.policies:
            lp = out.setdefault(p.label, LabelPolicy(p.label, set(), set()))
            lp.roles.update(p.allowed_roles)
            for role in p.allowed_roles:
                entry = who.get(role)
                values: list[str] = list(getattr(entry, platform)) if entry is not None else []
                lp.ids.update(expand_env(v, entry.where if entry else None).strip().lower() for v in values)
    return out


def role_of(project: Project, platform: str, principal_id: str) -> list[str]:
    """The policy roles a principal id stands for (to name it in a finding)."""
    pid = principal_id.lower()
    return sorted(
        role
        for role, entry in principals(project).items()
        if pid in {expand_env(v, entry.where).strip().lower() for v in getattr(entry, platform)}
    )


def dataset_labels(project: Project) -> dict[str, set[str]]:
    """dataset -> every label on it (table-level or on any column): reading its files reads them all."""
    out: dict[str, set[str]] = {}
    for a in project.assignments:
        labels = out.setdefault(a.dataset, set())
        labels.update(a.table)
        for col_labels in a.columns.values():
            labels.update(col_labels)
    return out
