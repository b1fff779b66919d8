"""Access-policy compliance against real PostgreSQL grants: real roles (table and column grants, group
membership with and without INHERIT), the report names exactly the violators, and applying the fix
statements it proposes leaves no violation while keeping the legitimate access."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import copy_project, run_cli

from governance.access.service import check, labels_by_dataset
from governance.project import load_project

TYPES = {
    "BIGINT": sa.BigInteger,
    "DATE": sa.Date,
    "TIMESTAMP": sa.DateTime,
    "INTEGER": sa.Integer,
    "DOUBLE": sa.Float,
}


def _type(sql_type: str) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return TYPES.get(sql_type.split("(")[0], sa.Numeric if sql_type.startswith("DECIMAL") else sa.Text)()


@pytest.fixture()
def warehouse(pg_url: str, tmp_path: Path) -> Iterator[dict[str, object]]:
    """A fresh database with silver.customers and gold.customer360_view, roles with various grants, and a
    project whose policy allows PII to the steward role only. Everything is dropped afterwards."""
    tag = "sfg" + secrets.token_hex(3)
    db = f"{tag}_wh"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    q = admin.dialect.identifier_preparer.quote
    r = {
        "steward": f"{tag}_steward",
        "cs_member": f"{tag}_cs_member",
        "analyst": f"{tag}_analyst",
        "colbad": f"{tag}_ColBad",  # needs quoting: the fix statements must quote it right
        "colok": f"{tag}_colok",
        "group": f"{tag}_reporting",
        "via_group": f"{tag}_via_group",
        "noinherit": f"{tag}_noinherit",
        "nothing": f"{tag}_nothing",
    }
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {q(db)}"))
        for key, role in r.items():
            login = "NOLOGIN" if key in ("steward", "group") else "LOGIN"
            inherit = "NOINHERIT" if key == "noinherit" else "INHERIT"
            conn.execute(sa.text(f"CREATE ROLE {q(role)} {login} {inherit}"))
    url = sa.engine.make_url(pg_url).set(database=db)
    wh = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    config = copy_project(tmp_path / "project")
    project = load_project(config)
    meta = sa.MetaData()
    for name in ("silver.customers", "gold.customer360_view"):
        schema, table = name.split(".")
        cols = project.config.datasets[name].columns
        sa.Table(table, meta, *(sa.Column(c, _type(t)) for c, t in cols.items()), schema=schema)
    labels = labels_by_dataset(project)
    public_cols = [c for c, lb in labels["gold.customer360_view"].items() if lb == {"Public"}]
    conf_cols = [c for c, lb in labels["silver.customers"].items() if lb == {"Confidential"}]
    cust_public = [c for c, lb in labels["silver.customers"].items() if lb == {"Public"}]
    assert public_cols and conf_cols and cust_public, "the project's classifications changed; adapt this test"
    with wh.connect() as conn:
        for schema in ("silver", "gold"):
            conn.execute(sa.text(f"CREATE SCHEMA {q(schema)}"))
            conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {q(schema)} TO PUBLIC"))
        meta.create_all(conn)
        cust, c360 = "silver.customers", "gold.customer360_view"
        grants = [
            f"GRANT SELECT ON {cust} TO {q(r['steward'])}",
            f"GRANT {q(r['steward'])} TO {q(r['cs_member'])}",
            f"GRANT SELECT ON {cust} TO {q(r['analyst'])}",
            f"GRANT SELECT (email, {', '.join(q(c) for c in cust_public)}) ON {cust} TO {q(r['colbad'])}",
            f"GRANT SELECT ({', '.join(q(c) for c in conf_cols)}) ON {cust} TO {q(r['colok'])}",
            f"GRANT SELECT ({', '.join(q(c) for c in public_cols)}) ON {c360} TO {q(r['colok'])}",
            f"GRANT SELECT ON {c360} TO {q(r['group'])}",
            f"GRANT {q(r['group'])} TO {q(r['via_group'])}",
            f"GRANT {q(r['group'])} TO {q(r['noinherit'])}",
        ]
        for stmt in grants:
            conn.execute(sa.text(stmt))
    (config.parent / "policies").mkdir(exist_ok=True)
    for f in (config.parent / "policies").glob("*.yaml"):
        f.unlink()
    allowed_conf = [r["steward"], r["analyst"], r["colok"]]
    (config.parent / "policies" / "warehouse.yaml").write_text(
        "connection: warehouse\npolicies:\n"
        f"  - {{label: PII, allowed_roles: [{r['steward']}]}}\n"
        f"  - {{label: Confidential, allowed_roles: [{', '.join(allowed_conf)}]}}\n"
        f"  - {{label: Financial, allowed_roles: [{r['steward']}]}}\n"
        "  - {label: Public, allowed_roles: [public]}\n"
    )
    try:
        yield {
            "config": config,
            "url": url.render_as_string(hide_password=False),
            "roles": r,
            "engine": wh,
            "public_column": cust_public[0],
        }
    finally:
        wh.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {q(db)} WITH (FORCE)"))
            for role in r.values():
                conn.execute(sa.text(f"DROP ROLE IF EXISTS {q(role)}"))
        admin.dispose()


def _check(w: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("SMARTFLOW_WAREHOUSE_URL", str(w["url"]))
    result = check(load_project(w["config"]))  # type: ignore[arg-type]
    return {"exit": result.exit_code, **result.payload}


def test_violators_are_exactly_the_roles_reading_what_they_should_not(
    warehouse: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    r: dict[str, str] = warehouse["roles"]  # type: ignore[assignment]
    out = _check(warehouse, monkeypatch)
    assert out["checked"] is True and out["exit"] == 1
    violations = out["violations"]
    mine = {v["role"] for v in violations if v["role"] in r.values()}  # type: ignore[attr-defined]
    expected = {r["analyst"], r["colbad"], r["group"], r["via_group"], r["noinherit"]}
    assert mine == expected
    assert {v["role"] for v in violations} == mine  # type: ignore[attr-defined]
    by_role = {v["role"]: v for v in violations}  # type: ignore[attr-defined]
    assert "email" in by_role[r["colbad"]]["columns"] and by_role[r["colbad"]]["table"] == "silver.customers"
    assert by_role[r["via_group"]]["via"][0] == {
        "grantee": r["group"],
        "level": "table",
        "through": "inherited",
        "columns": by_role[r["via_group"]]["columns"],
    }
    assert by_role[r["noinherit"]]["via"][0]["through"] == "set role"
    assert "PII" in by_role[r["analyst"]]["labels"]
    # PostgreSQL's own privilege check agrees for every role that reads through inheritance
    engine: sa.Engine = warehouse["engine"]  # type: ignore[assignment]
    with engine.connect() as conn:
        sql = sa.text("SELECT has_column_privilege(:r, :t, 'email', 'SELECT')")
        for key, table, expected_can in (
            ("analyst", "silver.customers", True),
            ("colbad", "silver.customers", True),
            ("steward", "silver.customers", True),
            ("cs_member", "silver.customers", True),
            ("via_group", "gold.customer360_view", True),
            ("noinherit", "gold.customer360_view", False),  # only after SET ROLE: still a violator
            ("colok", "silver.customers", False),
            ("nothing", "silver.customers", False),
        ):
            assert conn.execute(sql, {"r": r[key], "t": table}).scalar() is expected_can, key


def test_fix_statements_remove_every_violation_and_keep_legitimate_access(
    warehouse: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    r: dict[str, str] = warehouse["roles"]  # type: ignore[assignment]
    out = _check(warehouse, monkeypatch)
    engine: sa.Engine = warehouse["engine"]  # type: ignore[assignment]
    with engine.connect() as conn:
        for stmt in out["fix"]:  # type: ignore[attr-defined]
            conn.execute(sa.text(stmt))
    after = _check(warehouse, monkeypatch)
    assert after["exit"] == 0 and after["violations"] == []
    with engine.connect() as conn:

        def can(role: str, table: str, column: str) -> bool:
            sql = "SELECT has_column_privilege(:r, :t, :c, 'SELECT')"
            return bool(conn.execute(sa.text(sql), {"r": role, "t": table, "c": column}).scalar())

        assert can(r["analyst"], "silver.customers", "customer_id")  # Confidential: still allowed
        assert not can(r["analyst"], "silver.customers", "email")
        assert can(r["colbad"], "silver.customers", str(warehouse["public_column"])) and not can(
            r["colbad"], "silver.customers", "email"
        )
        assert can(r["steward"], "silver.customers", "email") and can(
            r["cs_member"], "silver.customers", "email"
        )
        assert can(r["group"], "gold.customer360_view", "region")  # Public stays readable


def test_audit_report_names_the_violators_and_the_fix(warehouse: dict[str, object], tmp_path: Path) -> None:
    r: dict[str, str] = warehouse["roles"]  # type: ignore[assignment]
    config: Path = warehouse["config"]  # type: ignore[assignment]
    env = {"SMARTFLOW_WAREHOUSE_URL": str(warehouse["url"])}
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "nightly",
        "--step",
        "access",
        "--step",
        "reports",
        env=env,
    )
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert [s["name"] for s in summary["steps"]] == ["access", "reports"]
    assert summary["steps"][0]["status"] == "failed"
    audit_json = next((config.parent / "reports").glob("audit-*.json"))
    audit = json.loads(audit_json.read_text())
    roles = {v["role"] for v in audit["access"]["violations"]}
    assert roles == {r["analyst"], r["colbad"], r["group"], r["via_group"], r["noinherit"]}
    html = next((config.parent / "reports").glob("audit-*.html")).read_text()
    violations_part = html[html.index('id="access"') : html.index('id="lineage"')]
    for role in roles:
        assert role in violations_part
    for stmt in audit["access"]["fix"]:
        assert stmt.replace('"', "&#34;") in html or stmt in html
    assert r["nothing"] not in html and r["cs_member"] not in html
    assert str(warehouse["url"]).split("@")[0] not in html  # no credentials in the report
