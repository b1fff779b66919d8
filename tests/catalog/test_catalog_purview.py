"""Purview specifics over real HTTP: faults and interrupted applies converge, scanner-made entities are
reused, stewards map to object ids, lineage processes, auth and endpoint rules, the CLI."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from catalog_env import (
    STEWARD_ID,
    CatalogEnv,
    apply_all,
    assert_state_equals_files,
    purview_catalog,
    write_project,
)
from helpers import run_cli
from servers.purview_server import TOKEN, PurviewServer

from governance.catalog.lineage_sync import push_lineage
from governance.catalog.model import RESOURCE_SET, all_entities, rule_name, tabular_schema_qn
from governance.catalog.service import sync
from governance.errors import InfraError, InputError
from governance.project import load_project

GRAPH = {
    "datasets": ["silver.transactions", "silver.customers", "gold.daily_revenue", "gold.customer360_view"],
    "jobs": [
        {"job": "gold_daily_revenue", "inputs": ["silver.transactions"], "outputs": ["gold.daily_revenue"]},
        {
            "job": "gold_customer360",
            "inputs": ["silver.customers", "silver.transactions", "bronze.not_declared"],
            "outputs": ["gold.customer360_view"],
        },
    ],
    "edges": [],
    "column_edges": [
        {  # indirect (GROUP BY): not data flow, so not in Purview's columnMapping
            "from": "silver.transactions.payment_method",
            "to": "gold.daily_revenue.revenue",
            "job": "gold_daily_revenue",
            "transformation": "filter",
        },
        {
            "from": "silver.transactions.amount",
            "to": "gold.daily_revenue.revenue",
            "job": "gold_daily_revenue",
            "transformation": "aggregation",
        },
        {
            "from": "silver.customers.email",
            "to": "gold.customer360_view.email",
            "job": "gold_customer360",
            "transformation": "identity",
        },
    ],
    "problems": [],
}


def test_rule_names_are_mapped_to_purviews_pattern() -> None:
    assert rule_name("SMARTFLOW.EMAIL") == "SMARTFLOW-EMAIL"
    assert rule_name("smartflow_credit card") == "smartflow-credit-card"
    assert rule_name("..IBAN__v2.") == "IBAN-v2"
    with pytest.raises(ValueError):
        rule_name("._.")


def test_faults_429_503_and_dropped_connections_converge_without_duplicates(purview_env: CatalogEnv) -> None:
    env = purview_env
    srv = env.server
    assert srv is not None
    srv.inject("GET", "/entity/bulk/uniqueAttribute", "429", times=1, retry_after=1)
    srv.inject("POST", "/entity/bulk", "drop", times=1)  # applied, answer lost: re-sent
    srv.inject("POST", "/setClassifications", "503", times=2)
    srv.inject("POST", "/glossary/terms", "drop", times=1)  # terms made, answer lost: 409 on re-send
    srv.inject("POST", "/assignedEntities", "drop", times=1)
    srv.inject("PUT", "/classificationrules/", "503", times=1)
    srv.inject("POST", "/types/typedefs", "drop", times=1)
    # glossary first: its entities exist before classifications, which then go through setClassifications
    sync(env.project(), "glossary", apply=True)
    sync(env.project(), "classifications", apply=True)
    assert all(f.times == 0 for f in srv.faults), "every fault was hit"
    statuses = Counter(status for _, _, status in srv.requests)
    assert statuses[429] == 1 and statuses[503] == 3
    assert_state_equals_files(env)
    srv.reset_counts()
    assert all(p["requests"]["write"] == 0 for p in apply_all(env).values())
    assert srv.writes == 0


def test_interrupted_apply_converges_on_rerun(purview_env: CatalogEnv) -> None:
    env = purview_env
    srv = env.server
    assert srv is not None
    # the second assignment request fails for good: entities and terms exist, assignments half done
    first = True

    def fail_after_first(method: str, path: str) -> object:
        nonlocal first
        if method == "POST" and "/assignedEntities" in path:
            if first:
                first = False
                return None
            return type("F", (), {"kind": "503", "retry_after": 0})()
        return None

    srv._fault = fail_after_first
    with pytest.raises(InfraError):
        sync(env.project(), "glossary", apply=True)
    del srv._fault
    assert len(srv.state.assignments) == 1 and len(srv.state.terms) == 5
    result = sync(env.project(), "glossary", apply=True).payload
    assert [c["kind"] for c in result["changes"] if c["action"] != "noop"] == ["assignment"] * 3
    apply_all(env)
    assert_state_equals_files(env)


def test_scanner_made_entities_are_reused_and_their_classifications_kept(purview_env: CatalogEnv) -> None:
    env = purview_env
    srv = env.server
    assert srv is not None
    ents = all_entities(env.project())
    rs = ents["silver.customers"]
    schema_qn = tabular_schema_qn(rs.qualified_name)
    scanned = [
        {"typeName": "tabular_schema", "attributes": {"qualifiedName": schema_qn, "name": "schema"}},
        {
            "typeName": RESOURCE_SET,
            "attributes": {"qualifiedName": rs.qualified_name, "name": "customers"},
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
            "attributes": {"qualifiedName": ents[f"silver.customers.{c}"].qualified_name, "name": c},
            "relationshipAttributes": {
                "composeSchema": {
                    "typeName": "tabular_schema",
                    "uniqueAttributes": {"qualifiedName": schema_qn},
                }
            },
        }
        for c in ("customer_id", "email", "name", "region")
    ]
    system = {"classificationDefs": [{"name": "MICROSOFT.PERSONAL.EMAIL", "category": "CLASSIFICATION"}]}
    _post(srv, "/datamap/api/atlas/v2/types/typedefs", system)
    _post(srv, "/datamap/api/atlas/v2/entity/bulk", {"entities": scanned})
    email = srv.entity_by_qn("column", ents["silver.customers.email"].qualified_name)
    assert email is not None
    header = {
        "typeName": "column",
        "attributes": {"qualifiedName": ents["silver.customers.email"].qualified_name},
        "classifications": [{"typeName": "MICROSOFT.PERSONAL.EMAIL"}],
    }
    _post(
        srv,
        "/datamap/api/atlas/v2/entity/bulk/setClassifications",
        {"guidHeaderMap": {email["guid"]: header}},
    )
    before = len(srv.state.entities)

    payload = sync(env.project(), "classifications", apply=True).payload
    created = {c["name"] for c in payload["changes"] if c["kind"] == "entity" and c["action"] == "create"}
    assert "silver.customers" not in created and "silver.customers.email" not in created
    assert len(srv.state.entities) == before + len(created) + 1  # + the tabular schema of gold.daily_revenue
    labels = {c["typeName"] for c in email["classifications"]}
    assert labels == {"MICROSOFT.PERSONAL.EMAIL", "PII"}  # the scanner's one is kept
    assert not email["customAttributes"]  # not taken over
    assert sync(env.project(), "classifications", apply=True).payload["requests"]["write"] == 0


def test_stewards_map_to_object_ids_and_unknown_ones_warn(purview_env: CatalogEnv) -> None:
    env = purview_env
    srv = env.server
    assert srv is not None
    payload = sync(env.project(), "glossary", apply=True).payload
    assert any("analytics@smartflow.example" in w for w in payload["warnings"])
    clv = srv.term_by_name("Customer Lifetime Value")
    assert clv is not None
    assert clv["contacts"] == {"Steward": [{"id": STEWARD_ID, "info": "data-stewards@smartflow.example"}]}
    assert "Expert" not in clv["contacts"]
    assert clv["qualifiedName"] == "Customer Metrics_Customer Lifetime Value@SmartFlow"
    # the display name stays the term's own; the free-text synonym lives in the term template
    assert clv["nickName"] == "Customer Lifetime Value"
    assert clv["attributes"] == {"smartflow": {"synonyms": "Lifetime Value"}}
    assert clv["parentTerm"]["termGuid"] == srv.term_by_name("Customer Metrics")["guid"]  # type: ignore[index]
    assert [h["displayText"] for h in clv["seeAlso"]] == ["Daily Revenue"]


def test_lineage_push_creates_typed_processes_idempotently(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    first = push_lineage(env.project(), GRAPH)
    assert {
        c["name"] for c in first.payload["changes"] if c["kind"] == "process" and c["action"] == "create"
    } == {
        "gold_daily_revenue",
        "gold_customer360",
    }
    assert any("bronze.not_declared" in w for w in first.payload["warnings"])
    again = push_lineage(env.project(), GRAPH)
    assert again.payload["requests"]["write"] == 0
    changed = json.loads(json.dumps(GRAPH))
    changed["jobs"] = changed["jobs"][:1]
    changed["column_edges"] = [e for e in changed["column_edges"] if e["job"] == "gold_daily_revenue"]
    third = push_lineage(env.project(), changed).payload
    assert [(c["action"], c["name"]) for c in third["changes"] if c["action"] != "noop"] == [
        ("delete", "gold_customer360")
    ]
    if env.server is not None:
        srv = env.server
        assert "smartflow_process" in srv.state.entity_defs
        procs = [e for e in srv.state.entities.values() if e["typeName"] == "smartflow_process"]
        assert len(procs) == 1
        mapping = json.loads(procs[0]["attributes"]["columnMapping"])
        assert mapping[0]["ColumnMapping"] == [{"Source": "amount", "Sink": "revenue"}]
        assert mapping[0]["DatasetMapping"]["Sink"].endswith("/gold/daily_revenue/{SparkPartitions}")


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    cfg = write_project(
        tmp_path / "p", {"backend": "purview", "purview": {"endpoint": "http://purview.example.com"}}
    )
    proc = run_cli("--config", str(cfg), "sync-glossary")
    assert proc.returncode == 2 and "loopback" in proc.stderr


def test_wrong_token_is_an_infrastructure_error(
    purview_env: CatalogEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", "not-the-token")
    with pytest.raises(InfraError, match="401"):
        sync(purview_env.project(), "glossary", apply=False)


def test_cli_plan_apply_show_drift(purview_env: CatalogEnv) -> None:
    env = purview_env
    cfg = str(env.config)
    tok = {"SMARTFLOW_AZURE_TOKEN": TOKEN}
    plan = run_cli(
        "--config", cfg, "--output", "json", "sync-glossary", "--detailed-exitcode", env=tok, check=1
    )
    assert json.loads(plan.stdout)["backend"] == "purview"
    applied = run_cli("--config", cfg, "sync-glossary", "--apply", env=tok, check=0)
    assert "requests:" in applied.stderr and "applied:" in applied.stdout
    run_cli("--config", cfg, "sync-classifications", "--apply", env=tok, check=0)
    run_cli("--config", cfg, "sync-glossary", "--detailed-exitcode", env=tok, check=0)
    shown = run_cli(
        "--config", cfg, "--output", "json", "catalog", "show", "silver.customers", env=tok, check=0
    )
    assert {c["name"]: c["classifications"] for c in json.loads(shown.stdout)["columns"]}["email"] == ["PII"]
    run_cli("--config", cfg, "catalog", "drift", "--detailed-exitcode", env=tok, check=0)
    env.hand_add_term("Net Promoter Score", "Made in the UI.")
    out = run_cli(
        "--config", cfg, "--output", "json", "catalog", "drift", "--detailed-exitcode", env=tok, check=1
    )
    assert [c["drift"] for c in json.loads(out.stdout)["changes"]] == ["unmanaged"]
    missing = run_cli("--config", cfg, "catalog", "show", "No Such Thing", env=tok, check=2)
    assert "neither a term nor a dataset" in missing.stderr


def test_unknown_sync_kind_is_bad_input(purview_env: CatalogEnv) -> None:
    with pytest.raises(InputError):
        sync(purview_env.project(), "lineage", apply=False)


def _post(srv: PurviewServer, path: str, body: object) -> None:
    req = urllib.request.Request(
        f"{srv.endpoint}{path}?api-version=2023-09-01",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10):
        pass


@pytest.mark.slow
def test_the_repo_project_syncs_and_pushes_lineage_to_purview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SmartFlow's own glossary, classifications and manifests, end to end over HTTP."""
    from helpers import copy_project
    from ruamel.yaml import YAML

    from governance.lineage.service import build

    monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", TOKEN)
    cfg = copy_project(tmp_path / "repo")
    with PurviewServer() as srv:
        yaml = YAML()
        data = yaml.load(cfg.read_text())
        data["catalog"] = purview_catalog(srv.endpoint)
        with cfg.open("w") as fh:
            yaml.dump(data, fh)
        project = load_project(cfg)
        if not project.terms:
            pytest.fail("the repo declares no glossary terms")
        first = {k: sync(load_project(cfg), k, apply=True).payload for k in ("glossary", "classifications")}
        assert all(p["summary"]["create"] > 0 for p in first.values())
        graph = build(load_project(cfg)).payload
        pushed = push_lineage(load_project(cfg), graph).payload
        assert pushed["summary"]["create"] >= len(graph["jobs"])
        srv.reset_counts()
        again = [sync(load_project(cfg), k, apply=True).payload for k in ("glossary", "classifications")]
        again.append(push_lineage(load_project(cfg), graph).payload)
        assert [p["requests"]["write"] for p in again] == [0, 0, 0] and srv.writes == 0
        terms = [t["name"] for t in srv.state.terms.values()]
        assert sorted(terms) == sorted(t.name for t in project.terms)
        plans = [sync(load_project(cfg), k, apply=False).payload for k in ("glossary", "classifications")]
        assert [p["summary"]["create"] + p["summary"]["update"] + p["summary"]["delete"] for p in plans] == [
            0,
            0,
        ]
        # one edited definition: a one-change plan
        term = project.terms[0]
        first_line = term.definition.strip().splitlines()[0]
        glossary = next(
            p for p in sorted((cfg.parent / "glossary").glob("*.yaml")) if first_line in p.read_text()
        )
        glossary.write_text(glossary.read_text().replace(first_line, first_line + " (edited)", 1))
        edited = sync(load_project(cfg), "glossary", apply=False).payload
        assert [(c["action"], c["name"]) for c in edited["changes"] if c["action"] != "noop"] == [
            ("update", term.name)
        ]
        assert srv.contract_errors == []


def test_request_budget_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ops/second budget of the shared transport: each request waits for its slot (clock and sleep
    are simulated)."""
    from governance.azure import transport

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    monkeypatch.setattr(transport.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(transport.time, "sleep", sleep)
    budget = transport.Budget(per_second=4)
    for _ in range(5):
        budget.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]  # 4 per second: the 2nd..5th wait for their slot


def test_searches_count_as_reads_and_writes_as_writes(purview_env: CatalogEnv) -> None:
    from governance.azure.transport import Counts
    from governance.catalog.purview.transport import PurviewHttp

    cfg = purview_env.project().config.catalog.purview
    assert cfg is not None and purview_env.server is not None
    counts = Counts()
    http = PurviewHttp(cfg, counts)
    try:
        http.call("GET", "/atlas/v2/types/typedefs", params={"type": "classification"})
        http.call("POST", "/search/query", body={"filter": {"entityType": "column"}, "limit": 10})
        http.call("POST", "/atlas/v2/glossary", body={"name": "G", "qualifiedName": "G"})
    finally:
        http.close()
    assert (counts.read, counts.write) == (2, 1)
    assert (purview_env.server.reads, purview_env.server.writes) == (2, 1)


def test_processes_of_removed_jobs_are_found_across_search_pages(purview_env: CatalogEnv) -> None:
    """One search hit per page: the process of a job that left the manifests is still found and deleted."""
    srv = purview_env.server
    assert srv is not None
    push_lineage(purview_env.project(), GRAPH)
    srv.max_page = 1
    fewer = json.loads(json.dumps(GRAPH))
    fewer["jobs"] = [j for j in fewer["jobs"] if j["job"] == "gold_customer360"]
    fewer["column_edges"] = [e for e in fewer["column_edges"] if e["job"] == "gold_customer360"]
    # the remaining job is found by name; the removed one only through the paged search
    srv.reset_counts()
    out = push_lineage(purview_env.project(), fewer).payload
    assert sum(1 for _, path, _ in srv.requests if path.endswith("/search/query")) == 2  # two pages
    assert [(c["action"], c["name"]) for c in out["changes"] if c["action"] != "noop"] == [
        ("delete", "gold_daily_revenue")
    ]
    assert [
        e["attributes"]["name"] for e in srv.state.entities.values() if e["typeName"] == "smartflow_process"
    ] == ["gold_customer360"]


def test_rules_are_read_across_next_link_pages(purview_env: CatalogEnv) -> None:
    """One rule per page: the second rule is on the page behind nextLink, so a re-apply writes nothing."""
    srv = purview_env.server
    assert srv is not None
    srv.max_page = 1
    sync(purview_env.project(), "classifications", apply=True)
    srv.reset_counts()
    again = sync(purview_env.project(), "classifications", apply=True).payload
    assert again["requests"]["write"] == 0 and srv.writes == 0
    assert sum(1 for _, path, _ in srv.requests if path.endswith("/classificationrules")) == 2
