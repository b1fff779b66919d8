"""Compare what the access policies allow with what the warehouse grants really let each role read.

A role may read a column carrying label L when it is one of L's `allowed_roles` or a member (directly or
not) of one of them: membership of an allowed group role is how access is meant to be given. Every other
role that can read such a column — through its own grant, an inherited one, a role it can SET ROLE to, or
PUBLIC — is a violator. The fix is stated on the grant itself (the role that holds it), as the exact
REVOKE, plus a column-level GRANT that keeps the holder's legitimate access to the other columns.
Superusers and table owners bypass grants; they are listed apart as exempt, not as violators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from governance.access.grants import PUBLIC, Grants, Table

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def _ident(name: str) -> Any:
    from sqlglot import exp

    return exp.Identifier(this=name, quoted=name != PUBLIC and not _PLAIN.fullmatch(name))


def _statement(
    kind: str, table: Table, holder: str, columns: list[str] | None, dialect: str = "postgres"
) -> str:
    """GRANT/REVOKE SELECT [(cols)] ON [TABLE] schema.table TO|FROM holder, built as a sqlglot tree
    (T-SQL has no TABLE keyword there)."""
    from sqlglot import exp

    from governance.lake.dialects import dialect_for

    privilege = exp.GrantPrivilege(
        this=exp.Var(this="SELECT"),
        expressions=[exp.Column(this=_ident(c)) for c in columns or []],
    )
    args = {
        "privileges": [privilege],
        "kind": "TABLE" if dialect_for(dialect).grants_name_the_table_kind else None,
        "securable": exp.Table(this=_ident(table[1]), db=_ident(table[0])),
        "principals": [exp.GrantPrincipal(this=_ident(holder))],
    }
    node = exp.Grant(**args) if kind == "GRANT" else exp.Revoke(**args)
    return node.sql(dialect=dialect) + ";"


@dataclass
class Policies:
    """label -> allowed roles (the union over policy files of one connection)."""

    allowed: dict[str, set[str]] = field(default_factory=dict)

    def may_read(self, grants: Grants, role: str, label: str) -> bool:
        if label not in self.allowed:
            return True
        ok = self.allowed[label]
        if PUBLIC in ok or "public" in ok:  # PostgreSQL's PUBLIC: every role
            return True
        return role in ok or bool(grants.memberships(role) & ok)


@dataclass
class TableLabels:
    dataset: str
    table: Table
    columns: dict[str, set[str]]  # column -> labels (table-level labels apply to every column)


def check_tables(
    grants: Grants, policies: Policies, tables: list[TableLabels], dialect: str = "postgres"
) -> dict[str, Any]:
    """Violations, exempt roles and fix statements (in `dialect`) for the given tables (present in `grants`)."""
    violations: dict[tuple[str, Table], dict[str, Any]] = {}
    exempt: dict[tuple[str, str], set[str]] = {}
    fixes: dict[tuple[str, str, Table], list[str]] = {}
    for t in tables:
        acl = grants.tables[t.table]
        table_name = ".".join(t.table)
        for column in acl.columns:
            labels = {lb for lb in t.columns.get(column, set()) if lb in policies.allowed}
            if not labels:
                continue
            for role in sorted([*grants.roles, PUBLIC]):
                denied = sorted(lb for lb in labels if not policies.may_read(grants, role, lb))
                if not denied:
                    continue
                info = grants.roles.get(role)
                if info and info.superuser:
                    exempt.setdefault((role, "superuser"), set()).add(table_name)
                    continue
                paths = grants.read_paths(role, t.table, column) if role != PUBLIC else []
                if role == PUBLIC:
                    paths = [
                        (PUBLIC, lvl, "direct")
                        for lvl in ("table", "column")
                        if PUBLIC
                        in (acl.table_grantees if lvl == "table" else acl.column_grantees.get(column, set()))
                    ]
                granted = [p for p in paths if p[1] != "owner"]
                if not granted:
                    if paths:
                        exempt.setdefault((role, "owner"), set()).add(table_name)
                    continue
                v = violations.setdefault(
                    (role, t.table),
                    {
                        "role": role,
                        "login": bool(info and info.login),
                        "dataset": t.dataset,
                        "table": table_name,
                        "columns": [],
                        "labels": set(),
                        "via": {},
                    },
                )
                v["columns"].append(column)
                v["labels"].update(denied)
                for holder, level, through in granted:
                    via = v["via"].setdefault(
                        (holder, level),
                        {"grantee": holder, "level": level, "through": through, "columns": []},
                    )
                    via["columns"].append(column)
                    fixes.setdefault((holder, level, t.table), [])
    statements: dict[tuple[str, str, Table], list[str]] = {}
    for holder, level, table in fixes:
        acl = grants.tables[table]
        labels_of = next(t.columns for t in tables if t.table == table)

        def allowed_col(col: str, holder: str = holder, labels_of: dict[str, set[str]] = labels_of) -> bool:
            return all(policies.may_read(grants, holder, lb) for lb in labels_of.get(col, set()))

        if level == "table":
            keep = [c for c in acl.columns if allowed_col(c)]
            stmts = [_statement("REVOKE", table, holder, None, dialect)]
            if keep:
                stmts.append(_statement("GRANT", table, holder, keep, dialect))
        else:
            cols = [
                c for c in acl.columns if holder in acl.column_grantees.get(c, set()) and not allowed_col(c)
            ]
            stmts = [_statement("REVOKE", table, holder, cols, dialect)]
        statements[(holder, level, table)] = stmts
    out = []
    for (_, table), v in sorted(violations.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        vias = sorted(v["via"].values(), key=lambda x: (x["grantee"] != v["role"], x["grantee"], x["level"]))
        v["via"] = vias
        v["labels"] = sorted(v["labels"])
        v["fix"] = [s for x in vias for s in statements[(x["grantee"], x["level"], table)]]
        out.append(v)
    all_fixes: list[str] = []
    for v in out:
        all_fixes += [s for s in v["fix"] if s not in all_fixes]
    return {
        "violations": out,
        "exempt": [
            {"role": role, "reason": reason, "tables": sorted(tabs)}
            for (role, reason), tabs in sorted(exempt.items())
        ],
        "fix": all_fixes,
    }
