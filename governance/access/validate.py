"""`validate` rules of policies/*.yaml: one policy per label, known connection and labels, roles listed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.validation import Validator


def rules(v: Validator) -> None:
    v.duplicates(v.p.policies, lambda x: x.label, "policy for label")
    for f in v.p.policy_files:
        if (
            f.connection
            and f.connection not in v.p.config.connections
            and not v.excused("connections", f.connection)
        ):
            v.add(
                v.at(f, "connection"),
                f"unknown connection '{f.connection}'{v.suggest(f.connection, v.p.config.connections)}",
            )
        for pol in f.policies:
            v.label_ref(pol.label, v.at(pol, "label"))
            if not pol.allowed_roles:
                v.add(
                    v.at(pol, "label"), f"policy for {pol.label}: no allowed_roles (list the roles)"
                )
