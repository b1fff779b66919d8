"""Real read privileges in a PostgreSQL warehouse, from the system catalogs through SQLAlchemy.

The pg catalogs are read rather than information_schema (role_table_grants, column_privileges): those views
only show grants in which the connected user's own roles take part, so an auditing account would miss most
of them. Table ACLs (pg_class.relacl), column ACLs (pg_attribute.attacl), owners, superusers and role
membership with its INHERIT attribute (pg_auth_members, pg_roles.rolinherit) are all read in four queries.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

PUBLIC = "PUBLIC"
Table = tuple[str, str]  # (schema, table)

_ROLES = """
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcanlogin
FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_'
"""
_MEMBERS = """
SELECT m.rolname AS member, g.rolname AS grp
FROM pg_catalog.pg_auth_members am
JOIN pg_catalog.pg_roles m ON m.oid = am.member
JOIN pg_catalog.pg_roles g ON g.oid = am.roleid
"""
_COLUMNS = """
SELECT n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner) AS owner, a.attname,
       (SELECT array_agg(COALESCE(pg_catalog.pg_get_userbyid(NULLIF(x.grantee, 0)), 'PUBLIC'))
        FROM pg_catalog.aclexplode(a.attacl) x WHERE x.privilege_type = 'SELECT') AS column_grantees
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname = ANY(:schemas)
ORDER BY n.nspname, c.relname, a.attnum
"""
_TABLE_ACL = """
SELECT n.nspname, c.relname, COALESCE(pg_catalog.pg_get_userbyid(NULLIF(x.grantee, 0)), 'PUBLIC')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) x
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname = ANY(:schemas) AND x.privilege_type = 'SELECT'
"""


@dataclass
class Role:
    name: str
    superuser: bool = False
    inherit: bool = True
    login: bool = False
    member_of: set[str] = field(default_factory=set)


@dataclass
class TableAcl:
    owner: str
    columns: list[str] = field(default_factory=list)
    table_grantees: set[str] = field(default_factory=set)  # SELECT on the whole table
    column_grantees: dict[str, set[str]] = field(default_factory=dict)  # column -> SELECT on that column


@dataclass
class Grants:
    """Everything needed to say who can read which column, and through which grant."""

    roles: dict[str, Role]
    tables: dict[Table, TableAcl]
    read_at: datetime
    server: str = ""

    def inherited(self, role: str) -> list[str]:
        """`role` and every role whose privileges it uses without SET ROLE (INHERIT along the chain)."""
        seen = [role]
        queue = deque([role])
        while queue:
            r = self.roles.get(queue.popleft())
            if r is None or not r.inherit:
                continue
            for g in sorted(r.member_of):
                if g not in seen:
                    seen.append(g)
                    queue.append(g)
        return seen

    def memberships(self, role: str) -> set[str]:
        """Every role `role` belongs to, directly or not, whatever the INHERIT setting."""
        seen: set[str] = set()
        queue = deque([role])
        while queue:
            r = self.roles.get(queue.popleft())
            for g in r.member_of if r else ():
                if g not in seen:
                    seen.add(g)
                    queue.append(g)
        return seen

    def read_paths(self, role: str, table: Table, column: str) -> list[tuple[str, str, str]]:
        """The grants through which `role` can SELECT `column`: (holder, level, through) where level is
        table|column|owner and through is direct|inherited|set role (a NOINHERIT membership: the role can
        still switch to the holder and read)."""
        acl = self.tables[table]
        inherited = self.inherited(role)
        holders = [role, *inherited[1:], *sorted(self.memberships(role) - set(inherited)), PUBLIC]
        out: list[tuple[str, str, str]] = []
        for holder in holders:
            through = (
                "direct" if holder in (role, PUBLIC) else "inherited" if holder in inherited else "set role"
            )
            if holder == acl.owner:
                out.append((holder, "owner", through))
            if holder in acl.table_grantees:
                out.append((holder, "table", through))
            if holder in acl.column_grantees.get(column, set()):
                out.append((holder, "column", through))
        return out


def read_grants(engine: sa.Engine, schemas: list[str]) -> Grants:
    """Read roles, memberships and the SELECT ACLs of every table in `schemas` (one snapshot)."""
    import sqlalchemy as sa

    from governance.lake.dialects import sqlalchemy_traits

    if not sqlalchemy_traits(engine).has_pg_catalog:
        from governance.errors import InputError

        raise InputError(
            f"access-policy checks read PostgreSQL catalogs; dialect '{engine.dialect.name}' is not supported"
        )
    with engine.connect() as conn:
        read_at = datetime.now(UTC)
        roles = {
            name: Role(name, bool(su), bool(inh), bool(login))
            for name, su, inh, login in conn.execute(sa.text(_ROLES))
        }
        for member, grp in conn.execute(sa.text(_MEMBERS)):
            if member in roles:
                roles[member].member_of.add(grp)
        tables: dict[Table, TableAcl] = {}
        params = {"schemas": list(schemas)}
        for schema, name, owner, column, grantees in conn.execute(sa.text(_COLUMNS), params):
            acl = tables.setdefault((schema, name), TableAcl(owner))
            acl.columns.append(column)
            if grantees:
                acl.column_grantees[column] = set(grantees)
        for schema, name, grantee in conn.execute(sa.text(_TABLE_ACL), params):
            if (schema, name) in tables:
                tables[(schema, name)].table_grantees.add(grantee)
        server = f"{engine.url.host or 'localhost'}:{engine.url.port or 5432}/{engine.url.database}"
    return Grants(roles, tables, read_at, server)
