"""sync-domains and the Unified Catalog half of sync-glossary, over real HTTP against the contract server
(every request and response validated against CatalogApiService.json) and on the local SQLite catalog."""

from __future__ import annotations

import json

import pytest
from catalog_env import SYNC_KEYS, assert_sync_shape
from helpers import run_cli
from unified_env import ANALYST_ID, OWNER_ID, UnifiedEnv

from governance.catalog.service import sync
from governance.catalog.unified.ids import object_id
from governance.catalog.unified.service import sync_domains
from governance.errors import InfraError


def _summary(result: object) -> dict[str, int]:
    return result.payload["summary"]  # type: ignore[attr-defined,no-any-return]


def _pending(result: object) -> list[tuple[str, str, str]]:
    return [
        (c["action"], c["kind"], c["name"])
        for c in result.payload["changes"]  # type: ignore[attr-defined]
        if c["action"] != "noop"
    ]


def test_glossary_then_domains_plan_apply_and_a_second_apply_writes_nothing(remote_env: UnifiedEnv) -> None:
    srv = remote_env.server
    assert srv is not None
    terms = sync(remote_env.project(), "glossary", apply=True)
    assert_sync_shape(terms.payload, SYNC_KEYS)  # `glossary: unified`: the Unified Catalog's terms only
    # the term's domains are created by sync-glossary before sync-domains ever ran
    assert {d["name"] for d in srv.of("domain")} == {"Customer", "Sales"}
    by_name = {t["name"]: t for t in srv.of("term")}
    assert set(by_name) == {
        "Customer Metrics",
        "Customer Lifetime Value",
        "Customer",
        "Churn Risk",
        "Daily Revenue",
    }
    clv = by_name["Customer Lifetime Value"]
    assert clv["id"] == object_id("acme", "term", "Customer Lifetime Value")
    assert clv["status"] == "PUBLISHED" and clv["acronyms"] == ["CLV"]
    assert clv["parentId"] == by_name["Customer Metrics"]["id"]
    assert clv["contacts"] == {
        "owner": [{"id": OWNER_ID, "description": "owner"}],
        "expert": [{"id": ANALYST_ID, "description": "expert"}],
    }
    assert by_name["Churn Risk"]["status"] == "DRAFT" and by_name["Daily Revenue"]["status"] == "EXPIRED"
    assert by_name["Customer"]["status"] == "PUBLISHED"
    warnings = " ".join(terms.payload["warnings"])
    assert "Alert has no Unified Catalog equivalent" in warnings and "nobody@example.com" in warnings
    assert "Business Date" not in by_name  # no domain: not written
    assert by_name["Daily Revenue"]["domain"] == srv.named("domain", "Sales")[0]["id"]
    assert all(remote_env.managed(o) and o["systemData"]["createdBy"] for o in srv.of("term"))

    plan = sync_domains(remote_env.project(), apply=False)
    kinds = {k for _, k, _ in _pending(plan)}
    assert kinds == {"data_product", "critical_data_element", "relationship"}  # domains exist already
    applied = sync_domains(remote_env.project(), apply=True)
    assert applied.payload["requests"]["write"] == _summary(plan)["create"]
    product = srv.named("data_product", "Customer 360")[0]
    assert product["id"] == object_id("acme", "data_product", "Customer 360")
    assert product["businessUse"] == "Retention campaigns." and product["updateFrequency"] == "Daily"
    rels = srv.relationships_of("data_product", product["id"])
    assert {(r["entityType"], r["entityId"]) for r in rels} == {
        ("TERM", by_name["Customer Lifetime Value"]["id"]),
        ("TERM", by_name["Customer"]["id"]),
        ("DATAASSET", srv.named("data_asset", "customer360")[0]["id"]),
    }
    cde = srv.named("critical_data_element", "Customer Identifier")[0]
    cols = [
        r
        for r in srv.relationships_of("critical_data_element", cde["id"])
        if r["entityType"] == "CRITICALDATACOLUMN"
    ]
    assert {r["assetId"] for r in cols} == {a["id"] for a in srv.of("data_asset")}
    # Daily Revenue's data asset is not in the catalog: the relationship waits, with a warning
    assert any("gold.daily_revenue" in w for w in applied.payload["warnings"])

    srv.reset_counts()
    again = sync_domains(remote_env.project(), apply=True)
    assert again.payload["requests"]["write"] == 0 and srv.writes == 0
    assert _pending(again) == []
    glossary_again = sync(remote_env.project(), "glossary", apply=True)
    assert glossary_again.payload["requests"]["write"] == 0 and srv.writes == 0
    # paging: more objects than a page, every list followed its nextLink
    assert len([r for r in srv.requests if r[0] == "GET" and r[1].endswith("/terms")]) >= 2


def test_cli_detailed_exitcode_and_json(remote_env: UnifiedEnv) -> None:
    cfg = str(remote_env.config)
    run_cli("--config", cfg, "sync-glossary", "--apply", check=0)
    proc = run_cli("--config", cfg, "--output", "json", "sync-domains", "--detailed-exitcode", check=1)
    out = json.loads(proc.stdout)
    assert out["backend"] == "purview-unified" and out["summary"]["create"] > 0
    assert {c["kind"] for c in out["changes"]} <= {
        "domain",
        "data_product",
        "critical_data_element",
        "relationship",
    }
    assert_sync_shape(out, SYNC_KEYS)
    applied = json.loads(
        run_cli("--config", cfg, "--output", "json", "sync-domains", "--apply", check=0).stdout
    )
    assert_sync_shape(applied, SYNC_KEYS)
    run_cli("--config", cfg, "sync-domains", "--detailed-exitcode", check=0)


def test_portal_made_objects_are_never_touched_even_with_prune(remote_env: UnifiedEnv) -> None:
    srv = remote_env.server
    assert srv is not None
    sync(remote_env.project(), "glossary", apply=True)
    sync_domains(remote_env.project(), apply=True)
    customer = srv.named("domain", "Customer")[0]
    # a person adds a product to a managed domain, and a term to a managed product
    theirs = srv.portal_create(
        "data_product", {"name": "Churn Dashboard", "domain": customer["id"], "description": "x"}
    )
    ours = srv.named("data_product", "Customer 360")[0]
    term = srv.named("term", "Churn Risk")[0]
    srv.portal_relate("data_product", ours["id"], "TERM", term["id"])
    # and the files drop the whole Customer domain's products and CDEs
    remote_env.write(
        "domains/customer.yaml",
        "domain: Customer\ndescription: Everything we know about a customer.\nowners: [stewards@example.com]\n",
    )
    plan = sync_domains(remote_env.project(), apply=False, prune=False)
    assert not [c for c in _pending(plan) if c[0] == "delete"]
    pruned = sync_domains(remote_env.project(), apply=True, prune=True)
    deleted = {(k, n) for a, k, n in _pending(pruned) if a == "delete"}
    assert ("data_product", "Customer 360") in deleted and (
        "critical_data_element",
        "Customer Identifier",
    ) in deleted
    assert srv.named("data_product", "Churn Dashboard") == [theirs]
    assert not srv.named("data_product", "Customer 360")
    unmanaged = [c for c in pruned.payload["changes"] if c.get("managed") is False]
    assert any(c["name"] == "Churn Dashboard" for c in unmanaged)
    # the domain still holds the person's product (and our terms): kept
    assert srv.named("domain", "Customer")


def test_declared_name_taken_in_the_portal_is_left_alone(remote_env: UnifiedEnv) -> None:
    srv = remote_env.server
    assert srv is not None
    marketing = srv.portal_create("domain", {"name": "Marketing", "type": "Project", "description": "theirs"})
    namesake = srv.portal_create("term", {"name": "Churn Risk", "domain": marketing["id"], "status": "DRAFT"})
    sync(remote_env.project(), "glossary", apply=True)
    # a term of the same name in another domain is another term: ours is made, theirs untouched
    assert len(srv.named("term", "Churn Risk")) == 2 and namesake in srv.of("term")
    assert srv.named("domain", "Marketing") == [marketing]
    customer = srv.named("domain", "Customer")[0]
    made = srv.portal_create(
        "critical_data_element",
        {"name": "Customer Identifier", "domain": customer["id"], "description": "theirs"},
    )
    result = sync_domains(remote_env.project(), apply=True)
    change = next(
        c
        for c in result.payload["changes"]
        if c["name"] == "Customer Identifier" and c["kind"] == "critical_data_element"
    )
    assert change["action"] == "noop" and change["managed"] is False
    assert srv.named("critical_data_element", "Customer Identifier") == [made]


def test_drift_in_the_portal_is_planned_back_and_files_changes_update(remote_env: UnifiedEnv) -> None:
    srv = remote_env.server
    assert srv is not None
    sync(remote_env.project(), "glossary", apply=True)
    sync_domains(remote_env.project(), apply=True)
    product = srv.named("data_product", "Customer 360")[0]
    srv.portal_edit("data_product", product["id"], description="edited by hand", updateFrequency="Weekly")
    plan = sync_domains(remote_env.project(), apply=False)
    change = next(
        c for c in plan.payload["changes"] if c["name"] == "Customer 360" and c["kind"] == "data_product"
    )
    assert change["action"] == "update"
    assert (
        change["before"]["description"] == "edited by hand"
        and change["after"]["description"] == "One row per customer."
    )
    remote_env.edit(
        "domains/customer.yaml", "terms: [Customer Lifetime Value, Customer]", "terms: [Customer]"
    )
    sync_domains(remote_env.project(), apply=True)
    product = srv.named("data_product", "Customer 360")[0]
    assert product["description"] == "One row per customer." and product["updateFrequency"] == "Daily"
    assert product["systemData"]["createdAt"] <= product["systemData"]["lastModifiedAt"]
    assert [r["entityType"] for r in srv.relationships_of("data_product", product["id"])].count("TERM") == 1


def test_a_create_whose_response_is_lost_is_retried_without_a_duplicate(remote_env: UnifiedEnv) -> None:
    srv = remote_env.server
    assert srv is not None
    sync(remote_env.project(), "glossary", apply=True)
    srv.inject("POST", "/dataProducts", "drop", times=1)
    srv.inject("POST", "/relationships", "drop", times=1)
    sync_domains(remote_env.project(), apply=True)
    assert len(srv.named("data_product", "Customer 360")) == 1
    assert len(srv.named("data_product", "Daily Revenue")) == 1
    assert [s for m, p, s in srv.requests if m == "POST"].count(
        409
    ) == 2  # each retry met its own first attempt
    srv.reset_counts()
    assert sync_domains(remote_env.project(), apply=True).payload["requests"]["write"] == 0


def test_throttling_and_outages_are_retried_and_a_lasting_outage_is_exit_3(remote_env: UnifiedEnv) -> None:
    srv = remote_env.server
    assert srv is not None
    srv.inject("GET", "/businessdomains", "429", times=1, retry_after=1)
    srv.inject("POST", "/terms", "503", times=2)
    sync(remote_env.project(), "glossary", apply=True)
    assert len(srv.of("term")) == 5
    assert ("GET", "/datagovernance/catalog/businessdomains", 429) in srv.requests
    srv.inject("GET", "/dataProducts", "503", times=50)
    with pytest.raises(InfraError):
        sync_domains(remote_env.project(), apply=True)
    srv.faults.clear()
    proc = run_cli("--config", str(remote_env.config), "sync-domains", "--apply", check=0)
    assert "requests:" in proc.stderr
    srv.inject("GET", "/criticalDataElements", "503", times=50)
    proc = run_cli("--config", str(remote_env.config), "sync-domains", check=3)
    assert "Traceback" not in proc.stderr and "test-token" not in proc.stderr


def test_api_version_comes_from_config(remote_env: UnifiedEnv) -> None:
    remote_env.edit(
        "smartflow.yaml",
        "unified_catalog: {endpoint:",
        "unified_catalog: {api_version: 2026-03-20-preview, endpoint:",
    )
    proc = run_cli("--config", str(remote_env.config), "sync-domains", check=3)
    assert "api-version 2025-09-15-preview is required" in proc.stderr


def test_local_catalog_holds_domains_products_and_cdes(local_env: UnifiedEnv) -> None:
    cfg = str(local_env.config)
    proc = run_cli("--config", cfg, "--output", "json", "sync-domains", "--apply", check=0)
    out = json.loads(proc.stdout)
    assert out["backend"] == "local"
    created = {(c["kind"], c["name"]) for c in out["changes"] if c["action"] == "create"}
    assert {
        ("domain", "Customer"),
        ("domain", "Sales"),
        ("data_product", "Customer 360"),
        ("critical_data_element", "Customer Identifier"),
    } <= created
    assert ("relationship", "Customer Identifier -> column silver.customers.customer_id") in created
    run_cli("--config", cfg, "sync-domains", "--detailed-exitcode", check=0)
    local_env.edit("domains/customer.yaml", "  - name: Customer Identifier", "  - name: Customer Key")
    proc = run_cli("--config", cfg, "--output", "json", "sync-domains", "--apply", "--prune", check=0)
    pending = {
        (c["action"], c["kind"], c["name"])
        for c in json.loads(proc.stdout)["changes"]
        if c["action"] != "noop"
    }
    assert ("delete", "critical_data_element", "Customer Identifier") in pending
    assert ("create", "critical_data_element", "Customer Key") in pending
    again = json.loads(
        run_cli("--config", cfg, "--output", "json", "sync-domains", "--apply", check=0).stdout
    )
    assert again["requests"]["write"] == 0


def test_bad_domain_files_are_file_line_errors_and_change_nothing(local_env: UnifiedEnv) -> None:
    local_env.edit("domains/sales.yaml", "parent: Customer", "parent: Custmer")
    local_env.edit("domains/customer.yaml", "    terms: [Customer]", "    terms: [Customr]")
    local_env.edit("domains/customer.yaml", "update_frequency: Daily", "update_frequency: Sometimes")
    local_env.edit("glossary/terms.yaml", "    domain: Sales", "    domain: Sails")
    proc = run_cli("--config", str(local_env.config), "sync-domains", "--apply", check=2)
    lines = proc.stderr.splitlines()
    assert any(ln.startswith("domains/customer.yaml:10:") and "update_frequency" in ln for ln in lines), (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
    local_env.edit("domains/customer.yaml", "update_frequency: Sometimes", "update_frequency: Daily")
    proc = run_cli("--config", str(local_env.config), "validate", check=2)
    assert any(
        ln.startswith("domains/sales.yaml:4:") and "Custmer" in ln for ln in proc.stderr.splitlines()
    ), proc.stderr
    assert any(
        ln.startswith("domains/customer.yaml:19:") and "Customr" in ln for ln in proc.stderr.splitlines()
    ), proc.stderr
    assert any(ln.startswith("glossary/terms.yaml:") and "Sails" in ln for ln in proc.stderr.splitlines()), (
        proc.stderr
    )
    assert not (local_env.root / ".smartflow" / "catalog.db").exists()


def test_glossary_both_writes_the_data_map_glossary_and_the_unified_catalog(remote_env: UnifiedEnv) -> None:
    from servers.purview_server import PurviewServer

    uc = remote_env.server
    assert uc is not None
    with PurviewServer() as datamap:
        remote_env.edit(
            "smartflow.yaml",
            f'    endpoint: "{uc.endpoint}"\n    glossary: unified',
            f'    endpoint: "{datamap.endpoint}"\n    storage_account: acmelake\n    container: lake\n    glossary: both',
        )
        proc = run_cli(
            "--config", str(remote_env.config), "--output", "json", "sync-glossary", "--apply", check=0
        )
        out = json.loads(proc.stdout)
        assert out["backend"] == "purview+unified"
        assert_sync_shape(out, SYNC_KEYS)  # the Unified Catalog's changes merged after the Data Map's
        kinds = {(c["kind"], c["name"]) for c in out["changes"] if c["action"] == "create"}
        assert ("term", "Business Date") in kinds  # the Data Map glossary takes terms without a domain
        assert {t["name"] for t in datamap.state.terms.values()} >= {
            "Customer Lifetime Value",
            "Business Date",
        }
        assert {t["name"] for t in uc.of("term")} == {
            "Customer Metrics",
            "Customer Lifetime Value",
            "Customer",
            "Churn Risk",
            "Daily Revenue",
        }
        assert datamap.contract_errors == []
        again = json.loads(
            run_cli(
                "--config", str(remote_env.config), "--output", "json", "sync-glossary", "--apply", check=0
            ).stdout
        )
        assert again["requests"]["write"] == 0 and again["summary"]["create"] == 0


def test_endpoint_from_the_environment_and_pruning_terms_children_first(
    remote_env: UnifiedEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = remote_env.server
    assert srv is not None
    remote_env.edit(
        "smartflow.yaml",
        f'unified_catalog: {{endpoint: "{srv.endpoint}"}}',
        'unified_catalog: {endpoint: "${ACME_UC}"}',
    )
    proc = run_cli("--config", str(remote_env.config), "sync-glossary", "--apply", check=2)
    assert "ACME_UC" in proc.stderr and not srv.of("term")
    monkeypatch.setenv("ACME_UC", srv.endpoint)
    sync(remote_env.project(), "glossary", apply=True)
    # the parent term and its child leave the files: the child goes first (the service refuses otherwise)
    remote_env.write(
        "glossary/terms.yaml",
        "glossary: SmartFlow\ndomain: Customer\nterms:\n  - name: Customer\n    definition: A registered person.\n",
    )
    remote_env.write(
        "domains/customer.yaml", "domain: Customer\ndescription: Everything we know about a customer.\n"
    )
    (remote_env.root / "domains" / "sales.yaml").unlink()
    kept = sync(remote_env.project(), "glossary", apply=True)
    assert not [c for c in kept.payload["changes"] if c["action"] == "delete"]
    assert len(srv.of("term")) == 5
    pruned = sync(remote_env.project(), "glossary", apply=True, prune=True)
    deletes = [c["name"] for c in pruned.payload["changes"] if c["action"] == "delete"]
    assert deletes.index("Customer Lifetime Value") < deletes.index("Customer Metrics")
    assert {t["name"] for t in srv.of("term")} == {"Customer"}
    # sync-glossary never deletes domains: the Sales domain that left the files is sync-domains' to prune
    assert {d["name"] for d in srv.of("domain")} == {"Customer", "Sales"}
    assert ("delete", "domain", "Sales") in _pending(
        sync_domains(remote_env.project(), apply=True, prune=True)
    )
    assert {d["name"] for d in srv.of("domain")} == {"Customer"}


def test_team_catalog_on_postgresql_holds_the_same_objects(local_env: UnifiedEnv) -> None:
    import uuid

    import sqlalchemy as sa
    from helpers import PG_URL

    schema = f"unified_{uuid.uuid4().hex[:8]}"
    local_env.edit(
        "smartflow.yaml",
        "  backend: local\n",
        f'  backend: local\n  local: {{url: "{PG_URL}", schema: {schema}}}\n',
    )
    first = sync_domains(local_env.project(), apply=True)
    assert first.payload["summary"]["create"] > 0
    assert sync_domains(local_env.project(), apply=True).payload["requests"]["write"] == 0
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            objects = sa.Table("sfg_unified_objects", sa.MetaData(schema=schema), autoload_with=conn)
            rows = conn.execute(sa.select(objects.c.kind, objects.c.name, objects.c.managed)).all()
            assert ("data_product", "Customer 360", True) in {tuple(r) for r in rows}
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
    finally:
        engine.dispose()


def _relationship_reads(srv: object) -> int:
    return sum(1 for m, p, _ in srv.requests if m == "GET" and p.endswith("/relationships"))  # type: ignore[attr-defined]


def test_a_noop_apply_reuses_recorded_relationships_and_a_plan_still_finds_portal_drift(
    remote_env: UnifiedEnv,
) -> None:
    srv = remote_env.server
    assert srv is not None
    sync(remote_env.project(), "glossary", apply=True)
    sync_domains(remote_env.project(), apply=True)
    srv.reset_counts()
    again = sync_domains(remote_env.project(), apply=True)
    assert _pending(again) == [] and srv.writes == 0
    assert _relationship_reads(srv) == 0  # every product and CDE unchanged since the record was made

    # a person removes a managed relationship in the portal: the object's own stamp does not move, so
    # an apply that trusts the record cannot see it — the plan (which lists everything) does
    product = srv.named("data_product", "Customer 360")[0]
    customer = srv.named("term", "Customer")[0]
    srv.portal_unrelate("data_product", product["id"], customer["id"])
    srv.reset_counts()
    plan = sync_domains(remote_env.project(), apply=False)
    assert ("create", "relationship", "Customer 360 -> term Customer") in _pending(plan)
    assert _relationship_reads(srv) == 6  # two products and one CDE, two entity types each
    # the plan refreshed the record: the next apply puts the relationship back, without listing again
    srv.reset_counts()
    fixed = sync_domains(remote_env.project(), apply=True)
    assert _pending(fixed) == [("create", "relationship", "Customer 360 -> term Customer")]
    assert _relationship_reads(srv) == 0 and srv.writes == 1
    assert customer["id"] in {r["entityId"] for r in srv.relationships_of("data_product", product["id"])}

    # an object edited in the portal moves its stamp: its relationships are listed again, and only its
    srv.portal_edit("data_product", product["id"], description="edited by hand")
    srv.reset_counts()
    sync_domains(remote_env.project(), apply=True)
    listed = {p for m, p, _ in srv.requests if m == "GET" and p.endswith("/relationships")}
    assert listed == {f"/datagovernance/catalog/dataProducts/{product['id']}/relationships"}

    # --refresh lists everything again, and a lost record only costs reads
    srv.reset_counts()
    run_cli("--config", str(remote_env.config), "sync-domains", "--apply", "--refresh", check=0)
    assert _relationship_reads(srv) == 6 and srv.writes == 0
    for f in (remote_env.root / ".smartflow" / "unified-catalog").glob("*.json"):
        f.write_text("{not json", encoding="utf-8")
    srv.reset_counts()
    assert _pending(sync_domains(remote_env.project(), apply=True)) == [] and srv.writes == 0


def test_related_terms_and_synonyms_round_trip_as_term_relationships(remote_env: UnifiedEnv) -> None:
    srv = remote_env.server
    assert srv is not None
    remote_env.edit(
        "glossary/terms.yaml",
        "    definition: A registered person.\n",
        "    definition: A registered person.\n    synonyms: [Client, Shopper]\n"
        "    related: [Churn Risk, Daily Revenue, Business Date]\n",
    )
    first = sync(remote_env.project(), "glossary", apply=True)
    ids = {t["name"]: t["id"] for t in srv.of("term")}

    def related(name: str) -> set[tuple[str, str, str]]:
        by_id = {v: k for k, v in ids.items()}
        return {
            (r["relationshipType"], by_id[r["entityId"]], r["entityType"])
            for r in srv.relationships_of("term", ids[name])
        }

    # both ends list each other (as in the classic glossary), across domains too
    assert related("Customer") == {("Related", "Churn Risk", "TERM"), ("Related", "Daily Revenue", "TERM")}
    assert related("Churn Risk") == {("Related", "Customer", "TERM")}
    assert related("Daily Revenue") == {("Related", "Customer", "TERM")}
    # free-text synonyms have no field of their own: the description's last paragraph
    customer = srv.named("term", "Customer")[0]
    assert customer["description"] == "A registered person.\n\nSynonyms: Client, Shopper."
    assert any("Business Date" in w and "no domain" in w for w in first.payload["warnings"])
    created = {c["name"] for c in first.payload["changes"] if c["kind"] == "relationship"}
    assert "Customer -> related Churn Risk" in created

    # a second apply writes nothing and lists no relationships; a plan lists them and finds nothing
    srv.reset_counts()
    again = sync(remote_env.project(), "glossary", apply=True)
    assert _pending(again) == [] and srv.writes == 0 and _relationship_reads(srv) == 0
    plan = sync(remote_env.project(), "glossary", apply=False)
    assert _pending(plan) == [] and _relationship_reads(srv) == 3

    # a synonym a person adds in the portal is left alone; one we wrote and they removed comes back
    srv.portal_relate("term", ids["Customer"], "TERM", ids["Customer Metrics"], "Synonym")
    srv.portal_unrelate("term", ids["Churn Risk"], ids["Customer"])
    plan = sync(remote_env.project(), "glossary", apply=False)
    assert _pending(plan) == [("create", "relationship", "Churn Risk -> related Customer")]
    theirs = next(c for c in plan.payload["changes"] if c["name"] == "Customer -> synonym Customer Metrics")
    assert theirs["action"] == "noop" and theirs["managed"] is False
    sync(remote_env.project(), "glossary", apply=True, prune=True)
    assert ("Synonym", "Customer Metrics", "TERM") in related("Customer")
    assert related("Churn Risk") == {("Related", "Customer", "TERM")}

    # a related term that leaves the files: both ends go, on an apply that trusts the record
    remote_env.edit(
        "glossary/terms.yaml",
        "related: [Churn Risk, Daily Revenue, Business Date]",
        "related: [Churn Risk]",
    )
    srv.reset_counts()
    dropped = sync(remote_env.project(), "glossary", apply=True)
    assert sorted(_pending(dropped)) == [
        ("delete", "relationship", "Customer -> related Daily Revenue"),
        ("delete", "relationship", "Daily Revenue -> related Customer"),
    ]
    assert related("Daily Revenue") == set() and _relationship_reads(srv) == 0
    srv.reset_counts()
    assert _pending(sync(remote_env.project(), "glossary", apply=False)) == []


def test_catalog_drift_covers_unified_catalog_objects(remote_env: UnifiedEnv) -> None:
    from servers.purview_server import PurviewServer

    uc = remote_env.server
    assert uc is not None
    with PurviewServer() as datamap:
        remote_env.edit(
            "smartflow.yaml",
            f'    endpoint: "{uc.endpoint}"',
            f'    endpoint: "{datamap.endpoint}"\n    storage_account: acmelake\n    container: lake',
        )
        cfg = str(remote_env.config)
        remote_env.edit(
            "glossary/terms.yaml",
            "    definition: A registered person.\n",
            "    definition: A registered person.\n    related: [Churn Risk]\n",
        )
        # before any apply: every declared Unified Catalog object is missing
        out = json.loads(run_cli("--config", cfg, "--output", "json", "catalog", "drift", check=0).stdout)
        missing = {(c["kind"], c["name"]) for c in out["changes"] if c["drift"] == "missing"}
        assert {("domain", "Customer"), ("term", "Customer"), ("data_product", "Customer 360")} <= missing
        assert out["backend"] == "purview+purview-unified"
        run_cli("--config", cfg, "sync-glossary", "--apply", check=0)
        run_cli("--config", cfg, "sync-domains", "--apply", check=0)
        run_cli("--config", cfg, "sync-classifications", "--apply", check=0)
        proc = run_cli(
            "--config", cfg, "--output", "json", "catalog", "drift", "--detailed-exitcode", check=0
        )
        assert json.loads(proc.stdout)["drift"] == 0

        # edits in the portal: each kind of drift, relationships included
        product = uc.named("data_product", "Customer 360")[0]
        customer = uc.named("term", "Customer")[0]
        churn = uc.named("term", "Churn Risk")[0]
        uc.portal_edit("data_product", product["id"], description="edited by hand")
        uc.portal_edit("term", churn["id"], status="PUBLISHED")
        uc.portal_unrelate("data_product", product["id"], customer["id"])
        uc.portal_unrelate("term", churn["id"], customer["id"])
        uc.portal_create("data_product", {"name": "Churn Dashboard", "domain": product["domain"]})
        remote_env.edit("domains/sales.yaml", "  - name: Daily Revenue\n", "  - name: Revenue per Day\n")
        uc.reset_counts()
        proc = run_cli(
            "--config", cfg, "--output", "json", "catalog", "drift", "--detailed-exitcode", check=1
        )
        drift = {(c["drift"], c["kind"], c["name"]) for c in json.loads(proc.stdout)["changes"]}
        assert drift >= {
            ("changed", "data_product", "Customer 360"),
            ("changed", "term", "Churn Risk"),
            ("missing", "relationship", "Customer 360 -> term Customer"),
            ("missing", "relationship", "Churn Risk -> related Customer"),
            ("unmanaged", "data_product", "Churn Dashboard"),
            ("orphaned", "data_product", "Daily Revenue"),
            ("missing", "data_product", "Revenue per Day"),
        }, drift
        assert uc.writes == 0  # drift only reads
        assert datamap.contract_errors == []


def test_validate_counts_and_lists_domains_and_reports_domain_files_at_file_line(
    local_env: UnifiedEnv,
) -> None:
    cfg = str(local_env.config)
    out = json.loads(run_cli("--config", cfg, "--output", "json", "validate", "--no-data", check=0).stdout)
    assert out["domains"] == ["Customer", "Sales"]
    assert out["counts"]["domains"] == 2 and out["counts"]["data_products"] == 2
    assert out["counts"]["critical_data_elements"] == 1
    assert {"domains/customer.yaml", "domains/sales.yaml"} <= set(out["files"])
    text = run_cli("--config", cfg, "validate", "--no-data", check=0).stdout
    assert "2 domains" in text and "domains: Customer, Sales" in text

    local_env.write(
        "domains/broken.yaml",
        "domain: Broken\ntype: Department\ndescription: x\ndata_products:\n  - name: P\n"
        "    description: d\n    colour: red\ncritical_data_elements:\n  - name: C\n"
        "    data_type: MONEY\n    description: d\n",
    )
    local_env.write("domains/again.yaml", "domain: Customer\ndescription: again\n")
    local_env.write("domains/a.yaml", "domain: A\ndescription: a\nparent: B\n")
    local_env.write("domains/b.yaml", "domain: B\ndescription: b\nparent: A\n")
    local_env.write("domains/syntax.yaml", "domain: S\ndescription: [unclosed\n")
    local_env.write(
        "domains/refs.yaml",
        "domain: Refs\ndescription: r\ndata_products:\n  - name: Customer 360\n    description: dup\n"
        "    datasets: [gold.nope]\ncritical_data_elements:\n  - name: K\n    data_type: TEXT\n"
        "    description: k\n    columns: [silver.customers.nope, customer_id]\n",
    )
    proc = run_cli("--config", cfg, "validate", "--no-data", check=2)
    lines = proc.stderr.splitlines()
    expected = [
        ("domains/broken.yaml:2:", "Department"),
        ("domains/broken.yaml:7:", "colour"),
        ("domains/broken.yaml:10:", "MONEY"),
        ("domains/customer.yaml:1:", "duplicate domain 'Customer' (first declared at domains/again.yaml:1)"),
        ("domains/a.yaml:3:", "cycle"),
        ("domains/b.yaml:3:", "cycle"),
        ("domains/syntax.yaml:3:", "YAML syntax error"),
        ("domains/refs.yaml:6:", "gold.nope"),
        ("domains/refs.yaml:11:", "no column 'nope'"),
        ("domains/refs.yaml:11:", "expected dataset.column"),
        (
            "domains/refs.yaml:4:",
            "duplicate data product 'Customer 360' (first declared at domains/customer.yaml:6)",
        ),
    ]
    for prefix, words in expected:
        assert any(ln.startswith(prefix) and words in ln for ln in lines), (prefix, words, proc.stderr)
    assert "Traceback" not in proc.stderr


def test_an_outage_in_the_middle_of_an_apply_leaves_a_record_the_next_apply_converges_from(
    remote_env: UnifiedEnv,
) -> None:
    srv = remote_env.server
    assert srv is not None
    sync(remote_env.project(), "glossary", apply=True)
    # the objects are made, then the relationship writes fail for good
    srv.inject("POST", "/relationships", "503", times=100)
    with pytest.raises(InfraError):
        sync_domains(remote_env.project(), apply=True)
    assert srv.named("data_product", "Customer 360") and not any(srv.state.relationships.values())
    srv.faults.clear()
    resumed = sync_domains(remote_env.project(), apply=True)
    assert {k for _, k, _ in _pending(resumed)} == {"relationship"}
    srv.reset_counts()
    assert _pending(sync_domains(remote_env.project(), apply=True)) == [] and srv.writes == 0
    assert _pending(sync_domains(remote_env.project(), apply=False)) == []
