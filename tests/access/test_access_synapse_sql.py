"""The Synapse SQL reader: its rendered T-SQL, and its meaning checked against PostgreSQL.

No Synapse SQL pool is reachable here, so the catalog queries are tested as SQL (parsed back by sqlglot in
the T-SQL dialect, literals quoted) and the reader's mapping of catalog rows is tested against PostgreSQL:
the same roles, memberships, table and column grants are created in a real PostgreSQL database and described
as the rows `sys.database_principals`, `sys.database_role_members`, `sys.columns` and
`sys.database_permissions` would hold; both go through the one compliance check and must give the same
violators, columns and labels.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlglot
from helpers import run_cli
from sqlglot import exp

from governance.access.compliance import Policies, TableLabels, check_tables
from governance.access.grants import read_grants
from governance.access.synapse import catalog_queries, grants_from_rows


def test_rendered_catalog_queries_are_tsql_with_quoted_literals() -> None:
    queries = catalog_queries(["silver", "we'ird"])
    assert set(queries) == {"principals", "members", "columns", "permissions"}
    for sql in queries.values():
        tree = sqlglot.parse_one(sql, read="tsql")  # valid T-SQL
        assert all(t.db == "sys" for t in tree.find_all(exp.Table))
    cols = sqlglot.parse_one(queries["columns"], read="tsql")
    literals = {lit.this for lit in cols.find_all(exp.Literal) if lit.is_string}
    assert {"silver", "we'ird", "U", "V", "ET"} <= literals
    assert "'we''ird'" in queries["columns"]  # a schema name never breaks out of its literal
    perms = sqlglot.parse_one(queries["permissions"], read="tsql")
    assert {t.name for t in perms.find_all(exp.Table)} == {
        "database_permissions",
        "objects",
        "schemas",
        "columns",
    }
    assert "dp.permission_name = 'SELECT'" in queries["permissions"]
    assert queries["principals"] == "SELECT p.principal_id, p.name, p.type FROM sys.database_principals AS p"
    assert catalog_queries([])["columns"].count("WHERE") == 1  # no schema: nothing, not everything


@pytest.fixture
def pg_grants(pg_url: str) -> Iterator[tuple[sa.Engine, dict[str, str], str]]:
    tag = "azac" + secrets.token_hex(3)
    schema = f"{tag}_silver"
    r = {k: f"{tag}_{k}" for k in ("steward", "lead", "analyst", "team", "member", "colok", "colbad")}
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    q = engine.dialect.identifier_preparer.quote
    with engine.connect() as c:
        for role in r.values():
            c.execute(sa.text(f"CREATE ROLE {q(role)} LOGIN"))
        c.execute(sa.text(f"CREATE SCHEMA {q(schema)}"))
        c.execute(sa.text(f"CREATE TABLE {q(schema)}.customers (id bigint, email text, region text)"))
        t = f"{q(schema)}.customers"
        for stmt in (
            f"GRANT SELECT ON {t} TO {q(r['steward'])}",
            f"GRANT {q(r['steward'])} TO {q(r['lead'])}",  # membership of an allowed role: allowed
            f"GRANT SELECT ON {t} TO {q(r['analyst'])}",  # table grant: reads email
            f"GRANT SELECT ON {t} TO {q(r['team'])}",
            f"GRANT {q(r['team'])} TO {q(r['member'])}",  # inherited through a group
            f"GRANT SELECT (id, region) ON {t} TO {q(r['colok'])}",  # unlabelled columns only
            f"GRANT SELECT (email) ON {t} TO {q(r['colbad'])}",  # the PII column itself
        ):
            c.execute(sa.text(stmt))
    yield engine, r, schema
    with engine.connect() as c:
        c.execute(sa.text(f"DROP SCHEMA {q(schema)} CASCADE"))
        for role in r.values():
            c.execute(sa.text(f"DROP ROLE {q(role)}"))
    engine.dispose()


def _summary(found: dict) -> set[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return {(v["role"], tuple(sorted(v["columns"])), tuple(v["labels"])) for v in found["violations"]}


def test_reader_semantics_match_postgresql(pg_grants: tuple[sa.Engine, dict[str, str], str]) -> None:
    engine, r, schema = pg_grants
    policies = Policies({"PII": {r["steward"]}})
    labels = {"id": set(), "email": {"PII"}, "region": set()}
    table = (schema, "customers")

    pg = read_grants(engine, [schema])
    pg_found = check_tables(pg, policies, [TableLabels("silver.customers", table, labels)])
    assert {role for role, _, _ in _summary(pg_found)} == {r["analyst"], r["member"], r["team"], r["colbad"]}

    ids = {name: i for i, name in enumerate(["dbo", "public", *r.values()], start=1)}
    principals = [(ids["dbo"], "dbo", "S"), (ids["public"], "public", "R")] + [
        (ids[name], name, "R" if key in ("steward", "team") else "E") for key, name in r.items()
    ]
    members = [(ids[r["lead"]], ids[r["steward"]]), (ids[r["member"]], ids[r["team"]])]
    columns = [(schema, "customers", ids["dbo"], c) for c in ("id", "email", "region")]
    perm = [
        (ids[r["steward"]], "G", 1, schema, "customers", None, None),
        (ids[r["analyst"]], "G", 1, schema, "customers", None, None),
        (ids[r["team"]], "G", 1, schema, "customers", None, None),
        (ids[r["colok"]], "G", 1, schema, "customers", "id", None),
        (ids[r["colok"]], "G", 1, schema, "customers", "region", None),
        (ids[r["colbad"]], "W", 1, schema, "customers", "email", None),  # WITH GRANT OPTION still grants
        (ids[r["colok"]], "D", 1, schema, "customers", "email", None),  # a DENY grants nothing
    ]
    syn = grants_from_rows(principals, members, columns, perm)
    syn_found = check_tables(syn, policies, [TableLabels("silver.customers", table, labels)])
    assert _summary(syn_found) == _summary(pg_found)
    assert (r["colbad"], ("email",), ("PII",)) in _summary(syn_found)


def test_schema_and_database_grants_and_fixed_roles() -> None:
    principals = [
        (1, "dbo", "S"),
        (2, "db_datareader", "R"),
        (3, "db_owner", "R"),
        (4, "reader", "E"),
        (5, "admin", "E"),
        (6, "schema_reader", "E"),
        (7, "db_reader", "E"),
        (8, "public", "R"),
    ]
    members = [(4, 2), (5, 3)]
    columns = [("silver", "customers", 1, "email"), ("gold", "c360", 1, "email")]
    perms = [(6, "G", 3, None, None, None, "silver"), (7, "G", 0, None, None, None, None)]
    grants = grants_from_rows(principals, members, columns, perms)
    policies = Policies({"PII": {"steward"}})
    tables = [
        TableLabels("silver.customers", ("silver", "customers"), {"email": {"PII"}}),
        TableLabels("gold.c360", ("gold", "c360"), {"email": {"PII"}}),
    ]
    found = check_tables(grants, policies, tables)
    by_table = {}
    for v in found["violations"]:
        by_table.setdefault(v["table"], set()).add(v["role"])
    # db_datareader members read every table; a schema grant reads its schema; a database grant reads all
    assert by_table == {
        "silver.customers": {"db_datareader", "reader", "schema_reader", "db_reader"},
        "gold.c360": {"db_datareader", "reader", "db_reader"},
    }
    assert {(e["role"], e["reason"]) for e in found["exempt"]} >= {("admin", "superuser")}


def test_access_check_postgres_source_names_roles_through_principals(
    pg_grants: tuple[sa.Engine, dict[str, str], str], pg_url: str, tmp_path: Path
) -> None:
    """`access check --source postgres` in the shape of SPEC §6.8, with `principals.<role>.postgres`."""
    _, r, schema = pg_grants
    dataset = f"{schema}.customers"
    (tmp_path / "classifications").mkdir()
    (tmp_path / "policies").mkdir()
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\nconnections:\n  warehouse: {url: '${WH_URL}'}\ndatasets:\n"
        f"  {dataset}: {{format: sql, layer: silver, connection: warehouse, table: {dataset}}}\n"
    )
    (tmp_path / "classifications/c.yaml").write_text(
        f"labels: [{{name: PII}}]\nassignments:\n  - {{dataset: {dataset}, columns: {{email: [PII]}}}}\n"
    )
    (tmp_path / "policies/access.yaml").write_text(
        "connection: warehouse\nprincipals:\n"
        f"  data_steward: {{postgres: {r['steward']}}}\n"
        "policies:\n  - {label: PII, allowed_roles: [data_steward]}\n"
    )
    proc = run_cli(
        "--config",
        str(tmp_path / "smartflow.yaml"),
        "--output",
        "json",
        "access",
        "check",
        "--source",
        "postgres",
        env={"WH_URL": pg_url},
    )
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["sources"] == ["postgres"]
    got = {(v["principal"], v["label"], v["scope"]) for v in out["violations"]}
    table = f"{schema}.customers"
    assert got == {(r[k], "PII", table) for k in ("analyst", "team", "member", "colbad")}
    member = next(v for v in out["violations"] if v["principal"] == r["member"])
    assert member["source"] == "postgres" and member["via"] == r["team"]
    assert member["fix"].startswith(f"REVOKE SELECT ON TABLE {schema}.customers FROM {r['team']};")


# The Synapse SQL catalog views, as views over PostgreSQL's own catalogs (same names, columns and codes):
# the reader's rendered queries then run for real, and must agree with the PostgreSQL reader. An owner's
# own ACL entry is left out, as SQL Server keeps no permission row for an owner's implicit CONTROL.
SYS_VIEWS = """
CREATE SCHEMA sys;
CREATE VIEW sys.database_principals AS
  SELECT oid::bigint AS principal_id, rolname::text AS name,
         CASE WHEN rolcanlogin THEN 'E' ELSE 'R' END AS type
  FROM pg_catalog.pg_roles WHERE rolname !~ '^pg_'
  UNION ALL SELECT 0, 'public', 'R';
CREATE VIEW sys.database_role_members AS
  SELECT roleid::bigint AS role_principal_id, member::bigint AS member_principal_id FROM pg_catalog.pg_auth_members;
CREATE VIEW sys.schemas AS
  SELECT oid::bigint AS schema_id, nspname::text AS name, nspowner::bigint AS principal_id FROM pg_catalog.pg_namespace;
CREATE VIEW sys.objects AS
  SELECT c.oid::bigint AS object_id, c.relname::text AS name, c.relnamespace::bigint AS schema_id,
         CASE c.relkind WHEN 'r' THEN 'U' WHEN 'v' THEN 'V' ELSE 'IT' END AS type, c.relowner::bigint AS principal_id
  FROM pg_catalog.pg_class c;
CREATE VIEW sys.columns AS
  SELECT attrelid::bigint AS object_id, attname::text AS name, attnum::int AS column_id
  FROM pg_catalog.pg_attribute WHERE attnum > 0 AND NOT attisdropped;
CREATE VIEW sys.database_permissions AS
  SELECT 1 AS class, c.oid::bigint AS major_id, 0 AS minor_id, x.grantee::bigint AS grantee_principal_id,
         'SELECT'::text AS permission_name, CASE WHEN x.is_grantable THEN 'W' ELSE 'G' END AS state
  FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) x
  WHERE x.privilege_type = 'SELECT' AND x.grantee <> c.relowner
  UNION ALL
  SELECT 1, a.attrelid::bigint, a.attnum::int, x.grantee::bigint, 'SELECT',
         CASE WHEN x.is_grantable THEN 'W' ELSE 'G' END
  FROM pg_catalog.pg_attribute a CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) x
  WHERE x.privilege_type = 'SELECT';
"""


def test_synapse_sql_source_agrees_with_postgres_source(
    pg_grants: tuple[sa.Engine, dict[str, str], str], pg_url: str, tmp_path: Path
) -> None:
    """The rendered T-SQL runs over catalog views shaped like Synapse's; both sources name the same readers."""
    engine, r, schema = pg_grants
    with engine.connect() as c:
        c.execute(sa.text("DROP SCHEMA IF EXISTS sys CASCADE"))
        for stmt in SYS_VIEWS.split(";"):
            if stmt.strip():
                c.execute(sa.text(stmt))
    try:
        dataset = f"{schema}.customers"
        for d in ("classifications", "policies"):
            (tmp_path / d).mkdir()
        (tmp_path / "smartflow.yaml").write_text(
            "version: 1\nconnections:\n  warehouse: {url: '${WH_URL}'}\n"
            "azure:\n  subscription_id: unused\n  synapse: {sql_connection: warehouse}\n"
            f"datasets:\n  {dataset}: {{format: sql, layer: silver, connection: warehouse, table: {dataset}}}\n"
        )
        (tmp_path / "classifications/c.yaml").write_text(
            f"labels: [{{name: PII}}]\nassignments:\n  - {{dataset: {dataset}, columns: {{email: [PII]}}}}\n"
        )
        (tmp_path / "policies/access.yaml").write_text(
            "connection: warehouse\nprincipals:\n"
            f"  data_steward: {{postgres: {r['steward']}, sql: [{r['steward']}]}}\n"
            "policies:\n  - {label: PII, allowed_roles: [data_steward]}\n"
        )
        found = {}
        for source in ("postgres", "synapse"):
            proc = run_cli(
                "--config", str(tmp_path / "smartflow.yaml"), "--output", "json",
                "access", "check", "--source", source, env={"WH_URL": pg_url},
            )  # fmt: skip
            assert proc.returncode == 1, proc.stderr
            out = json.loads(proc.stdout)
            found[source] = {
                (v["principal"], v["dataset"], v["label"], v["scope"], v["via"]) for v in out["violations"]
            }
            assert {v["source"] for v in out["violations"]} == {source}
            fixes = {v["principal"]: v["fix"] for v in out["violations"]}
            team_fix = f"REVOKE SELECT ON {'TABLE ' if source == 'postgres' else ''}{schema}.customers FROM {r['team']};"
            assert fixes[r["member"]].startswith(team_fix)
            dialect = "postgres" if source == "postgres" else "tsql"
            for fix in fixes.values():
                assert all(sqlglot.parse(fix, read=dialect))  # each fix parses in its platform's dialect
        assert found["synapse"] == found["postgres"]
        assert {p for p, *_ in found["synapse"]} == {r[k] for k in ("analyst", "team", "member", "colbad")}
    finally:
        with engine.connect() as c:
            c.execute(sa.text("DROP SCHEMA sys CASCADE"))
