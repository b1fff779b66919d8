"""Synapse: workspace roles (data plane RBAC) and SQL grants (catalog views of a Synapse SQL pool).

Workspace roles — `GET {workspace}/roleAssignments?api-version=2020-12-01` (paged through the
`x-ms-continuation` header) and `GET {workspace}/roleDefinitions`. A workspace role reads the workspace's
data when its actions or dataActions (wildcards honoured, not-actions subtracted) include one of
`azure.synapse.read_actions`: by default running Spark on the workspace's compute and using the workspace
identity's credential, the two ways a role reaches the lake through the workspace's own identity.

SQL grants — `sys.database_principals`, `sys.database_role_members` and `sys.database_permissions` (object,
column, schema and database classes) joined to `sys.objects`/`sys.schemas`/`sys.columns`, rendered by sqlglot
in the T-SQL dialect. The rows become the same `Grants` model as PostgreSQL's catalogs, so one compliance
check (`compliance.check_tables`) judges both: membership of an allowed role is how access is meant to be
given, `db_datareader` reads every table, `dbo` and `db_owner` members are exempt like superusers.
DENY is read but not subtracted (a denied read is still reported: conservative).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from governance.access.grants import PUBLIC, Grants, Role, TableAcl
from governance.access.permissions import allows
from governance.access.principals import dataset_labels, policies_for, role_of
from governance.azure.transport import AzureHttp
from governance.config import SynapseConfig, check_endpoint, expand_env
from governance.project import Project

if TYPE_CHECKING:
    import sqlalchemy as sa

SYNAPSE_SCOPE = "https://dev.azuresynapse.net/.default"
SYNAPSE_API = "2020-12-01"
USER_TYPES = frozenset({"S", "U", "E"})  # SQL user, Windows user, external (Entra) user: they log in
EXEMPT_ROLES = frozenset({"db_owner"})
READ_ALL_ROLES = frozenset({"db_datareader"})


# --------------------------------------------------------------------------------------- workspace roles
def check_workspace_roles(
    project: Project, cfg: SynapseConfig, http: AzureHttp | None = None
) -> dict[str, Any]:
    """{"violations", "assignments"} of the workspace's role assignments against the policies."""
    if not cfg.workspace_endpoint:
        return {"violations": [], "assignments": 0, "reason": "no azure.synapse.workspace_endpoint"}
    where = cfg.where
    endpoint = check_endpoint(expand_env(cfg.workspace_endpoint, where), where).rstrip("/")
    client = http or AzureHttp("Synapse", scope=SYNAPSE_SCOPE)
    try:
        params = {"api-version": SYNAPSE_API}
        defs = client.send("GET", f"{endpoint}/roleDefinitions", params=params).body or []
        assignments = list(
            client.pages(
                f"{endpoint}/roleAssignments", params=params, continuation_header="x-ms-continuation"
            )
        )
    finally:
        if http is None:
            client.close()
    by_id = {str(d.get("id", "")).lower(): d for d in defs if isinstance(d, dict)}
    policies = policies_for(project, "synapse")
    labels_of = dataset_labels(project)
    workspace = endpoint.split("//", 1)[-1].split(".", 1)[0]
    violations: list[dict[str, Any]] = []
    for a in assignments:
        definition = by_id.get(str(a.get("roleDefinitionId", "")).lower(), {})
        perms = definition.get("permissions") or []
        reads = any(
            allows(perms, act, data=False) or allows(perms, act, data=True) for act in cfg.read_actions
        )
        if not reads:
            continue
        principal = str(a.get("principalId", ""))
        scope = str(a.get("scope") or f"workspaces/{workspace}")
        name = scope.split("/")[1] if scope.startswith("workspaces/") and "/" in scope else workspace
        for dataset in sorted(labels_of):
            for label in sorted(labels_of[dataset]):
                pol = policies.get(label)
                if pol is None or pol.allows(principal):
                    continue
                violations.append(
                    {
                        "source": "synapse",
                        "principal": principal,
                        "principal_type": a.get("principalType"),
                        "dataset": dataset,
                        "label": label,
                        "scope": scope,
                        "via": definition.get("name") or a.get("roleDefinitionId"),
                        "fix": f"az synapse role assignment delete --workspace-name {name} "
                        f"--ids {a.get('id', '')} --yes",
                        "assignment_id": a.get("id", ""),
                        "policy_roles": role_of(project, "synapse", principal),
                    }
                )
    return {"violations": violations, "assignments": len(assignments)}


# --------------------------------------------------------------------------------------- SQL catalog
def catalog_queries(schemas: list[str]) -> dict[str, str]:
    """The T-SQL that reads principals, role membership, columns and SELECT permissions of `schemas`."""
    from sqlglot import exp, select

    def col(name: str, table: str) -> exp.Column:
        return exp.column(name, table)

    def sys_view(name: str, alias: str) -> exp.Table:
        return exp.table_(name, db="sys", alias=alias)

    in_schemas = col("name", "s").isin(*[exp.Literal.string(s) for s in schemas]) if schemas else exp.false()
    principals = select(col("principal_id", "p"), col("name", "p"), col("type", "p")).from_(
        sys_view("database_principals", "p")
    )
    members = select(col("member_principal_id", "rm"), col("role_principal_id", "rm")).from_(
        sys_view("database_role_members", "rm")
    )
    owner = exp.func("COALESCE", col("principal_id", "o"), col("principal_id", "s"))
    columns = (
        select(
            col("name", "s"),
            col("name", "o").as_("table_name"),
            owner.as_("owner_id"),
            col("name", "c").as_("column_name"),
        )
        .from_(sys_view("objects", "o"))
        .join(
            sys_view("schemas", "s"), on=exp.EQ(this=col("schema_id", "s"), expression=col("schema_id", "o"))
        )
        .join(
            sys_view("columns", "c"), on=exp.EQ(this=col("object_id", "c"), expression=col("object_id", "o"))
        )
        .where(col("type", "o").isin(*[exp.Literal.string(t) for t in ("U", "V", "ET")]))
        .where(in_schemas)
        .order_by(col("name", "s"), col("name", "o"), col("column_id", "c"))
    )
    permissions = (
        select(
            col("grantee_principal_id", "dp"),
            col("state", "dp"),
            col("class", "dp"),
            col("name", "s").as_("schema_name"),
            col("name", "o").as_("table_name"),
            col("name", "c").as_("column_name"),
            col("name", "gs").as_("granted_schema"),
        )
        .from_(sys_view("database_permissions", "dp"))
        .join(sys_view("objects", "o"), on="o.object_id = dp.major_id AND dp.class = 1", join_type="left")
        .join(sys_view("schemas", "s"), on="s.schema_id = o.schema_id", join_type="left")
        .join(
            sys_view("columns", "c"),
            on="c.object_id = dp.major_id AND c.column_id = dp.minor_id AND dp.minor_id > 0",
            join_type="left",
        )
        .join(sys_view("schemas", "gs"), on="gs.schema_id = dp.major_id AND dp.class = 3", join_type="left")
        .where(col("permission_name", "dp").eq(exp.Literal.string("SELECT")))
    )
    return {
        name: q.sql(dialect="tsql")
        for name, q in (
            ("principals", principals),
            ("members", members),
            ("columns", columns),
            ("permissions", permissions),
        )
    }


def grants_from_rows(
    principals: list[tuple[int, str, str]],
    members: list[tuple[int, int]],
    columns: list[tuple[str, str, int, str]],
    permissions: list[tuple[int, str, int, str | None, str | None, str | None, str | None]],
    server: str = "",
) -> Grants:
    """The catalog rows as the `Grants` model (`public` is everyone, as PostgreSQL's PUBLIC)."""
    names = {pid: (PUBLIC if name == "public" else name) for pid, name, _ in principals}
    roles: dict[str, Role] = {
        names[pid]: Role(names[pid], superuser=name == "dbo", inherit=True, login=kind in USER_TYPES)
        for pid, name, kind in principals
        if name != "public"
    }
    for member, role_id in members:
        if member in names and role_id in names and names[member] in roles:
            roles[names[member]].member_of.add(names[role_id])
    for r in roles.values():  # db_owner members bypass permissions like a superuser
        if r.member_of & EXEMPT_ROLES:
            r.superuser = True
    tables: dict[tuple[str, str], TableAcl] = {}
    for schema_name, table_name, owner_id, column_name in columns:
        acl = tables.setdefault((schema_name, table_name), TableAcl(names.get(owner_id, "dbo")))
        acl.columns.append(column_name)
    for role in READ_ALL_ROLES & set(roles):
        for acl in tables.values():
            acl.table_grantees.add(role)
    for grantee_id, state, klass, schema, table, column, granted_schema in permissions:
        if state not in ("G", "W") or grantee_id not in names:  # DENY and REVOKE do not grant
            continue
        grantee = names[grantee_id]
        if klass == 1 and schema and table and (schema, table) in tables:
            acl = tables[(schema, table)]
            if column:
                acl.column_grantees.setdefault(column, set()).add(grantee)
            else:
                acl.table_grantees.add(grantee)
        elif klass in (0, 3):  # the whole database, or a whole schema
            for (s, _), acl in tables.items():
                if klass == 0 or s == granted_schema:
                    acl.table_grantees.add(grantee)
    return Grants(roles, tables, datetime.now(UTC), server)


def read_sql_grants(engine: sa.Engine, schemas: list[str]) -> Grants:
    """One snapshot of the Synapse SQL pool's catalog (needs a SQL Server driver such as pyodbc)."""
    import sqlalchemy as sa

    queries = catalog_queries(schemas)
    with engine.connect() as conn:
        rows = {name: [tuple(r) for r in conn.execute(sa.text(q))] for name, q in queries.items()}
    server = f"{engine.url.host or 'localhost'}/{engine.url.database}"
    return grants_from_rows(rows["principals"], rows["members"], rows["columns"], rows["permissions"], server)
