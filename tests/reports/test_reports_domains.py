"""The audit report's domains section and the nightly's sync-domains step, on the repo's own SmartFlow
content with the local catalog (no Azure, no lake needed for these steps)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_project, run_cli


def test_nightly_syncs_domains_into_the_local_catalog_and_the_audit_reports_the_gaps(tmp_path: Path) -> None:
    config = copy_project(tmp_path / "smartflow")
    root = config.parent
    # a product without an owner, a CDE without a term and on a column no suite checks
    (root / "domains" / "extra.yaml").write_text(
        "domain: Marketing\ntype: Project\ndescription: Campaigns.\n"
        "data_products:\n  - name: Campaign Reach\n    description: Reach per campaign.\n"
        "    datasets: [silver.customer_events]\n"
        "critical_data_elements:\n  - name: App Version\n    description: The app release of an event.\n"
        "    columns: [silver.customer_events.app_version]\n",
        encoding="utf-8",
    )
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "nightly",
        "--step",
        "validate",
        "--step",
        "sync-domains",
        "--step",
        "reports",
    )
    assert proc.returncode in (0, 1), proc.stderr
    run = json.loads(proc.stdout)
    step = next(s for s in run["steps"] if s["name"] == "sync-domains")
    assert step["status"] == "ok" and "create" in step["summary"]

    again = run_cli("--config", str(config), "--output", "json", "sync-domains", "--apply", check=0)
    payload = json.loads(again.stdout)
    assert payload["requests"]["write"] == 0  # the nightly applied it (catalog.mode: apply)
    names = {(c["kind"], c["name"]) for c in payload["changes"]}
    for product in (
        "Customer360_View",
        "Daily_Revenue",
        "AnomalyAlerts_View",
        "ml_features.gold_customer_features",
    ):
        assert ("data_product", product) in names
    assert {
        ("domain", d) for d in ("Customer", "Sales & Revenue", "Devices & Telemetry", "Data Protection")
    } <= names

    audit = run_cli("--config", str(config), "--output", "json", "report", "audit", check=0)
    html = Path(json.loads(audit.stdout)["html"]).read_text(encoding="utf-8")
    section = html[html.index('id="domains"') : html.index('id="run"')]
    assert "product without an owner" in section and "Campaign Reach" in section
    assert "CDE without a term" in section and "App Version" in section
    assert "silver.customer_events.app_version" in section
    # the customer key is checked by a suite and carries a term; the shared time and geography terms have no domain
    assert "Customer Identifier" not in section.split("outside any domain")[0]
    assert "outside any domain" in section and "Business Date" in section
