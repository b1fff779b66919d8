"""A small governance project with domains/*.yaml, bound to the local Unified Catalog contract server or to
the local SQLite catalog."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers.unified_catalog_server import TOKEN, UnifiedCatalogServer

from governance.project import Project, load_project

OWNER_ID = "11111111-1111-4111-8111-111111111111"
ANALYST_ID = "22222222-2222-4222-8222-222222222222"

DATASETS = """\
datasets:
  silver.customers:
    format: delta
    path: silver/customers
    layer: silver
    columns: {customer_id: BIGINT, email: VARCHAR, name: VARCHAR}
  gold.customer360_view:
    format: delta
    path: gold/customer360_view
    layer: gold
    columns: {customer_id: BIGINT, lifetime_value: "DECIMAL(18,2)"}
  gold.daily_revenue:
    format: delta
    path: gold/daily_revenue
    layer: gold
    columns: {report_date: DATE, revenue: "DECIMAL(18,2)"}
"""

GLOSSARY = """\
glossary: SmartFlow
domain: Customer
terms:
  - name: Customer Metrics
    definition: Measures that describe customers.
    status: Approved
    stewards: [stewards@example.com]
  - name: Customer Lifetime Value
    abbreviation: CLV
    definition: Net revenue expected from a customer over the whole relationship.
    status: Approved
    parent: Customer Metrics
    stewards: [stewards@example.com]
    experts: [analyst@example.com, nobody@example.com]
  - name: Customer
    definition: A registered person.
    status: Alert
  - name: Churn Risk
    definition: Likelihood that a customer stops buying.
    status: Draft
  - name: Daily Revenue
    definition: Revenue per business day.
    status: Expired
    domain: Sales
"""

SHARED_TERMS = """\
glossary: SmartFlow
terms:
  - name: Business Date
    definition: The day a sale counts for.
"""

CUSTOMER = """\
domain: Customer
type: FunctionalUnit
description: Everything we know about a customer.
owners: [stewards@example.com]
data_products:
  - name: Customer 360
    type: Analytical
    description: One row per customer.
    business_use: Retention campaigns.
    update_frequency: Daily
    owners: [analyst@example.com]
    datasets: [gold.customer360_view]
    terms: [Customer Lifetime Value, Customer]
critical_data_elements:
  - name: Customer Identifier
    data_type: NUMBER
    description: The customer key every table joins on.
    columns: [silver.customers.customer_id, gold.customer360_view.customer_id]
    terms: [Customer]
"""

SALES = """\
domain: Sales
type: LineOfBusiness
description: Sales and revenue.
parent: Customer
data_products:
  - name: Daily Revenue
    description: Revenue per day.
    update_frequency: Daily
    datasets: [gold.daily_revenue]
    terms: [Daily Revenue]
"""


def config_text(endpoint: str | None) -> str:
    head = "version: 1\nproject: acme\nlake: {root: lake}\n"
    if endpoint is None:
        return head + DATASETS + "catalog:\n  backend: local\n"
    return (
        head
        + DATASETS
        + f"""\
catalog:
  backend: purview
  purview:
    endpoint: "{endpoint}"
    glossary: unified
    operations_per_second: 500
    retry_backoff: 0.01
    max_retries: 4
    contacts: {{"stewards@example.com": "{OWNER_ID}", "analyst@example.com": "{ANALYST_ID}"}}
    unified_catalog: {{endpoint: "{endpoint}"}}
"""
    )


@dataclass
class UnifiedEnv:
    root: Path
    server: UnifiedCatalogServer | None

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

    def managed(self, item: dict[str, Any]) -> bool:
        return {"name": "managed-by", "value": "smartflow-gov"} in (item.get("managedAttributes") or [])


def _make(tmp_path: Path, server: UnifiedCatalogServer | None) -> UnifiedEnv:
    env = UnifiedEnv(tmp_path / "project", server)
    env.write("smartflow.yaml", config_text(server.endpoint if server else None))
    env.write("glossary/terms.yaml", GLOSSARY)
    env.write("glossary/shared.yaml", SHARED_TERMS)
    env.write("domains/customer.yaml", CUSTOMER)
    env.write("domains/sales.yaml", SALES)
    if server is not None:
        server.add_asset("customer360", "https://acct.dfs.core.windows.net/lake/gold/customer360_view")
        server.add_asset("silver.customers", "https://acct.dfs.core.windows.net/lake/silver/customers_v2")
    return env


@pytest.fixture
def remote_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[UnifiedEnv]:
    monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", TOKEN)
    with UnifiedCatalogServer(page_size=3) as server:
        yield _make(tmp_path, server)
        assert server.contract_errors == [], server.contract_errors


@pytest.fixture
def local_env(tmp_path: Path) -> UnifiedEnv:
    return _make(tmp_path, None)
