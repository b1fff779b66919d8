"""The SmartFlow manifests produce the expected graph; every gold column's lineage is hand-checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, run_cli

from governance.lineage.service import build, checked_graph
from governance.project import load_project

WIDE = {"FILTER", "JOIN", "GROUP_BY"}

EXPECTED_DATASET_EDGES = {
    ("bronze.crm_customers", "silver.customers", "silver_customers"),
    ("bronze.sqlserver_transactions", "silver.transactions", "silver_transactions"),
    ("silver.customers", "silver.transactions", "silver_transactions"),
    ("bronze.iot_telemetry", "silver.device_telemetry", "silver_device_telemetry"),
    ("bronze.mobile_events", "silver.customer_events", "silver_customer_events"),
    ("silver.customers", "silver.customer_events", "silver_customer_events"),
    ("silver.customers", "gold.customer360_view", "gold_customer360"),
    ("silver.transactions", "gold.customer360_view", "gold_customer360"),
    ("silver.customer_events", "gold.customer360_view", "gold_customer360"),
    ("silver.transactions", "gold.daily_revenue", "gold_daily_revenue"),
    ("silver.device_telemetry", "gold.anomaly_alerts_view", "gold_anomaly_alerts"),
    ("silver.customers", "ml_features.gold_customer_features", "ml_customer_features"),
    ("silver.transactions", "ml_features.gold_customer_features", "ml_customer_features"),
    ("silver.customer_events", "ml_features.gold_customer_features", "ml_customer_features"),
}

# Every gold column: its column-specific sources (direct, or CASE-condition / window inputs) and how,
# checked by reading each manifest's SQL. "rows" marks a COUNT(*) (sourced by the rows, no column).
T, C, E, D = "silver.transactions", "silver.customers", "silver.customer_events", "silver.device_telemetry"
GOLD: dict[str, dict[str, set[tuple[str, str]] | str]] = {
    "gold.customer360_view": {
        "customer_id": {(f"{C}.customer_id", "identity")},
        "name": {(f"{C}.name", "identity")},
        "email": {(f"{C}.email", "identity")},
        "region": {(f"{C}.region", "identity")},
        "signup_date": {(f"{C}.signup_date", "identity")},
        "total_transactions": "rows",  # coalesce(count(*), 0)
        "total_amount": {(f"{T}.amount", "aggregation")},
        "avg_transaction_value": {(f"{T}.amount", "aggregation")},  # sum(amount) / count(*)
        "last_transaction_at": {(f"{T}.transaction_date", "aggregation")},
        "lifetime_value": {(f"{T}.amount", "aggregation")},
        "event_count": "rows",
        "last_event_at": {(f"{E}.event_time", "aggregation")},
        "year_month": {(f"{C}.signup_date", "transformation")},
    },
    "gold.daily_revenue": {
        "report_date": {(f"{T}.business_date", "identity")},
        "region": {(f"{T}.region", "identity")},
        "payment_method": {(f"{T}.payment_method", "identity")},
        "transaction_count": "rows",
        "revenue": {(f"{T}.amount", "aggregation")},
        "avg_transaction_value": {(f"{T}.amount", "aggregation")},
        "distinct_customers": {(f"{T}.customer_id", "aggregation")},
    },
    "gold.anomaly_alerts_view": {
        "device_id": {(f"{D}.device_id", "identity")},
        "region": {(f"{D}.region", "identity")},
        "metric_type": {(f"{D}.metric_type", "identity")},
        "window_start": {(f"{D}.event_time", "transformation")},  # date_trunc('hour', …)
        "window_end": {(f"{D}.event_time", "transformation")},
        "reading_count": "rows",
        "avg_value": {(f"{D}.metric_value", "aggregation")},
        "max_value": {(f"{D}.metric_value", "aggregation")},
        # avg(avg_value) OVER recent: the named window's PARTITION BY / ORDER BY are window inputs
        "baseline_avg": {
            (f"{D}.metric_value", "aggregation"),
            (f"{D}.device_id", "filter"),
            (f"{D}.metric_type", "filter"),
            (f"{D}.event_time", "filter"),
        },
        "z_score": {
            (f"{D}.metric_value", "aggregation"),
            (f"{D}.device_id", "filter"),
            (f"{D}.metric_type", "filter"),
            (f"{D}.event_time", "filter"),
        },
        # CASE WHEN abs(z_score) >= 5 THEN 'critical' …: only literals, everything else is the condition
        "alert_level": {
            (f"{D}.metric_value", "filter"),
            (f"{D}.device_id", "filter"),
            (f"{D}.metric_type", "filter"),
            (f"{D}.event_time", "filter"),
        },
        "event_date": {(f"{D}.event_time", "transformation")},
    },
    "ml_features.gold_customer_features": {
        "customer_id": {(f"{C}.customer_id", "identity")},
        "snapshot_date": {(f"{T}.business_date", "aggregation")},  # max(business_date) + 1
        "email_hash": {(f"{C}.email", "masking")},  # sha256(lower(email))
        "region": {(f"{C}.region", "identity")},
        "recency_days": {(f"{T}.transaction_date", "aggregation"), (f"{T}.business_date", "aggregation")},
        "frequency_90d": "rows",
        "monetary_90d": {(f"{T}.amount", "aggregation")},
        "avg_basket_90d": {(f"{T}.amount", "aggregation")},
        "distinct_products_90d": {(f"{T}.product_id", "aggregation")},
        "preferred_payment_method": {(f"{T}.payment_method", "identity")},  # chosen by rank = 1 (JOIN)
        "events_30d": "rows",
        "tenure_days": {(f"{C}.signup_date", "transformation"), (f"{T}.business_date", "aggregation")},
    },
}


@pytest.fixture(scope="module")
def payload(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from helpers import copy_project

    config = copy_project(tmp_path_factory.mktemp("smartflow"))
    result = build(load_project(config))
    assert result.exit_code == 0, result.text
    return result.payload


def test_the_build_json_keeps_its_keys_and_is_the_typed_model(payload: dict[str, Any]) -> None:
    from governance.output import dumps
    from governance.specs.lineage_build import LineageBuild

    assert list(payload) == [
        "datasets", "jobs", "edges", "column_edges", "problems", "coverage", "propagation", "layers", "summary",
    ]  # fmt: skip
    job_keys = ["job", "kind", "inputs", "outputs", "lineage", "note", "where"]
    assert all(list(j)[:7] == job_keys and list(j)[7:] in ([], ["source_columns"]) for j in payload["jobs"])
    assert any("source_columns" in j for j in payload["jobs"])  # the roots landing an external system
    assert all(list(e) == ["from", "to", "job"] for e in payload["edges"])
    edge_keys = ["from", "to", "job", "transformation", "subtype"]
    assert all(list(e) == edge_keys for e in payload["column_edges"])
    assert list(payload["coverage"]) == ["percent", "covered", "columns", "datasets"]
    assert list(payload["summary"]) == [
        "datasets", "jobs", "edges", "column_edges", "errors", "warnings", "coverage_percent",
        "propagation_findings",
    ]  # fmt: skip
    assert payload["propagation"], "the repo's classifications leave a derived column undeclared"
    build = LineageBuild.model_validate(payload)
    assert build.edges[0].source == payload["edges"][0]["from"]
    assert dumps(build.dump()) == dumps(payload)  # same keys, order and number types


def test_dataset_graph(payload: dict[str, Any]) -> None:
    assert {(e["from"], e["to"], e["job"]) for e in payload["edges"]} == EXPECTED_DATASET_EDGES
    assert payload["problems"] == []
    jobs = {j["job"]: j for j in payload["jobs"]}
    assert len(jobs) == 13
    for name in (
        "crm_customers_copy",
        "sqlserver_transactions_copy",
        "iot_telemetry_stream",
        "mobile_events_copy",
        "support_tickets_copy",
    ):
        assert jobs[name]["lineage"] == "external_source" and jobs[name]["inputs"] == []
    assert jobs["crm_customers_copy"]["source_columns"]["email"].endswith("emailaddress1")
    assert {j["lineage"] for n, j in jobs.items() if not n.endswith(("_copy", "_stream"))} == {"sql"}
    assert set(payload["datasets"]) == set(load_project(REPO / "smartflow.yaml").config.datasets)


@pytest.mark.parametrize("dataset", sorted(GOLD))
def test_every_gold_column_hand_checked(payload: dict[str, Any], dataset: str) -> None:
    got: dict[str, set[tuple[str, str]]] = {}
    for e in payload["column_edges"]:
        ds, _, col = e["to"].rpartition(".")
        if ds == dataset and not (e["transformation"] == "filter" and e["subtype"] in WIDE):
            got.setdefault(col, set()).add((e["from"], e["transformation"]))
    expected = GOLD[dataset]
    declared = load_project(REPO / "smartflow.yaml").config.datasets[dataset].columns
    assert set(expected) == set(declared), "every gold column is hand-checked"
    for col, sources in expected.items():
        if sources == "rows":
            assert col not in got, col
        else:
            assert got.get(col) == sources, col
    coverage = {d["dataset"]: d for d in payload["coverage"]["datasets"]}[dataset]
    assert coverage["uncovered"] == [] and coverage["percent"] == 100.0


def test_indirect_edges_of_a_gold_join(payload: dict[str, Any]) -> None:
    """The LEFT JOIN keys of Customer360 are JOIN inputs of its columns; the WHERE of a CTE is a FILTER."""
    edges = {(e["from"], e["to"]): e for e in payload["column_edges"]}
    join = edges[("silver.customers.customer_id", "gold.customer360_view.name")]
    assert (join["transformation"], join["subtype"]) == ("filter", "JOIN")
    where = edges[("silver.device_telemetry.metric_value", "gold.anomaly_alerts_view.device_id")]
    assert where["transformation"] == "filter"


def test_classification_propagation(payload: dict[str, Any]) -> None:
    """PII of e-mail flows by identity into Customer360 (declared) and stops at the sha256 in the features."""
    findings = {(f["dataset"], f["column"]): f for f in payload["propagation"]}
    assert ("ml_features.gold_customer_features", "email_hash") not in findings
    assert ("gold.customer360_view", "email") not in findings
    for f in findings.values():
        assert f["kind"] == "derived column missing classification"
        assert f["labels"] and "Public" not in f["labels"]
        assert ":" in f["where"] and f["inherited_from"]
    # signup_date is Confidential in bronze and silver, and flows by identity into Customer360 undeclared
    f = findings[("gold.customer360_view", "signup_date")]
    assert f["labels"] == ["Confidential"] and f["inherited_from"] == ["silver.customers.signup_date"]


def test_cli_build_json_records_coverage_metric(tmp_path: Path) -> None:
    from helpers import copy_project

    from governance.metrics import query

    config = copy_project(tmp_path / "p")
    proc = run_cli("--config", str(config), "--output", "json", "lineage", "build", check=0)
    data = json.loads(proc.stdout)
    assert {"datasets", "jobs", "edges", "column_edges", "problems"} <= set(data)
    assert all(
        e["transformation"] in ("identity", "transformation", "aggregation", "masking", "filter")
        for e in data["column_edges"]
    )
    metrics = query(tmp_path / "p" / ".smartflow", name="lineage_coverage_percent")
    assert any(m.dimensions == {} and m.value == 100.0 for m in metrics)
    assert any(m.dimensions.get("dataset") == "gold.daily_revenue" for m in metrics)
    assert (tmp_path / "p" / ".smartflow" / "lineage" / "graph.json").is_file()


def test_show_and_impact(tmp_path: Path) -> None:
    from helpers import copy_project

    config = str(copy_project(tmp_path / "p"))
    show = json.loads(
        run_cli(
            "--config", config, "--output", "json", "lineage", "show", "gold.daily_revenue", check=0
        ).stdout
    )
    assert [u["dataset"] for u in show["upstream"]] == ["silver.transactions"]
    deeper = {u["dataset"] for u in show["upstream"][0]["upstream"]}
    assert deeper == {"bronze.sqlserver_transactions", "silver.customers"}
    assert show["downstream"] == []
    text = run_cli("--config", config, "lineage", "show", "silver.customers", check=0).stdout
    assert "-> gold.customer360_view [gold] via gold_customer360" in text

    impact = json.loads(
        run_cli(
            "--config", config, "--output", "json", "lineage", "impact", "silver.customers.email", check=0
        ).stdout
    )
    cols = {(c["dataset"], c["column"]): c for c in impact["columns"]}
    assert cols[("gold.customer360_view", "email")]["impact"] == "direct"
    assert cols[("ml_features.gold_customer_features", "email_hash")]["transformation"] == "masking"
    assert {s["suite"] for s in impact["suites"]} >= {"gold_customer360_view"}
    assert all(
        r["dataset"] in ("*", "gold.customer360_view", "ml_features.gold_customer_features")
        for r in impact["alert_rules"]
    )
    assert impact["alert_rules"]

    whole = json.loads(
        run_cli(
            "--config",
            config,
            "--output",
            "json",
            "lineage",
            "impact",
            "bronze.sqlserver_transactions",
            check=0,
        ).stdout
    )
    assert {d["dataset"] for d in whole["datasets"]} == {
        "silver.transactions",
        "gold.customer360_view",
        "gold.daily_revenue",
        "ml_features.gold_customer_features",
    }
    bad = run_cli("--config", config, "lineage", "impact", "silver.customers.nope")
    assert bad.returncode == 2 and "no column 'nope'" in bad.stderr


@pytest.mark.slow
def test_build_on_the_demo_lake_uses_real_schemas(demo_project: Path) -> None:
    """With a lake, schemas come from the Delta tables; the graph is the same as from the declared columns."""
    project = load_project(demo_project / "smartflow.yaml")
    from_lake = checked_graph(project, use_lake=True)
    declared = checked_graph(project, use_lake=False)
    assert from_lake.payload()["problems"] == []
    assert sorted(map(str, from_lake.column_edge_dicts())) == sorted(map(str, declared.column_edge_dicts()))
