"""Desired state: qualified names Purview's scanner uses, symmetric relations, rule-name mapping."""

from __future__ import annotations

from pathlib import Path

from catalog_env import write_project

from governance.catalog.model import (
    RESOURCE_SET,
    SYNAPSE_COLUMN,
    SYNAPSE_TABLE,
    TABULAR_COLUMN,
    all_entities,
    desired_state,
    glossary_coverage_percent,
)
from governance.project import load_project


def test_lake_tables_and_warehouse_tables_get_the_scanners_qualified_names(tmp_path: Path) -> None:
    cfg = write_project(tmp_path / "p", {"backend": "local"})
    text = cfg.read_text().replace(
        "root: lake", "root: abfss://curated@smartflowlake.dfs.core.windows.net/prod"
    )
    text = text.replace(
        "datasets:\n",
        "datasets:\n  gold.daily_revenue_wh:\n    format: sql\n    connection: dw\n    layer: gold\n"
        "    table: gold.daily_revenue\n    columns: {revenue: DECIMAL}\n",
        1,
    )
    text = text.replace(
        "connections:\n", "connections:\n  dw: {url: 'mssql+pyodbc://dw.sql.azuresynapse.net/sales'}\n", 1
    )
    cfg.write_text(text)
    ents = all_entities(load_project(cfg))
    rs = ents["silver.transactions"]
    assert rs.type_name == RESOURCE_SET
    assert (
        rs.qualified_name
        == "https://smartflowlake.dfs.core.windows.net/curated/prod/silver/transactions/{SparkPartitions}"
    )
    col = ents["silver.transactions.amount"]
    assert (
        col.type_name == TABULAR_COLUMN
        and col.qualified_name == rs.qualified_name + "#__tabularSchema/amount"
    )
    wh = ents["gold.daily_revenue_wh"]
    assert wh.type_name == SYNAPSE_TABLE
    assert wh.qualified_name == "mssql://dw.sql.azuresynapse.net/sales/gold/daily_revenue"
    assert ents["gold.daily_revenue_wh.revenue"].type_name == SYNAPSE_COLUMN
    assert ents["gold.daily_revenue_wh.revenue"].qualified_name == wh.qualified_name + "#revenue"


def test_related_terms_are_symmetric_and_coverage_counts_gold_columns(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path / "p", {"backend": "local"}))
    state = desired_state(project)
    assert state.terms["Customer Lifetime Value"].related == ("Daily Revenue",)
    assert state.terms["Daily Revenue"].related == ("Customer Lifetime Value",)
    assert state.terms["Customer Lifetime Value"].synonyms == ("Lifetime Value",)  # free text: one way
    gold_columns = sum(len(ds.columns) for ds in project.config.datasets.values() if ds.layer == "gold")
    assert glossary_coverage_percent(project, state) == round(100 * 2 / gold_columns, 2)
