"""Catalog sync scenarios, the same list against SQLite, PostgreSQL and the local Purview Data Map server."""

from __future__ import annotations

from pathlib import Path

from catalog_env import (
    SYNC_KEYS,
    CatalogEnv,
    apply_all,
    assert_state_equals_files,
    assert_sync_shape,
    pending,
    qn,
    write_project,
)
from helpers import run_cli

from governance.catalog.service import drift, show, sync
from governance.metrics import query


def test_empty_catalog_apply_then_reapply_writes_nothing(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    plan = sync(env.project(), "glossary", apply=False).payload
    assert plan["summary"]["create"] > 0 and plan["requests"]["write"] == 0
    assert env.snapshot()["term_names"] == []  # --plan changed nothing

    first = apply_all(env)
    assert first["glossary"]["requests"]["write"] > 0
    assert_state_equals_files(env)

    again = apply_all(env)
    for kind, payload in again.items():
        assert payload["requests"]["write"] == 0, kind
        assert (
            payload["summary"]["create"] == payload["summary"]["update"] == payload["summary"]["delete"] == 0
        )
    coverage = query(env.project().state_dir, "glossary_coverage_percent")
    assert coverage and 0 < coverage[-1].value < 100
    assert drift(env.project()).payload["changes"] == []


def test_edited_files_give_a_minimal_plan(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    apply_all(env)
    env.edit("glossary/smartflow.yaml", "Likelihood that a customer", "Probability that a customer")
    env.edit(
        "classifications/smartflow.yaml", "columns: {email: [PII], name: [PII],", "columns: {email: [PII],"
    )
    env.edit(
        "classifications/smartflow.yaml",
        "table: [Public]",
        "table: [Public]\n    columns: {revenue: [Confidential]}",
    )
    g = sync(env.project(), "glossary", apply=False).payload
    c = sync(env.project(), "classifications", apply=False).payload
    assert pending(g) == [("update", "term", "Churn Risk")]
    change = next(x for x in g["changes"] if x["name"] == "Churn Risk")
    assert change["before"]["definition"].startswith("Likelihood") and change["after"][
        "definition"
    ].startswith("Probability")
    assert pending(c) == [
        ("create", "classification", "gold.daily_revenue.revenue: Confidential"),
        ("delete", "classification", "silver.customers.name: PII"),
    ]
    apply_all(env)
    snap = env.snapshot()
    assert snap["terms"]["Churn Risk"][0].startswith("Probability")
    assert (qn(env, "silver.customers.name"), "PII") not in snap["classifications"]
    assert (qn(env, "gold.daily_revenue.revenue"), "Confidential") in snap["classifications"]
    assert all(p["requests"]["write"] == 0 for p in apply_all(env).values())


def test_prune_deletes_only_managed_objects(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    apply_all(env)
    env.hand_add_term("Net Promoter Score", "Made in the catalog UI.")
    env.hand_set_classifications("silver.transactions.payment_method", add=["Confidential"])
    env.edit(
        "glossary/smartflow.yaml", "  - name: Churn Risk\n", "  - name: Churn Risk Old\n"
    )  # renamed: old one leaves
    env.edit("classifications/smartflow.yaml", "  - name: SMARTFLOW.PHONE\n", "  - name: SMARTFLOW.MOBILE\n")

    plan = sync(env.project(), "glossary", apply=False).payload
    assert ("delete", "term", "Churn Risk") not in pending(plan)  # no --prune, no delete
    notes = {c["name"]: c.get("note", "") for c in plan["changes"]}
    assert "unmanaged" in notes["Net Promoter Score"] and "--prune" in notes["Churn Risk"]

    g = sync(env.project(), "glossary", apply=True, prune=True).payload
    c = sync(env.project(), "classifications", apply=True, prune=True).payload
    assert ("delete", "term", "Churn Risk") in pending(g)
    assert ("delete", "rule", "SMARTFLOW-PHONE") in pending(c) and (
        "create",
        "rule",
        "SMARTFLOW-MOBILE",
    ) in pending(c)
    snap = env.snapshot()
    assert "Churn Risk" not in snap["terms"] and "Churn Risk Old" in snap["terms"]
    assert "Net Promoter Score" in snap["terms"]  # UI-made: never touched
    assert (qn(env, "silver.transactions.payment_method"), "Confidential") in snap["classifications"]
    assert snap["rules"] == {"SMARTFLOW-EMAIL", "SMARTFLOW-MOBILE"}
    unmanaged = [x for x in c["changes"] if x.get("managed") is False]
    assert [x["name"] for x in unmanaged] == ["silver.transactions.payment_method: Confidential"]


def test_removed_term_still_assigned_is_expired_unless_forced(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    apply_all(env)
    text = (env.root / "glossary/smartflow.yaml").read_text()
    start = text.index("  - name: Payment Method")
    end = text.index("  - name: Churn Risk")
    env.write("glossary/smartflow.yaml", text[:start] + text[end:])
    result = sync(env.project(), "glossary", apply=True, prune=True).payload
    item = next(c for c in result["changes"] if c["name"] == "Payment Method" and c["kind"] == "term")
    assert item["action"] == "update" and item["after"]["status"] == "Expired"
    snap = env.snapshot()
    assert snap["terms"]["Payment Method"][1] == "Expired"
    assert ("Payment Method", qn(env, "silver.transactions.payment_method")) in snap["assignments"]
    # idempotent: expired stays expired, no writes
    assert sync(env.project(), "glossary", apply=True, prune=True).payload["requests"]["write"] == 0

    forced = sync(env.project(), "glossary", apply=True, prune=True, force=True).payload
    assert ("delete", "term", "Payment Method") in pending(forced)
    snap = env.snapshot()
    assert "Payment Method" not in snap["terms"]
    assert all(t != "Payment Method" for t, _ in snap["assignments"])


def test_ui_assignment_keeps_a_removed_term_and_is_left_alone(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    apply_all(env)
    env.hand_assign("Churn Risk", "gold.customer360_view.lifetime_value")
    plan = sync(env.project(), "glossary", apply=False).payload
    item = next(
        c for c in plan["changes"] if c["name"] == "Churn Risk -> gold.customer360_view.lifetime_value"
    )
    assert item["action"] == "noop" and item.get("managed") is False
    text = (env.root / "glossary/smartflow.yaml").read_text()
    env.write("glossary/smartflow.yaml", text[: text.index("  - name: Churn Risk")])
    sync(env.project(), "glossary", apply=True, prune=True)
    assert env.snapshot()["terms"]["Churn Risk"][1] == "Expired"


def test_drift_reports_hand_edits(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    apply_all(env)
    env.hand_edit_definition("Daily Revenue", "Edited by hand in the UI.")
    env.hand_set_classifications("silver.customers.email", drop=["PII"])
    env.hand_add_term("Net Promoter Score", "Made in the catalog UI.")
    result = drift(env.project())
    kinds = {(c["drift"], c["kind"], c["name"]) for c in result.payload["changes"]}
    assert ("changed", "term", "Daily Revenue") in kinds
    assert ("missing", "classification", "silver.customers.email: PII") in kinds
    assert ("unmanaged", "term", "Net Promoter Score") in kinds
    assert result.payload["requests"]["write"] == 0
    apply_all(env)  # the files win again; the UI-made term stays
    left = {(c["drift"], c["name"]) for c in drift(env.project()).payload["changes"]}
    assert left == {("unmanaged", "Net Promoter Score")}
    assert_sync_shape(result.payload, [*SYNC_KEYS[:5], "drift"], drift_items=True)


def test_the_sync_json_keeps_its_keys_and_is_the_typed_model(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    for kind in ("glossary", "classifications"):
        plan = sync(env.project(), kind, apply=False).payload
        assert plan["summary"]["create"] > 0 and plan["applied"] is False
        assert_sync_shape(plan, SYNC_KEYS)
    for payload in apply_all(env).values():
        assert payload["applied"] is True
        assert_sync_shape(payload, SYNC_KEYS)
    env.hand_add_term("Net Promoter Score", "Made in the catalog UI.")
    again = sync(env.project(), "glossary", apply=False).payload
    assert_sync_shape(again, SYNC_KEYS)
    (made,) = [c for c in again["changes"] if c["name"] == "Net Promoter Score"]
    assert made["action"] == "noop" and made["managed"] is False and made["note"]


def test_show_dataset_and_term(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    apply_all(env)
    ds = show(env.project(), "silver.customers").payload
    cols = {c["name"]: c["classifications"] for c in ds["columns"]}
    assert ds["classifications"] == ["Confidential"] and cols["email"] == ["PII"]
    term = show(env.project(), "Customer Lifetime Value").payload
    assert term["parent"] == "Customer Metrics" and term["assigned_to"] == [
        "gold.customer360_view.lifetime_value"
    ]
    assert term["related"] == ["Daily Revenue"]
    assert show(env.project(), "Daily Revenue").payload["related"] == ["Customer Lifetime Value"]  # both ends


def test_label_in_use_by_hand_is_kept_on_prune_and_removed_with_force(catalog_env: CatalogEnv) -> None:
    env = catalog_env
    apply_all(env)
    env.hand_set_classifications("silver.transactions.payment_method", add=["Public"])
    env.edit("classifications/smartflow.yaml", "  - {name: Public}\n", "")
    env.edit("classifications/smartflow.yaml", "    table: [Public]\n", "    table: [Confidential]\n")
    pruned = sync(env.project(), "classifications", apply=True, prune=True).payload
    kept = next(c for c in pruned["changes"] if c["kind"] == "classification_type" and c["name"] == "Public")
    assert kept["action"] == "noop" and "--force" in kept["note"]
    snap = env.snapshot()
    assert (qn(env, "gold.daily_revenue"), "Public") not in snap["classifications"]  # ours: removed
    assert (qn(env, "silver.transactions.payment_method"), "Public") in snap[
        "classifications"
    ]  # theirs: kept

    forced = sync(env.project(), "classifications", apply=True, prune=True, force=True).payload
    assert ("delete", "classification_type", "Public") in pending(forced)
    snap = env.snapshot()
    assert all(label != "Public" for _, label in snap["classifications"])
    after = sync(env.project(), "classifications", apply=False).payload
    assert pending(after) == []


def test_bad_glossary_is_bad_input_and_changes_nothing(tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "p", {"backend": "local"})
    glossary = cfg.parent / "glossary" / "smartflow.yaml"
    glossary.write_text(glossary.read_text().replace("related: [Daily Revenue]", "related: [Daily Revenu]"))
    proc = run_cli("--config", str(cfg), "sync-glossary", "--apply")
    assert proc.returncode == 2
    assert "glossary/smartflow.yaml:" in proc.stderr and "Daily Revenu" in proc.stderr
    assert not (cfg.parent / ".smartflow" / "catalog.db").exists()
