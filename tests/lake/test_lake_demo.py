"""The demo lake built by `demo init`: schemas, partitioning, injected defects, Delta-log arrivals."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import run_cli

from governance.durations import parse_duration
from governance.lake import resolve
from governance.lake.demo import vocab
from governance.lake.demo.schema import arrow_type
from governance.project import Project, load_project

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
PHONE = r"\+44 ?\d{4} ?\d{6}"


@pytest.fixture(scope="module")
def project(demo_project: Path) -> Project:
    return load_project(demo_project / "smartflow.yaml")


@pytest.fixture(scope="module")
def defects(demo_project: Path) -> dict[str, Any]:
    return json.loads((demo_project / "lake" / "_demo" / "defects.json").read_text())["defects"]


@pytest.fixture(scope="module")
def db(project: Project) -> duckdb.DuckDBPyConnection:
    """DuckDB with every dataset as a view named like the dataset with '.' → '__'."""
    con = duckdb.connect()
    for name in project.config.datasets:
        con.register(name.replace(".", "__"), resolve.arrow_dataset(resolve.locate(project, name)))
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.sql(sql).fetchall()[0][0]


def within_rate(count: int, rows: int, rate: float) -> bool:
    expected = rate * rows
    return abs(count - expected) <= 4 * math.sqrt(expected) + 3


def test_every_dataset_has_its_declared_schema_and_partitioning(project: Project) -> None:
    for name, spec in project.config.datasets.items():
        table = resolve.delta_table(resolve.locate(project, name))
        schema = table.to_pyarrow_dataset().schema
        assert schema.names == list(spec.columns), name
        for col, typ in spec.columns.items():
            got = str(schema.field(col).type).replace("large_", "").replace("string_view", "string")
            assert got == str(arrow_type(typ)), (name, col, got)
        assert table.metadata().partition_columns == spec.partitioning, name
        assert table.to_pyarrow_dataset().count_rows() > 0, name


def test_transaction_defects_match_the_data_and_the_documented_rates(
    db: duckdb.DuckDBPyConnection, defects: dict[str, Any]
) -> None:
    methods = ", ".join(f"'{m}'" for m in vocab.PAYMENT_METHODS)
    recount = {
        "duplicate_transactions": "SELECT count(*) - count(DISTINCT transaction_id) FROM silver__transactions",
        "null_customer_ids": "SELECT count(*) FROM silver__transactions WHERE customer_id IS NULL",
        "orphan_customer_ids": "SELECT count(*) FROM silver__transactions t WHERE customer_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM silver__customers c WHERE c.customer_id = t.customer_id)",
        "negative_amounts": "SELECT count(*) FROM silver__transactions WHERE amount < 0",
        "extreme_amounts": "SELECT count(*) FROM silver__transactions WHERE amount > 100000",
        "unknown_payment_methods": f"SELECT count(*) FROM silver__transactions WHERE payment_method NOT IN ({methods})",
    }
    rows = one(db, "SELECT count(*) FROM bronze__sqlserver_transactions")
    assert rows == one(db, "SELECT count(*) FROM silver__transactions")
    for key, sql in recount.items():
        found = one(db, sql)
        assert found == defects[key]["count"], key
        assert defects[key]["rows"] == rows
        assert found > 0 and within_rate(found, rows, vocab.RATES[key]), (key, found, rows)


def test_malformed_emails_reach_silver_at_the_documented_rate(
    db: duckdb.DuckDBPyConnection, defects: dict[str, Any]
) -> None:
    customers = one(db, "SELECT count(*) FROM silver__customers")
    assert customers == one(db, "SELECT count(DISTINCT source_customer_id) FROM bronze__crm_customers")
    bad = one(
        db,
        r"SELECT count(*) FROM silver__customers WHERE NOT regexp_matches(email, '^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$')",
    )
    assert bad == defects["malformed_emails"]["count"]
    assert within_rate(bad, defects["malformed_emails"]["rows"], vocab.RATES["malformed_emails"])
    # silver normalised every other address (the CRM holds some in odd case with stray spaces)
    assert one(db, "SELECT count(*) FROM bronze__crm_customers WHERE email <> lower(trim(email))") > 0
    assert one(db, "SELECT count(*) FROM silver__customers WHERE email <> lower(trim(email))") == 0


def test_pii_hidden_in_ticket_text_at_the_documented_rate(
    db: duckdb.DuckDBPyConnection, defects: dict[str, Any]
) -> None:
    tickets = one(db, "SELECT count(*) FROM bronze__support_tickets")
    checks = {
        "ticket_email_in_body": f"regexp_matches(body, '{EMAIL}')",
        "ticket_phone_in_body": f"regexp_matches(body, '{PHONE}')",
        "ticket_email_in_subject": f"regexp_matches(subject, '{EMAIL}')",
    }
    for key, cond in checks.items():
        found = one(db, f"SELECT count(*) FROM bronze__support_tickets WHERE {cond}")
        assert found == defects[key]["count"], key
        assert within_rate(found, tickets, vocab.RATES[key]), (key, found, tickets)
    either = " OR ".join(checks.values())
    assert (
        one(db, f"SELECT count(*) FROM bronze__support_tickets WHERE {either}")
        == defects["tickets_with_pii"]["count"]
    )


def _log(project: Project, name: str) -> list[dict[str, Any]]:
    """Each commit of a local Delta table: version, arrived_at and the partitions it added."""
    log_dir = Path(resolve.locate(project, name).uri or "") / "_delta_log"
    commits = []
    for path in sorted(log_dir.glob("*.json")):
        actions = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        info = next(a["commitInfo"] for a in actions if "commitInfo" in a)
        parts = {tuple(a["add"]["partitionValues"].values()) for a in actions if "add" in a}
        commits.append(
            {"version": int(path.stem), "arrived_at": info.get("smartflow.arrived_at"), "parts": parts}
        )
    return commits


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", ""))


def test_missing_day_and_late_partition_are_in_the_delta_logs(
    project: Project, defects: dict[str, Any]
) -> None:
    missing = date.fromisoformat(defects["missing_partition"]["partition"])
    late = defects["late_partition"]
    late_day = date.fromisoformat(late["partition"])
    assert late["dataset"] == defects["missing_partition"]["dataset"] == "bronze.sqlserver_transactions"
    for name in ("bronze.sqlserver_transactions", "silver.transactions", "gold.daily_revenue"):
        parts = {p for c in _log(project, name) for p in c["parts"]}
        days = sorted(date.fromisoformat(p[0]) for p in parts)
        assert (missing.isoformat(),) not in parts, name
        assert days[0] < missing < days[-1], name
        gaps = [
            d for d in (days[0] + timedelta(n) for n in range((days[-1] - days[0]).days)) if d not in days
        ]
        assert gaps == [missing], name

    spec = project.dataset("bronze.sqlserver_transactions")
    assert spec.freshness and spec.freshness.late_tolerance
    tolerance = parse_duration(spec.freshness.late_tolerance)
    commits = _log(project, "bronze.sqlserver_transactions")
    assert len(commits) == len({p for c in commits for p in c["parts"]})  # one commit per ingest day
    late_found = []
    for c in commits:
        ((day,),) = c["parts"]
        due = datetime.combine(date.fromisoformat(day), datetime.min.time()) + tolerance
        assert c["arrived_at"], "every bronze commit carries smartflow.arrived_at"
        if _at(c["arrived_at"]) > due:
            late_found.append((date.fromisoformat(day), c["arrived_at"]))
    assert late_found == [(late_day, late["arrived_at"])]
    assert late["late_by_minutes"] > 60


def test_every_bronze_commit_carries_its_arrival(project: Project) -> None:
    for name, spec in project.config.datasets.items():
        if spec.layer != "bronze":
            continue
        commits = _log(project, name)
        assert all(c["arrived_at"] and len(c["parts"]) == 1 for c in commits), name
        history = resolve.delta_table(resolve.locate(project, name)).history(1)[0]
        assert "smartflow.arrived_at" in history


def test_telemetry_spikes_surface_in_the_anomaly_view(
    db: duckdb.DuckDBPyConnection, defects: dict[str, Any]
) -> None:
    spikes = defects["telemetry_spikes"]["windows"]
    assert len(spikes) == len(vocab.SPIKES)
    alerts = db.sql(
        "SELECT device_id, metric_type, strftime(window_start, '%Y-%m-%dT%H:%M:%SZ'), alert_level"
        " FROM gold__anomaly_alerts_view"
    ).fetchall()
    critical = {(d, m, w) for d, m, w, level in alerts if level == "critical"}
    assert {(s["device_id"], s["metric_type"], s["window_start"]) for s in spikes} <= critical
    assert len(alerts) <= len(spikes) + 5  # normal daily swings do not flood the view


def test_gold_is_consistent_with_silver(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "SELECT sum(revenue) FROM gold__daily_revenue") == one(
        db, "SELECT sum(amount) FROM silver__transactions"
    )
    assert one(db, "SELECT count(*) FROM gold__customer360_view") == one(
        db, "SELECT count(*) FROM silver__customers"
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM ml_features__gold_customer_features WHERE email_hash <> sha256(lower(email_hash))",
        )
        > 0
    )
    hashed = one(
        db,
        "SELECT count(*) FROM ml_features__gold_customer_features f JOIN silver__customers c USING (customer_id)"
        " WHERE f.email_hash = sha256(lower(c.email))",
    )
    assert hashed == one(db, "SELECT count(*) FROM silver__customers WHERE email IS NOT NULL")


@pytest.mark.slow
def test_same_seed_same_data_relative_config_and_refusal_to_overwrite(tmp_path: Path) -> None:
    from helpers import copy_project

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ("demo", "init", "--scale", "0.02", "--seed", "3", "--as-of", "2026-06-01T10:00:00Z")
    hashes = []
    for run in ("a", "b"):
        config = copy_project(tmp_path / run)
        # a relative --config from another working directory: the lake lands beside smartflow.yaml
        proc = run_cli(
            "--config", f"../{run}/smartflow.yaml", "--output", "json", *args, check=0, cwd=elsewhere
        )
        summary = json.loads(proc.stdout)
        assert {d["dataset"] for d in summary["datasets"]} == set(load_project(config).config.datasets)
        assert summary["defects"]["missing_partition"]["partition"] == "2026-04-27"
        assert (tmp_path / run / "lake" / "silver" / "transactions" / "_delta_log").is_dir()
        hashes.append(_lake_hash(load_project(config)))
    assert not (elsewhere / "lake").exists()
    assert hashes[0] == hashes[1]

    config = tmp_path / "b" / "smartflow.yaml"
    again = run_cli("--config", str(config), "demo", "init", "--scale", "0.02", cwd=tmp_path)
    assert again.returncode == 2
    assert "--force" in again.stderr and "Traceback" not in again.stderr
    run_cli(
        "--config",
        str(config),
        *args[:-4],
        "--seed",
        "4",
        "--as-of",
        "2026-06-01T10:00:00Z",
        "--force",
        check=0,
        cwd=tmp_path,
    )
    other = _lake_hash(load_project(config))
    assert all(
        other[name] != hashes[0][name] for name in ("bronze.sqlserver_transactions", "silver.customers")
    )


def _lake_hash(project: Project) -> dict[str, str]:
    """Order-independent content hash per dataset (doubles rounded: parallel float sums may differ in the last bit)."""
    con = duckdb.connect()
    out = {}
    for name in project.config.datasets:
        con.register("t", resolve.arrow_dataset(resolve.locate(project, name)))
        cols = ", ".join(
            f"round({c}, 6)" if t == "DOUBLE" else f'"{c}"' for c, t in project.dataset(name).columns.items()
        )
        out[name] = str(con.sql(f"SELECT count(*), sum(hash({cols})) FROM t").fetchall()[0])
        con.unregister("t")
    return out
