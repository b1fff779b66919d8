"""On the demo lake: the e-mails and phone numbers hidden in support tickets, and nothing spurious."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_project, run_cli


def _demo_copy(demo_project: Path, tmp_path: Path) -> Path:
    """The demo's declarative files in tmp_path, reading the (shared, read-only) demo lake in place."""
    config = copy_project(tmp_path)
    text = config.read_text()
    assert "lake: {root: lake}" in text
    config.write_text(text.replace("lake: {root: lake}", f"lake: {{root: {demo_project / 'lake'}}}"))
    return config


def test_demo_tickets_pii_found_exactly_and_nothing_spurious(demo_project: Path, tmp_path: Path) -> None:
    config = _demo_copy(demo_project, tmp_path)
    proc = run_cli("--config", str(config), "--output", "json", "pii", "scan")
    assert proc.returncode == 0, proc.stderr  # undeclared PII only in bronze
    payload = json.loads(proc.stdout)
    assert all(d["error"] is None for d in payload["datasets"])
    undeclared = {(f["dataset"], f["column"], f["rule"], f["in_text"]) for f in payload["findings"]
                  if f["status"] == "undeclared"}  # fmt: skip
    assert undeclared == {
        ("bronze.support_tickets", "body", "SMARTFLOW.EMAIL", True),
        ("bronze.support_tickets", "body", "SMARTFLOW.PHONE", True),
        ("bronze.support_tickets", "subject", "SMARTFLOW.EMAIL", True),
    }
    # the injected counts, recovered exactly (the tickets table is smaller than the sample)
    defects = json.loads((demo_project / "lake" / "_demo" / "defects.json").read_text())["defects"]
    rows = {(f["column"], f["rule"]): round(f["match_percent"] * f["sample_size"] / 100)
            for f in payload["findings"] if f["dataset"] == "bronze.support_tickets"}  # fmt: skip
    assert rows[("body", "SMARTFLOW.EMAIL")] == defects["ticket_email_in_body"]["count"]
    assert rows[("body", "SMARTFLOW.PHONE")] == defects["ticket_phone_in_body"]["count"]
    assert rows[("subject", "SMARTFLOW.EMAIL")] == defects["ticket_email_in_subject"]["count"]

    confirmed = {(f["dataset"], f["column"]) for f in payload["findings"] if f["status"] == "confirmed"}
    assert {("bronze.crm_customers", "email"), ("bronze.crm_customers", "phone"),
            ("bronze.crm_customers", "full_name"), ("bronze.mobile_events", "device_ip"),
            ("silver.customers", "email"), ("silver.customers", "name"),
            ("gold.customer360_view", "email"), ("gold.customer360_view", "name")} <= confirmed  # fmt: skip
    # declared-clean columns (assigned labels, none of them PII) have no detection at all
    from governance.project import load_project

    project = load_project(config)
    clean = {(ds, col) for (ds, col), labels in project.column_labels().items() if "PII" not in labels}
    assert len(clean) > 30
    detected = {(f["dataset"], f["column"]) for f in payload["findings"] if f["status"] != "not_detected"}
    assert detected & clean == set()
    assert payload["summary"]["not_detected"] == 0 and payload["summary"]["failed_datasets"] == 0
