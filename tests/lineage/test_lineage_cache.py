"""The lineage cache: a second build answers from it with the same graph, and any change it depends on
(the SQL, the schema of a dataset read from the lake) is analysed afresh."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake

from governance.lineage.service import checked_graph
from governance.project import load_project

MANIFEST = """\
job: clean
kind: sql
inputs: [bronze.raw]
outputs: [silver.clean]
sql: |
  SELECT id, lower(email) AS email, amount FROM bronze.raw WHERE amount > 0
"""

REPORT = """\
job: report
kind: sql
inputs: [silver.clean]
outputs: [gold.report]
sql: |
  SELECT id, sum(amount) AS total FROM silver.clean GROUP BY id
"""


def _build(config: Path):  # type: ignore[no-untyped-def]
    project = load_project(config)
    graph = checked_graph(project)
    return graph, graph.payload(), project.state_dir / "lineage" / "cache"


def test_second_build_is_served_from_the_cache_with_the_same_graph(mini_project) -> None:  # type: ignore[no-untyped-def]
    config = mini_project({"clean.yaml": MANIFEST, "report.yaml": REPORT})
    _, first, cache = _build(config)
    assert len(list(cache.glob("*.json"))) == 2
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.json")}
    _, second, _ = _build(config)
    assert json.dumps(second, sort_keys=True) == json.dumps(first, sort_keys=True)
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.json")} == stamps  # nothing re-analysed


def test_an_edited_statement_is_analysed_again_and_the_old_entry_dropped(mini_project) -> None:  # type: ignore[no-untyped-def]
    config = mini_project({"clean.yaml": MANIFEST, "report.yaml": REPORT})
    _build(config)
    edited = REPORT.replace(
        "sum(amount) AS total FROM silver.clean GROUP BY id", "amount * 2 AS total FROM silver.clean"
    )
    (config.parent / "manifests" / "report.yaml").write_text(edited)
    _, payload, cache = _build(config)
    edges = {
        e["from"]: e["transformation"] for e in payload["column_edges"] if e["to"] == "gold.report.total"
    }
    assert edges == {"silver.clean.amount": "transformation"}
    assert len(list(cache.glob("*.json"))) == 2


def test_a_new_column_in_the_lake_changes_the_answer(mini_project) -> None:  # type: ignore[no-untyped-def]
    star = MANIFEST.replace("SELECT id, lower(email) AS email, amount FROM", "SELECT * FROM")
    config = mini_project({"clean.yaml": star})
    root = config.parent
    table = pa.table({"id": [1], "email": ["a@b.c"], "amount": [1.0]})
    write_deltalake(str(root / "lake" / "bronze" / "raw"), table)
    _, first, _ = _build(config)
    grown = table.append_column("country", pa.array(["NL"]))
    write_deltalake(str(root / "lake" / "bronze" / "raw"), grown, mode="overwrite", schema_mode="overwrite")
    _, second, _ = _build(config)
    before = {e["from"] for e in first["column_edges"]}
    after = {e["from"] for e in second["column_edges"]}
    assert "bronze.raw.country" not in before and "bronze.raw.country" in after
