"""A small hospital glossary against the Purview-faithful server: 15 terms in a three-level hierarchy,
free-text and term synonyms, related terms, labels, and column targets that smartflow.yaml does not
declare — read from real Delta tables (one partitioned), from a PostgreSQL table, or found only among the
entities a scanner made. The server pages every list four items at a time."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from catalog_env import CatalogEnv, pending, purview_catalog
from deltalake import write_deltalake
from ruamel.yaml import YAML
from servers.purview_server import TOKEN, PurviewServer

from governance.catalog.model import RESOURCE_SET, all_entities, dataset_entity, tabular_schema_qn
from governance.catalog.service import drift, sync
from governance.project import load_project

GLOSSARY = """\
glossary: Hospital
terms:
  - {name: Clinical, definition: Care given to patients., status: Approved}
  - name: Patient
    definition: A person receiving care.
    parent: Clinical
    synonyms: [Client, Service User]
    assigned_to: [silver.patients]
  - name: Patient Identifier
    abbreviation: MRN
    definition: The hospital-wide identifier of a patient.
    parent: Patient
    synonyms: [Medical Record Number]
    assigned_to: [silver.patients.patient_id, silver.admissions.patient_id]
  - name: Date of Birth
    definition: The day a patient was born.
    parent: Patient
    synonyms: [DOB]
    assigned_to: [silver.patients.birth_date]
  - {name: Encounter, definition: A contact between a patient and the hospital., parent: Clinical,
     related: [Admission]}
  - name: Admission
    definition: A stay that starts with a bed being assigned.
    parent: Encounter
    synonyms: [Inpatient Stay]
    assigned_to: [silver.admissions]
  - name: Admission Date
    definition: When the admission started.
    parent: Admission
    assigned_to: [silver.admissions.admitted_at]
  - name: Discharge Date
    definition: When the admission ended.
    parent: Admission
    assigned_to: [silver.admissions.discharged_at, silver.admissions.bed_number]
  - name: Ward
    definition: A hospital unit with beds.
    parent: Encounter
    synonyms: [Unit]
    assigned_to: [silver.admissions.ward, gold.ward_occupancy.ward]
  - {name: Operations, definition: Running the hospital., status: Approved}
  - name: Bed Occupancy
    definition: Share of beds in use.
    parent: Operations
    synonyms: [Occupancy Rate]
    assigned_to: [gold.ward_occupancy.occupied_beds]
  - name: Ward Capacity
    definition: Beds a ward can hold.
    parent: Operations
    related: [Bed Occupancy]
    assigned_to: [gold.ward_occupancy.capacity]
  - {name: Laboratory, definition: Tests on specimens.}
  - name: Lab Result
    definition: The measured value of a lab test.
    parent: Laboratory
    assigned_to: [silver.lab_results.result_value]
  - name: Specimen
    definition: Material taken from a patient for a test.
    parent: Laboratory
    synonyms: [Sample, Specimen Sample]
    related: [Lab Result]
"""

CLASSIFICATIONS = """\
labels:
  - {name: PHI, description: Protected health information}
  - {name: Internal}
assignments:
  - dataset: silver.patients
    table: [PHI]
    columns: {patient_id: [PHI], full_name: [PHI], birth_date: [PHI]}
  - dataset: gold.ward_occupancy
    table: [Internal]
  - dataset: silver.lab_results
    columns: {result_value: [PHI]}
"""


def _delta_tables(lake: Path) -> None:
    patients = pa.table(
        {
            "patient_id": ["P1", "P2"],
            "full_name": ["Ann Example", "Bob Example"],
            "birth_date": [dt.date(1980, 1, 2), dt.date(1975, 5, 6)],
        }
    )
    write_deltalake(str(lake / "silver" / "patients"), patients)
    admissions = pa.table(
        {
            "admission_id": [1, 2],
            "patient_id": ["P1", "P2"],
            "admitted_at": [dt.datetime(2026, 1, 1, 8), dt.datetime(2026, 1, 2, 9)],
            "discharged_at": [dt.datetime(2026, 1, 3, 8), None],
            "ward": ["A", "B"],
        }
    )
    write_deltalake(str(lake / "silver" / "admissions"), admissions, partition_by=["ward"])


def _scanner_made_lab_results(env: CatalogEnv) -> None:
    """silver.lab_results has no table here and no declared columns: only the scanner knows them."""
    project = env.project()
    rs = dataset_entity(project, "silver.lab_results", project.config.datasets["silver.lab_results"])
    schema_qn = tabular_schema_qn(rs.qualified_name)
    compose = {
        "composeSchema": {"typeName": "tabular_schema", "uniqueAttributes": {"qualifiedName": schema_qn}}
    }
    entities: list[dict[str, Any]] = [
        {"typeName": "tabular_schema", "attributes": {"qualifiedName": schema_qn, "name": "schema"}},
        {
            "typeName": RESOURCE_SET,
            "attributes": {"qualifiedName": rs.qualified_name, "name": "lab_results"},
            "relationshipAttributes": {
                "tabular_schema": {
                    "typeName": "tabular_schema",
                    "uniqueAttributes": {"qualifiedName": schema_qn},
                }
            },
        },
    ] + [
        {
            "typeName": "column",
            "attributes": {"qualifiedName": f"{schema_qn}/{c}", "name": c, "data_type": "string"},
            "relationshipAttributes": compose,
        }
        for c in ("patient_id", "test_code", "result_value")
    ]
    env._http("POST", "/atlas/v2/entity/bulk", {"entities": entities})


@pytest.fixture
def hospital(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str) -> Iterator[CatalogEnv]:
    monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", TOKEN)
    monkeypatch.setenv("HOSPITAL_WAREHOUSE_URL", pg_url)
    schema = f"hospital_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
        occupancy = sa.Table(
            "ward_occupancy",
            sa.MetaData(schema=schema),
            sa.Column("ward", sa.Text),
            sa.Column("capacity", sa.Integer),
            sa.Column("occupied_beds", sa.Integer),
        )
        occupancy.create(conn)
    root = tmp_path / "hospital"
    _delta_tables(root / "lake")
    try:
        with PurviewServer() as server:
            server.max_page = 4
            config = {
                "version": 1,
                "project": "hospital",
                "lake": {"root": "lake"},
                "state_dir": ".smartflow",
                "datasets": {
                    "silver.patients": {"format": "delta", "path": "silver/patients", "layer": "silver"},
                    "silver.admissions": {
                        "format": "delta",
                        "path": "silver/admissions",
                        "layer": "silver",
                        "partitioning": ["ward"],
                    },
                    "silver.lab_results": {
                        "format": "delta",
                        "path": "silver/lab_results",
                        "layer": "silver",
                    },
                    "gold.ward_occupancy": {
                        "format": "sql",
                        "connection": "warehouse",
                        "table": f"{schema}.ward_occupancy",
                        "layer": "gold",
                    },
                },
                "connections": {"warehouse": {"url": "${HOSPITAL_WAREHOUSE_URL}"}},
                "catalog": purview_catalog(server.endpoint),
            }
            config["catalog"]["purview"]["contacts"] = {}
            with (root / "smartflow.yaml").open("w", encoding="utf-8") as fh:
                YAML().dump(config, fh)
            env = CatalogEnv("purview", root, server=server)
            env.write("glossary/hospital.yaml", GLOSSARY)
            env.write("classifications/hospital.yaml", CLASSIFICATIONS)
            _scanner_made_lab_results(env)
            yield env
            assert server.contract_errors == [], server.contract_errors
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        engine.dispose()


def _apply(env: CatalogEnv) -> dict[str, dict[str, Any]]:
    return {k: sync(env.project(), k, apply=True).payload for k in ("classifications", "glossary")}


def _plan(env: CatalogEnv) -> list[tuple[str, str, str]]:
    return [
        c
        for k in ("classifications", "glossary")
        for c in pending(sync(env.project(), k, apply=False).payload)
    ]


def test_first_apply_converges_and_nothing_changes_after(hospital: CatalogEnv) -> None:
    env, srv = hospital, hospital.server
    assert srv is not None
    first = _apply(env)
    # the unknown column is said, not planned as a create and then skipped
    names = {c["name"] for p in first.values() for c in p["changes"] if c["action"] == "create"}
    assert "Discharge Date -> silver.admissions.bed_number" not in names
    assert any("silver.admissions.bed_number" in w for w in first["glossary"]["warnings"])
    assert "Discharge Date -> silver.admissions.discharged_at" in names  # from the Delta log
    assert "Ward -> gold.ward_occupancy.ward" in names  # from PostgreSQL's catalog
    assert "Lab Result -> silver.lab_results.result_value" in names  # made by the scanner

    terms = {t["name"]: t for t in srv.state.terms.values()}
    assert len(terms) == 15
    by_guid = {t["guid"]: n for n, t in terms.items()}
    parent = {n: by_guid.get((t.get("parentTerm") or {}).get("termGuid", "")) for n, t in terms.items()}
    assert parent["Admission Date"] == "Admission" and parent["Admission"] == "Encounter"
    assert parent["Clinical"] is None and parent["Specimen"] == "Laboratory"
    assert terms["Admission Date"]["qualifiedName"] == "Clinical_Encounter_Admission_Admission Date@Hospital"
    assert all(t["nickName"] == n for n, t in terms.items())  # the display name is the term's own
    assert terms["Patient"]["attributes"] == {"smartflow": {"synonyms": "Client; Service User"}}
    assert terms["Specimen"]["attributes"] == {"smartflow": {"synonyms": "Sample; Specimen Sample"}}
    assert not terms["Specimen"]["synonyms"]  # free text never becomes a relation
    assert [h["displayText"] for h in terms["Lab Result"]["seeAlso"]] == ["Specimen"]  # both ends
    assert [h["displayText"] for h in terms["Bed Occupancy"]["seeAlso"]] == ["Ward Capacity"]
    assert len(srv.state.assignments) == 12
    ents = all_entities(env.project())
    assert "silver.patients.birth_date" not in ents  # not declared …
    birth = srv.entity_by_qn(
        "column", f"{tabular_schema_qn(ents['silver.patients'].qualified_name)}/birth_date"
    )
    assert birth is not None and birth["attributes"]["data_type"] == "date32[day]"  # … read from the log
    assert {c["typeName"] for c in birth["classifications"]} == {"PHI"}
    assert srv.state.classification_defs["Internal"]["description"] == "Internal"  # filled in by the server

    srv.reset_counts()
    again = _apply(env)
    assert [p["requests"]["write"] for p in again.values()] == [0, 0] and srv.writes == 0
    assert _plan(env) == []


def test_one_edited_definition_is_one_change_and_portal_edits_are_drift(hospital: CatalogEnv) -> None:
    env, srv = hospital, hospital.server
    assert srv is not None
    _apply(env)
    env.edit("glossary/hospital.yaml", "Beds a ward can hold.", "Beds a ward can hold when fully staffed.")
    plan = sync(env.project(), "glossary", apply=False).payload
    assert pending(plan) == [("update", "term", "Ward Capacity")]
    change = next(c for c in plan["changes"] if c["action"] == "update")
    assert {k for k in change["after"] if change["after"][k] != change["before"].get(k)} == {"definition"}
    _apply(env)
    assert _plan(env) == []

    env.hand_edit_definition("Ward", "Edited in the portal.")
    found = drift(env.project()).payload
    assert [(c["name"], c["drift"]) for c in found["changes"]] == [("Ward", "changed")]
    # a display name given in the portal is kept by the next apply
    ward = srv.term_by_name("Ward")
    assert ward is not None
    env._http(
        "PUT",
        f"/atlas/v2/glossary/term/{ward['guid']}?includeTermHierarchy=true",
        {**_writable(ward), "nickName": "Hospital Ward"},
    )
    _apply(env)
    ward = srv.term_by_name("Ward")
    assert ward is not None
    assert ward["nickName"] == "Hospital Ward" and ward["longDescription"] == "A hospital unit with beds."
    assert _plan(env) == []


def _writable(term: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "name",
        "anchor",
        "longDescription",
        "status",
        "resources",
        "parentTerm",
        "attributes",
        "synonyms",
    )
    return {k: term[k] for k in keep if k in term}


def test_paging_reads_every_page(hospital: CatalogEnv) -> None:
    """Four items a page: 15 terms and 12 assignments are read in full (a client that stops at the first
    page would plan the missing ones as creates every run)."""
    env, srv = hospital, hospital.server
    assert srv is not None
    _apply(env)
    srv.reset_counts()
    sync(env.project(), "glossary", apply=False)
    term_pages = [p for m, p, _ in srv.requests if m == "GET" and p.endswith("/terms")]
    assert len(term_pages) == 5  # 4 + 4 + 4 + 3 + the empty page that ends the list
    assert load_project(env.config).terms and _plan(env) == []


def test_a_removed_term_counts_every_assignment_across_pages(hospital: CatalogEnv) -> None:
    """One assignment per page: a term that left the files is expired (still assigned to both columns),
    and with --force both assignments go before the term."""
    env, srv = hospital, hospital.server
    assert srv is not None
    _apply(env)
    srv.max_page = 1
    block = GLOSSARY[
        GLOSSARY.index("  - name: Patient Identifier") : GLOSSARY.index("  - name: Date of Birth")
    ]
    env.edit("glossary/hospital.yaml", block, "")
    expired = sync(env.project(), "glossary", apply=True, prune=True).payload
    change = next(c for c in expired["changes"] if c["name"] == "Patient Identifier")
    assert change["action"] == "update" and "still assigned to 2 entities" in change["note"]
    term = srv.term_by_name("Patient Identifier")
    assert term is not None and term["status"] == "Expired"
    forced = sync(env.project(), "glossary", apply=True, prune=True, force=True).payload
    assert pending(forced) == [
        ("delete", "assignment", "Patient Identifier -> silver.admissions.patient_id"),
        ("delete", "assignment", "Patient Identifier -> silver.patients.patient_id"),
        ("delete", "term", "Patient Identifier"),
    ]
    assert srv.term_by_name("Patient Identifier") is None and len(srv.state.assignments) == 10
    assert _plan(env) == []
