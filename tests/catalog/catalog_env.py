"""Shared by the catalog tests (fixtures are registered in conftest.py): a small governance project wired to one of three real catalogs
(SQLite file, PostgreSQL schema, the local Purview Data Map server), and a way to edit each catalog "by
hand" (as a person in the UI would) and to read it back independently of the code under test."""

from __future__ import annotations

import json
import shutil
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from helpers import REPO
from ruamel.yaml import YAML
from servers.purview_server import TOKEN, PurviewServer

from governance.catalog.backends.local import LocalBackend
from governance.catalog.model import all_entities
from governance.catalog.service import sync
from governance.project import Project, load_project

STEWARD_ID = "11111111-1111-1111-1111-111111111111"

GLOSSARY = """\
glossary: SmartFlow
terms:
  - name: Customer Metrics
    definition: Measures that describe customers and their behaviour.
    status: Approved
    stewards: [data-stewards@smartflow.example]
  - name: Customer Lifetime Value
    abbreviation: CLV
    definition: Net revenue expected from a customer over the whole relationship.
    status: Approved
    parent: Customer Metrics
    stewards: [data-stewards@smartflow.example]
    experts: [analytics@smartflow.example]
    synonyms: [Lifetime Value]
    related: [Daily Revenue]
    assigned_to: [gold.customer360_view.lifetime_value]
  - name: Daily Revenue
    definition: Revenue per business day, region and payment method.
    status: Approved
    assigned_to: [gold.daily_revenue, gold.daily_revenue.revenue]
  - name: Payment Method
    definition: How a customer paid (credit_card, debit_card, paypal, bank_transfer, apple_pay, google_pay, cash).
    assigned_to: [silver.transactions.payment_method]
  - name: Churn Risk
    definition: Likelihood that a customer stops buying within 90 days.
    status: Draft
"""

CLASSIFICATIONS = """\
labels:
  - {name: PII, description: Personal data about an identifiable person}
  - {name: Confidential, description: Internal business data}
  - {name: Public}
rules:
  - name: SMARTFLOW.EMAIL
    label: PII
    column_pattern: "(?i)e[-_ ]?mail"
    data_pattern: "^[^@\\\\s]+@[^@\\\\s]+\\\\.[A-Za-z]{2,}$"
    minimum_match_percent: 60
  - name: SMARTFLOW.PHONE
    label: PII
    column_pattern: "(?i)phone"
    minimum_match_percent: 50
assignments:
  - dataset: silver.customers
    table: [Confidential]
    columns: {email: [PII], name: [PII], customer_id: [Confidential]}
  - dataset: gold.daily_revenue
    table: [Public]
"""


@dataclass
class CatalogEnv:
    """One test project bound to one catalog."""

    kind: str
    root: Path
    server: PurviewServer | None = None
    url: str | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "smartflow.yaml"

    def project(self) -> Project:
        return load_project(self.config)

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    # --- reading the catalog without the code under test ------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """terms {name: (definition, status, parent)}, classifications {(qn, label)},
        assignments {(term, qn)}, rules {name}, entity qualified names (sorted list, duplicates kept)."""
        if self.server is not None:
            st = self.server.state
            by_guid = {g: e["attributes"]["qualifiedName"] for g, e in st.entities.items()}
            names = {t["guid"]: t["name"] for t in st.terms.values()}
            return {
                "terms": {
                    t["name"]: (
                        t.get("longDescription"),
                        t.get("status"),
                        names.get((t.get("parentTerm") or {}).get("termGuid", "")),
                    )
                    for t in st.terms.values()
                },
                "term_names": sorted(t["name"] for t in st.terms.values()),
                "classifications": {
                    (by_guid[g], c["typeName"]) for g, e in st.entities.items() for c in e["classifications"]
                },
                "assignments": {(names[a["term"]], by_guid[a["entity"]]) for a in st.assignments.values()},
                "rules": set(st.rules),
                "entities": sorted(by_guid.values()),
            }
        be = LocalBackend(self.project())
        try:
            t = be.t
            with be.engine.connect() as conn:
                ents = {r.guid: r.qualified_name for r in conn.execute(sa.select(t["entities"]))}
                terms = list(conn.execute(sa.select(t["terms"])))
                tnames = {r.guid: r.name for r in terms}
                return {
                    "terms": {
                        r.name: (
                            json.loads(r.body)["definition"],
                            json.loads(r.body)["status"],
                            json.loads(r.body)["parent"],
                        )
                        for r in terms
                    },
                    "term_names": sorted(r.name for r in terms),
                    "classifications": {
                        (ents[r.entity_guid], r.type_name)
                        for r in conn.execute(sa.select(t["classifications"]))
                    },
                    "assignments": {
                        (tnames[r.term_guid], ents[r.entity_guid])
                        for r in conn.execute(sa.select(t["assignments"]))
                    },
                    "rules": {r.name for r in conn.execute(sa.select(t["rules"]))},
                    "entities": sorted(ents.values()),
                }
        finally:
            be.close()

    # --- edits made by a person in the catalog UI (never marked managed) -------------------------
    def _http(self, method: str, path: str, body: Any = None, plane: str = "datamap") -> Any:
        assert self.server is not None
        base = f"{self.server.endpoint}/{'datamap/api' if plane == 'datamap' else 'scan'}"
        sep = "&" if "?" in path else "?"
        req = urllib.request.Request(
            f"{base}{path}{sep}api-version=2023-09-01",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def _local_guid(self, conn: sa.Connection, be: LocalBackend, table: str, name: str) -> str:
        tb = be.t[table]
        return str(conn.execute(sa.select(tb.c.guid).where(tb.c.name == name)).scalar_one())

    def hand_add_term(self, name: str, definition: str) -> None:
        if self.server is not None:
            glossary = next(iter(self.server.state.glossaries))
            self._http(
                "POST",
                "/atlas/v2/glossary/term",
                {"name": name, "longDescription": definition, "anchor": {"glossaryGuid": glossary}},
            )
            return
        be = LocalBackend(self.project())
        body: dict[str, Any] = {
            "name": name,
            "glossary": "SmartFlow",
            "definition": definition,
            "abbreviation": None,
            "long_description": None,
            "status": "Draft",
            "parent": None,
            "stewards": [],
            "experts": [],
            "synonyms": [],
            "related": [],
            "examples": [],
        }
        with be.engine.begin() as conn:
            conn.execute(
                be.t["terms"]
                .insert()
                .values(
                    guid=str(uuid.uuid4()),
                    name=name,
                    glossary="SmartFlow",
                    body=json.dumps(body),
                    managed=False,
                )
            )
        be.close()

    def hand_edit_definition(self, term: str, definition: str) -> None:
        if self.server is not None:
            t = self.server.term_by_name(term)
            assert t is not None
            self._http("PUT", f"/atlas/v2/glossary/term/{t['guid']}/partial", {"longDescription": definition})
            return
        be = LocalBackend(self.project())
        tb = be.t["terms"]
        with be.engine.begin() as conn:
            row = conn.execute(sa.select(tb).where(tb.c.name == term)).one()
            body = {**json.loads(row.body), "definition": definition}
            conn.execute(tb.update().where(tb.c.guid == row.guid).values(body=json.dumps(body)))
        be.close()

    def _entity_qn(self, name: str) -> str:
        from governance.catalog.model import all_entities

        return all_entities(self.project())[name].qualified_name

    def hand_set_classifications(self, entity: str, add: list[str] = (), drop: list[str] = ()) -> None:  # type: ignore[assignment]
        qn = self._entity_qn(entity)
        if self.server is not None:
            guid = next(
                g for g, e in self.server.state.entities.items() if e["attributes"]["qualifiedName"] == qn
            )
            e = self.server.state.entities[guid]
            classes = [c for c in e["classifications"] if c["typeName"] not in drop] + [
                {"typeName": a} for a in add
            ]
            header = {
                "typeName": e["typeName"],
                "attributes": {"qualifiedName": qn},
                "classifications": classes,
            }
            self._http("POST", "/atlas/v2/entity/bulk/setClassifications", {"guidHeaderMap": {guid: header}})
            return
        be = LocalBackend(self.project())
        k, en = be.t["classifications"], be.t["entities"]
        with be.engine.begin() as conn:
            guid = conn.execute(sa.select(en.c.guid).where(en.c.qualified_name == qn)).scalar_one()
            for label in drop:
                conn.execute(k.delete().where(k.c.entity_guid == guid, k.c.type_name == label))
            for label in add:
                conn.execute(k.insert().values(entity_guid=guid, type_name=label, managed=False))
        be.close()

    def hand_assign(self, term: str, entity: str) -> None:
        qn = self._entity_qn(entity)
        if self.server is not None:
            t = self.server.term_by_name(term)
            assert t is not None
            guid = next(
                g for g, e in self.server.state.entities.items() if e["attributes"]["qualifiedName"] == qn
            )
            self._http("POST", f"/atlas/v2/glossary/terms/{t['guid']}/assignedEntities", [{"guid": guid}])
            return
        be = LocalBackend(self.project())
        en, a = be.t["entities"], be.t["assignments"]
        with be.engine.begin() as conn:
            eg = conn.execute(sa.select(en.c.guid).where(en.c.qualified_name == qn)).scalar_one()
            tg = self._local_guid(conn, be, "terms", term)
            conn.execute(
                a.insert().values(
                    relation_guid=str(uuid.uuid4()), term_guid=tg, entity_guid=eg, managed=False
                )
            )
        be.close()


def write_project(root: Path, catalog: dict[str, Any]) -> Path:
    """The repo's smartflow.yaml (all 13 datasets) with `catalog` replaced, plus the test glossary."""
    yaml = YAML()
    data = yaml.load((REPO / "smartflow.yaml").read_text(encoding="utf-8"))
    data["catalog"] = catalog
    data["state_dir"] = ".smartflow"
    root.mkdir(parents=True, exist_ok=True)
    with (root / "smartflow.yaml").open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    (root / "glossary").mkdir(exist_ok=True)
    (root / "classifications").mkdir(exist_ok=True)
    (root / "glossary" / "smartflow.yaml").write_text(GLOSSARY, encoding="utf-8")
    (root / "classifications" / "smartflow.yaml").write_text(CLASSIFICATIONS, encoding="utf-8")
    return root / "smartflow.yaml"


def purview_catalog(endpoint: str) -> dict[str, Any]:
    return {
        "backend": "purview",
        "purview": {
            "endpoint": endpoint,
            "collection": "smartflow",
            "storage_account": "smartflowlake",
            "container": "lake",
            "contacts": {"data-stewards@smartflow.example": STEWARD_ID},
            "operations_per_second": 2000,
            "retry_backoff": 0.05,
            "max_retries": 4,
        },
    }


@pytest.fixture(params=["sqlite", "postgres", "purview"])
def catalog_env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CatalogEnv]:
    kind = request.param
    root = tmp_path / "project"
    if kind == "sqlite":
        write_project(root, {"backend": "local", "local": {"path": ".smartflow/catalog.db"}})
        yield CatalogEnv(kind, root)
    elif kind == "postgres":
        url = request.getfixturevalue("pg_url")
        schema = f"sfg_catalog_test_{uuid.uuid4().hex[:8]}"
        write_project(root, {"backend": "local", "local": {"url": url, "schema": schema}})
        try:
            yield CatalogEnv(kind, root, url=url, schema=schema)
        finally:
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
            engine.dispose()
    else:
        monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", TOKEN)
        with PurviewServer() as server:
            write_project(root, purview_catalog(server.endpoint))
            yield CatalogEnv(kind, root, server=server)
            assert server.contract_errors == [], f"requests broke the REST contract: {server.contract_errors}"


@pytest.fixture
def purview_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CatalogEnv]:
    monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", TOKEN)
    with PurviewServer() as server:
        write_project(tmp_path / "project", purview_catalog(server.endpoint))
        yield CatalogEnv("purview", tmp_path / "project", server=server)
        assert server.contract_errors == [], f"requests broke the REST contract: {server.contract_errors}"


def copy_env(env: CatalogEnv, dst: Path) -> CatalogEnv:
    shutil.copytree(env.root, dst)
    return CatalogEnv(env.kind, dst, env.server, env.url, env.schema)


# --- scenario helpers -------------------------------------------------------------------------------


def qn(env: CatalogEnv, name: str) -> str:
    return all_entities(env.project())[name].qualified_name


def expected(env: CatalogEnv) -> dict[str, Any]:
    return {
        "terms": {
            "Customer Metrics": ("Measures that describe customers and their behaviour.", "Approved", None),
            "Customer Lifetime Value": (
                "Net revenue expected from a customer over the whole relationship.",
                "Approved",
                "Customer Metrics",
            ),
            "Daily Revenue": ("Revenue per business day, region and payment method.", "Approved", None),
            "Payment Method": (
                "How a customer paid (credit_card, debit_card, paypal, bank_transfer, apple_pay, google_pay, cash).",
                "Draft",
                None,
            ),
            "Churn Risk": ("Likelihood that a customer stops buying within 90 days.", "Draft", None),
        },
        "assignments": {
            ("Customer Lifetime Value", qn(env, "gold.customer360_view.lifetime_value")),
            ("Daily Revenue", qn(env, "gold.daily_revenue")),
            ("Daily Revenue", qn(env, "gold.daily_revenue.revenue")),
            ("Payment Method", qn(env, "silver.transactions.payment_method")),
        },
        "classifications": {
            (qn(env, "silver.customers"), "Confidential"),
            (qn(env, "silver.customers.email"), "PII"),
            (qn(env, "silver.customers.name"), "PII"),
            (qn(env, "silver.customers.customer_id"), "Confidential"),
            (qn(env, "gold.daily_revenue"), "Public"),
        },
        "rules": {"SMARTFLOW-EMAIL", "SMARTFLOW-PHONE"},
    }


def apply_all(env: CatalogEnv, **kw: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for kind in ("classifications", "glossary"):
        out[kind] = sync(env.project(), kind, apply=True, **kw).payload
    return out


def pending(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((c["action"], c["kind"], c["name"]) for c in payload["changes"] if c["action"] != "noop")


def assert_state_equals_files(env: CatalogEnv) -> None:
    snap, want = env.snapshot(), expected(env)
    for key in ("terms", "assignments", "classifications", "rules"):
        assert snap[key] == want[key], key
    dupes = [q for q, n in Counter(snap["entities"]).items() if n > 1]
    assert not dupes and len(snap["term_names"]) == len(set(snap["term_names"]))


# the sync JSON's keys in order (SPEC §4, as the command has always printed them)
SYNC_KEYS = ["backend", "changes", "summary", "requests", "warnings", "kind", "applied", "pruned", "seconds"]
CHANGE_KEYS = ["action", "kind", "name", "before", "after"]


def assert_sync_shape(payload: dict[str, Any], keys: list[str], drift_items: bool = False) -> None:
    """`payload` has exactly `keys` in order, each change the SPEC keys first and only the optional
    ones after, and it is what the typed model dumps (same keys, order and values)."""
    from governance.output import dumps
    from governance.specs.catalog_sync import SyncResult

    assert list(payload) == keys
    assert list(payload["summary"]) == ["create", "update", "delete", "noop"]
    assert list(payload["requests"]) == ["read", "write"]
    optional = ["note", "managed", "drift"]
    for change in payload["changes"]:
        assert list(change)[:5] == CHANGE_KEYS, change
        extra = list(change)[5:]
        assert extra == [k for k in optional if k in extra], change
        assert ("drift" in change) == drift_items
        assert change.get("managed", False) is False  # present only for an object people made
    assert dumps(SyncResult.model_validate(payload).dump()) == dumps(payload)
