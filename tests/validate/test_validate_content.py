"""SmartFlow's declarative content says what the design says: glossary, classifications, suites, alerts,
policies — and, on the demo lake, the suites fail exactly where defects were injected."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from helpers import REPO, copy_project, run_cli

from governance.monitor.alerts.validate import METRICS
from governance.pii.validators import VALIDATORS
from governance.project import Project, load_project

REGIONS = ["north", "south", "east", "west", "central"]
PAYMENT_METHODS = ["credit_card", "debit_card", "paypal", "bank_transfer", "apple_pay", "google_pay", "cash"]


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(REPO / "smartflow.yaml")


def layer(p: Project, *layers: str) -> list[str]:
    return [name for name, ds in p.config.datasets.items() if ds.layer in layers]


def test_glossary_has_the_design_terms_with_hierarchy_and_owners(project: Project) -> None:
    terms = {t.name: t for t in project.terms}
    assert len(terms) >= 25
    required = {
        "Customer Lifetime Value", "Daily Revenue", "Anomaly", "Business Date", "Region", "Customer",
        "Transaction", "Payment Method", "Device", "Telemetry Reading", "Z-Score", "Customer 360",
        "Churn Risk", "Recency", "Frequency", "Monetary Value", "Average Transaction Value", "Signup Date",
        "Data Freshness", "Ingest Date", "PII",
    }  # fmt: skip
    assert required <= set(terms), required - set(terms)
    parents = {t.parent for t in terms.values() if t.parent}
    assert {
        "Customer Metrics",
        "Revenue Metrics",
        "Data Quality",
        "Time",
        "Geography",
        "Device Telemetry",
    } <= parents
    for t in terms.values():
        assert len(t.definition) > 20, t.name
        assert t.stewards and all(e.endswith("@smartflow.example") for e in t.stewards + t.experts), t.name
    assert sum(bool(t.synonyms) for t in terms.values()) >= 25
    assert sum(bool(t.related) for t in terms.values()) >= 25


def test_glossary_covers_the_gold_columns(project: Project) -> None:
    assigned = {target for t in project.terms for target in t.assigned_to}
    gold = [(ds, col) for ds in layer(project, "gold") for col in project.config.datasets[ds].columns]
    covered = [(ds, col) for ds, col in gold if f"{ds}.{col}" in assigned]
    assert len(covered) / len(gold) >= 0.9, sorted(set(gold) - set(covered))


def test_classifications_label_every_dataset_and_leave_ticket_text_to_the_scan(project: Project) -> None:
    assert {"PII", "Confidential", "Public"} <= {lb.name for lb in project.labels}
    rules = {r.name: r for r in project.rules}
    assert {r.validator for r in rules.values()} == set(VALIDATORS)
    for r in rules.values():
        assert r.column_pattern and r.data_pattern and r.minimum_match_percent > 0, r.name
    assert rules["SMARTFLOW.EMAIL"].free_text and rules["SMARTFLOW.PHONE"].free_text
    assert {a.dataset for a in project.assignments} == set(project.config.datasets)
    labels = project.column_labels()
    assert "PII" in labels[("silver.customers", "email")] and "PII" in labels[("silver.customers", "name")]
    assert (
        "PII" in labels[("gold.customer360_view", "email")]
        and "PII" in labels[("gold.customer360_view", "name")]
    )
    assert labels[("ml_features.gold_customer_features", "email_hash")] == {"Confidential"}
    assert ("bronze.support_tickets", "body") not in labels


def test_a_suite_for_every_silver_and_gold_dataset(project: Project) -> None:
    assert {s.dataset for s in project.suites} == set(layer(project, "silver", "gold"))
    for s in project.suites:
        types = {e.type for e in s.expectations}
        assert len(s.expectations) >= 8, s.suite
        assert "warn" in {e.severity for e in s.expectations} or s.suite == "gold_anomaly_alerts_view"
        assert types & {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}, s.suite
    (txn,) = project.suites_for("silver.transactions")
    assert len(txn.expectations) >= 12
    by = {(e.type, e.kwargs.get("column")): e for e in txn.expectations}
    assert "mostly" not in by[("expect_column_values_to_be_unique", "transaction_id")].kwargs
    amount = by[("expect_column_values_to_be_between", "amount")].kwargs
    assert (amount["min_value"], amount["max_value"]) == (0, 100000)
    assert by[("expect_column_values_to_be_in_set", "payment_method")].kwargs["value_set"] == PAYMENT_METHODS
    assert by[("expect_column_values_to_match_regex", "transaction_id")].kwargs["regex"] == "^T[0-9]{12}$"
    assert ("expect_column_values_to_not_be_null", "customer_id") in by
    assert by[("expect_column_values_to_exist_in", "customer_id")].kwargs["dataset"] == "silver.customers"


def test_alerts_watch_pipelines_freshness_quality_and_pii(project: Project) -> None:
    groups = {g.name: g for g in project.action_groups}
    assert groups["data-platform-oncall"].webhook == ["${SMARTFLOW_TEAMS_WEBHOOK}"]
    rules = project.alert_rules
    assert all(r.metric in METRICS for r in rules if r.metric)
    quality = {r.dimensions.get("dataset") for r in rules if r.metric == "quality_success_percent"}
    assert quality == set(layer(project, "silver", "gold"))
    assert any(
        r.kind == "log"
        and r.query
        and re.search(r"ADFPipelineRun\s*\|\s*where Status == \"Failed\"", r.query)
        for r in rules
    )
    assert {"freshness_lag_minutes", "missing_partitions", "pii_undeclared_columns"} <= {
        r.metric for r in rules
    }
    assert all(r.local is not None for r in rules if r.kind == "metric")


def test_policies_cover_every_label(project: Project) -> None:
    assert {p.label for p in project.policies} == {lb.name for lb in project.labels}
    assert all(f.connection == "warehouse" for f in project.policy_files)
    pii = next(p for p in project.policies if p.label == "PII")
    assert set(pii.allowed_roles) == {"data_steward", "customer_service_lead"}


@pytest.mark.slow
def test_suites_fail_exactly_on_the_injected_defects(demo_project: Path, tmp_path: Path) -> None:
    """On the demo lake, error-severity failures are the injected defects (and their echo in gold)."""
    work = tmp_path / "demo"
    copy_project(work)
    shutil.copytree(demo_project / "lake", work / "lake")
    proc = run_cli("--config", str(work / "smartflow.yaml"), "--output", "json", "quality", "run")
    assert proc.returncode == 1, proc.stderr
    failed = {
        (s["suite_name"], r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column"))
        for s in json.loads(proc.stdout)["suites"]
        for r in s["results"]
        if not r["success"] and r["expectation_config"]["severity"] == "error"
    }
    injected = {
        ("silver_transactions", "expect_column_values_to_be_unique", "transaction_id"),  # duplicates
        ("silver_transactions", "expect_column_values_to_not_be_null", "customer_id"),  # null customer ids
        ("silver_transactions", "expect_column_values_to_exist_in", "customer_id"),  # orphans
        ("silver_transactions", "expect_column_values_to_be_between", "amount"),  # negative / extreme
        ("silver_transactions", "expect_column_values_to_be_in_set", "payment_method"),  # unknown methods
        ("silver_customers", "expect_column_values_to_match_regex", "email"),  # malformed e-mails
    }
    echoed_in_gold = {
        ("gold_customer360_view", "expect_column_values_to_match_regex", "email"),
        ("gold_customer360_view", "expect_column_values_to_be_between", "avg_transaction_value"),
        ("gold_daily_revenue", "expect_column_values_to_be_in_set", "payment_method"),
    }
    assert injected <= failed, injected - failed
    assert failed <= injected | echoed_in_gold, failed - injected - echoed_in_gold
