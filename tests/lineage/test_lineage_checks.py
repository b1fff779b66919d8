"""Problems of a lineage graph, each at FILE:LINE: unknown datasets, cycles, orphans, bad SQL, bad columns."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import run_cli

GOOD_SILVER = """\
job: clean
kind: sql
inputs: [bronze.raw]
outputs: [silver.clean]
sql: |
  SELECT id, lower(email) AS email, amount
  FROM bronze.raw
  WHERE id IS NOT NULL
"""
GOOD_GOLD = """\
job: report
kind: sql
inputs: [silver.clean]
outputs: [gold.report]
sql: |
  SELECT id, sum(amount) AS total
  FROM silver.clean
  GROUP BY id
"""


def _build(config: Path) -> tuple[int, dict[str, Any]]:
    proc = run_cli("--config", str(config), "--output", "json", "lineage", "build")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _problems(payload: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [p for p in payload["problems"] if p["kind"] == kind]


def test_clean_graph_exits_0(mini_project: Callable[..., Path]) -> None:
    rc, payload = _build(mini_project({"clean.yaml": GOOD_SILVER, "report.yaml": GOOD_GOLD}))
    assert rc == 0, payload["problems"]
    assert payload["coverage"]["percent"] == 100.0
    assert {(e["from"], e["to"], e["transformation"]) for e in payload["column_edges"]} >= {
        ("bronze.raw.email", "silver.clean.email", "transformation"),
        ("silver.clean.amount", "gold.report.total", "aggregation"),
        ("bronze.raw.id", "silver.clean.email", "filter"),
    }


def test_sql_that_does_not_parse_points_at_its_line(mini_project: Callable[..., Path]) -> None:
    bad = GOOD_GOLD.replace("  GROUP BY id\n", "  GROUP BY id,,\n  HAVING (\n")
    config = mini_project({"clean.yaml": GOOD_SILVER, "report.yaml": bad})
    rc, payload = _build(config)
    assert rc == 1
    [problem] = _problems(payload, "unparsed_sql")
    file, line = problem["where"].rsplit(":", 1)
    assert file == "manifests/report.yaml"
    text = (config.parent / file).read_text().splitlines()
    assert "GROUP BY" in text[int(line) - 1] or "HAVING" in text[int(line) - 1]
    assert problem["message"].startswith("SQL does not parse")
    human = run_cli("--config", str(config), "lineage", "build")
    assert human.returncode == 1 and "Traceback" not in human.stderr
    assert "manifests/report.yaml:" in human.stdout


def test_unknown_dataset_in_manifest_and_sql(mini_project: Callable[..., Path]) -> None:
    wrong = GOOD_GOLD.replace("inputs: [silver.clean]", "inputs: [silver.clean, silver.nowhere]")
    wrong = wrong.replace("FROM silver.clean", "FROM silver.clean JOIN silver.ghost USING (id)")
    rc, payload = _build(mini_project({"clean.yaml": GOOD_SILVER, "report.yaml": wrong}))
    assert rc == 1
    where = {p["message"].split("'")[1]: p["where"] for p in _problems(payload, "unknown_dataset")}
    assert where["silver.nowhere"] == "manifests/report.yaml:3"
    assert where["silver.ghost"] == "manifests/report.yaml:5"


def test_unknown_columns(mini_project: Callable[..., Path]) -> None:
    wrong = GOOD_SILVER.replace("amount\n", "amount, phone\n").replace(
        "lower(email) AS email", "lower(email) AS e_mail"
    )
    rc, payload = _build(mini_project({"clean.yaml": wrong, "report.yaml": GOOD_GOLD}))
    assert rc == 1
    messages = [p["message"] for p in _problems(payload, "unknown_column")]
    assert any("phone" in m for m in messages)
    assert any("'e_mail'" in m and "silver.clean" in m for m in messages)
    assert all(p["where"].startswith("manifests/clean.yaml:") for p in _problems(payload, "unknown_column"))
    assert any(p["where"] == "manifests/clean.yaml:6" for p in _problems(payload, "unknown_column"))


def test_cycle(mini_project: Callable[..., Path]) -> None:
    back = """\
    job: feedback
    kind: sql
    inputs: [gold.report]
    outputs: [silver.clean]
    sql: SELECT id, CAST(NULL AS VARCHAR) AS email, total AS amount FROM gold.report
    """
    rc, payload = _build(
        mini_project({"clean.yaml": GOOD_SILVER, "report.yaml": GOOD_GOLD, "feedback.yaml": back})
    )
    assert rc == 1
    [cycle] = _problems(payload, "cycle")
    assert "gold.report -> silver.clean -> gold.report" in cycle["message"]
    assert cycle["where"].startswith("manifests/")


def test_orphan_gold_dataset(mini_project: Callable[..., Path]) -> None:
    rc, payload = _build(mini_project({"report.yaml": GOOD_GOLD}))
    assert rc == 1
    [orphan] = _problems(payload, "orphan")
    assert "gold.report" in orphan["message"]
    assert orphan["where"] == "smartflow.yaml:8"


def test_copy_jobs_identity_by_name_and_declared_column_lineage(mini_project: Callable[..., Path]) -> None:
    copy = """\
    job: copy_clean
    kind: copy
    inputs: [bronze.raw]
    outputs: [silver.clean]
    """
    declared = """\
    job: stream_report
    kind: stream
    inputs: [silver.clean]
    outputs: [gold.report]
    column_lineage:
      gold.report.id: [silver.clean.id]
      gold.report.total: [silver.clean.amount, silver.clean.id]
    """
    rc, payload = _build(mini_project({"a.yaml": copy, "b.yaml": declared}))
    assert rc == 0, payload["problems"]
    jobs = {j["job"]: j for j in payload["jobs"]}
    assert (
        jobs["copy_clean"]["lineage"] == "identity_by_name"
        and "identity by name" in jobs["copy_clean"]["note"]
    )
    assert jobs["stream_report"]["lineage"] == "declared"
    edges = {(e["from"], e["to"]): e["transformation"] for e in payload["column_edges"]}
    assert edges[("bronze.raw.email", "silver.clean.email")] == "identity"
    assert edges[("silver.clean.amount", "gold.report.total")] == "transformation"


def test_declared_lineage_with_unknown_column(mini_project: Callable[..., Path]) -> None:
    declared = """\
    job: stream_report
    kind: stream
    inputs: [silver.clean]
    outputs: [gold.report]
    column_lineage:
      gold.report.total: [silver.clean.price]
    """
    rc, payload = _build(mini_project({"clean.yaml": GOOD_SILVER, "b.yaml": declared}))
    assert rc == 1
    [problem] = _problems(payload, "unknown_column")
    assert problem["where"] == "manifests/b.yaml:6" and "price" in problem["message"]


def test_uncovered_columns_lower_coverage(mini_project: Callable[..., Path]) -> None:
    partial = GOOD_GOLD.replace("SELECT id, sum(amount) AS total", "SELECT id, 0.0 AS total")
    rc, payload = _build(mini_project({"clean.yaml": GOOD_SILVER, "report.yaml": partial}))
    assert rc == 0
    assert payload["coverage"]["percent"] == round(100 * 4 / 5, 1)
    [warn] = _problems(payload, "uncovered_column")
    assert warn["severity"] == "warning" and "gold.report.total" in warn["message"]
    assert warn["where"] == "smartflow.yaml:8"


def test_propagation_stops_at_masking_and_aggregation(mini_project: Callable[..., Path]) -> None:
    classes = """\
    labels:
      - {name: PII, sensitivity: 9}
      - {name: Public, sensitivity: 0}
    assignments:
      - dataset: bronze.raw
        columns: {email: [PII], id: [Public], amount: [PII]}
    """
    hashed = GOOD_SILVER.replace("lower(email) AS email", "sha256(email) AS email")
    rc, payload = _build(
        mini_project(
            {"clean.yaml": hashed, "report.yaml": GOOD_GOLD}, extra={"classifications/c.yaml": classes}
        )
    )
    assert rc == 0
    found = {(f["dataset"], f["column"]): f["labels"] for f in payload["propagation"]}
    # amount flows by identity into silver (finding), then is summed into gold (stops); e-mail is hashed
    assert found == {("silver.clean", "amount"): ["PII"]}
    [finding] = payload["propagation"]
    assert finding["kind"] == "derived column missing classification"
    assert finding["where"] == "smartflow.yaml:7"


def test_parse_error_message_quotes_the_statement_line(mini_project: Callable[..., Path]) -> None:
    bad = GOOD_GOLD.replace("  GROUP BY id\n", "  GROUP BY id)\n")
    rc, payload = _build(mini_project({"clean.yaml": GOOD_SILVER, "report.yaml": bad}))
    [problem] = _problems(payload, "unparsed_sql")
    assert problem["message"].endswith("in: GROUP BY id)") and problem["where"] == "manifests/report.yaml:8"


def test_show_and_impact_of_unknown_names_are_bad_input(mini_project: Callable[..., Path]) -> None:
    config = str(mini_project({"clean.yaml": GOOD_SILVER, "report.yaml": GOOD_GOLD}))
    show = run_cli("--config", config, "lineage", "show", "silver.clen")
    assert show.returncode == 2 and "did you mean 'silver.clean'" in show.stderr
    impact = run_cli("--config", config, "lineage", "impact", "nowhere.table.col")
    assert impact.returncode == 2 and "Traceback" not in impact.stderr
    ok = run_cli("--config", config, "--output", "json", "lineage", "impact", "bronze.raw.amount", check=0)
    data = json.loads(ok.stdout)
    cols = {(c["dataset"], c["column"]): c["impact"] for c in data["columns"]}
    assert cols[("silver.clean", "amount")] == "direct"
    assert cols[("gold.report", "total")] == "direct"
    assert [d["dataset"] for d in data["datasets"]] == ["gold.report", "silver.clean"]
