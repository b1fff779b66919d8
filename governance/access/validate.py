"""`validate` rules of policies/*.yaml: one policy per label, known connection and labels, roles listed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.validation import Validator


def rules(v: Validator) -> None:
    v.duplicates(v.p.policies, lambda x: x.label, "policy for label")
    for f in v.p.policy_files:
        if f.connection:
            v.connection_ref(f.connection, v.at(f, "connection"))
        for pol in f.policies:
            v.label_ref(pol.label, v.at(pol, "label"))
            if not pol.allowed_roles:
                v.add(v.at(pol, "label"), f"policy for {pol.label}: no allowed_roles (list the roles)")
    used = {r for pol in v.p.policies for r in pol.allowed_roles}
    for f in v.p.policy_files:
        for role in f.principals:
            if role not in used:
                v.add(
                    v.at(f, "principals", role),
                    f"principals: '{role}' is in no policy's allowed_roles{v.suggest(role, used)}",
                )
    _posture(v)


def _posture(v: Validator) -> None:
    """A posture rule naming an account must name one that holds a dataset (when some are on ADLS)."""
    from governance.lake.resolve import dataset_uri

    hosts = set()
    for spec in v.p.config.datasets.values():
        uri = dataset_uri(v.p.lake_root, spec.path) if spec.path else ""
        if uri.startswith(("abfss://", "abfs://")) and "@" in uri:
            hosts.add(uri.split("@", 1)[1].split(".", 1)[0].lower())
    if not hosts:
        return
    for f in v.p.posture_files:
        for i, rule in enumerate(f.storage):
            if "*" in rule.account or "?" in rule.account or rule.account.lower() in hosts:
                continue
            v.add(
                v.at(f, "storage", i, "account"),
                f"posture rule for account '{rule.account}': no dataset is stored on it"
                f"{v.suggest(rule.account, sorted(hosts))}",
            )
