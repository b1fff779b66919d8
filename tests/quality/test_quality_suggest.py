"""quality suggest on real Delta tables read by DuckDB: the profile's query count, bounds from past
partitions (and the metric history), no PII value in any output, a suggested suite that validates and
runs unchanged, and a planted defect in a new partition caught by it."""

from __future__ import annotations

import datetime as dt
import json
import random
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from deltalake import write_deltalake
from helpers import run_cli

from governance import metrics
from governance.lake.engines import open_engine
from governance.project import load_project
from governance.quality.suggest.profile import ForeignKey, profile
from governance.quality.suggest.service import suggest

CONFIG = """
version: 1
lake: {root: lake}
state_dir: .smartflow
datasets:
  sales.tickets:
    format: delta
    path: sales/tickets
    layer: silver
    partitioning: [sold_on]
    key: [ticket_id]
  sales.agents:
    format: delta
    path: sales/agents
    layer: silver
    key: [agent_id]
  sales.by_region:
    format: delta
    path: sales/by_region
    layer: silver
    partitioning: [region]
  sales.flat:
    format: delta
    path: sales/flat
    layer: silver
"""
CLASSIFICATIONS = """
labels:
  - {name: PII}
assignments:
  - dataset: sales.tickets
    columns: {holder_email: [PII], holder_birth_year: [PII]}
"""
EMAILS = ["zoe.quinlan@mailbox.test", "yann.kowalczyk@mailbox.test", "xia.oduya@mailbox.test"]
BIRTH_YEARS = [1931, 1947, 1969]
START = dt.date(2026, 3, 1)


def tickets(day: dt.date, index: int, rows: int, rng: random.Random) -> list[dict[str, Any]]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return [
        {
            "ticket_id": f"TK-{index:03d}{i:04d}",
            "agent_id": rng.randint(1, 6),
            "price": round(rng.uniform(20, 80), 2),
            "seats": rng.randint(1, 4),
            "fare": rng.choice(["adult", "child", "senior"]),
            "channel": None if i < 3 + index % 3 else rng.choice(["web", "desk"]),  # 3 to 5 nulls a day
            "holder_email": rng.choice(EMAILS),
            "holder_birth_year": rng.choice(BIRTH_YEARS),
            "sold_at": start + dt.timedelta(seconds=rng.randint(0, 86399)),
            "sold_on": day,
        }
        for i in range(rows)
    ]


def write(root: Path, rows: list[dict[str, Any]], mode: str = "overwrite") -> None:
    write_deltalake(
        str(root / "lake/sales/tickets"), pa.Table.from_pylist(rows), mode=mode, partition_by=["sold_on"]
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """12 days of tickets (40 rows each) and the agents they refer to; returns the config path."""
    (tmp_path / "expectations").mkdir()
    (tmp_path / "classifications").mkdir()
    (tmp_path / "smartflow.yaml").write_text(textwrap.dedent(CONFIG))
    (tmp_path / "classifications/pii.yaml").write_text(CLASSIFICATIONS)
    rng = random.Random(3)
    rows = [r for i in range(12) for r in tickets(START + dt.timedelta(days=i), i, 40, rng)]
    write(tmp_path, rows)
    agents = pa.table({"agent_id": list(range(1, 7)), "team": ["a", "b", "a", "b", "a", "b"]})
    write_deltalake(str(tmp_path / "lake/sales/agents"), agents)
    return tmp_path / "smartflow.yaml"


def suggest_json(config: Path, dataset: str, out: Path | None = None, rate: float = 0.02) -> dict[str, Any]:
    """The `--output json` payload of `quality suggest` (in process; the CLI is run in the end-to-end tests)."""
    return suggest(load_project(config), dataset, str(out) if out else None, rate).payload


def by_type(payload: dict[str, Any], column: str | None = None) -> dict[str, dict[str, Any]]:
    return {
        e["type"]: e for e in payload["expectations"] if column is None or e["kwargs"].get("column") == column
    }


def test_profile_takes_two_queries_with_partitions_and_one_without(project: Path) -> None:
    p = load_project(project)
    engine = open_engine(p, "duckdb", ["sales.tickets", "sales.agents"])
    try:
        fk = [ForeignKey("agent_id", "sales.agents", "agent_id")]
        prof = profile(engine, "sales.tickets", p.pii_columns("sales.tickets"), "sold_on", fk)
        assert engine.queries == 2 and len(engine.log) == 2  # every statement the engine executed
        assert len(prof.partitions) == 12 and prof.rows == 480
        assert prof.columns["agent_id"].orphans == {"sales.agents.agent_id": 0}
        assert prof.columns["fare"].value_set == ["adult", "child", "senior"]
        assert prof.columns["channel"].value_set == ["desk", "web"]  # nulls are not a value
        flat = profile(engine, "sales.tickets", p.pii_columns("sales.tickets"))
        assert flat.queries == 1 and engine.queries == 3
    finally:
        engine.close()
    assert suggest_json(project, "sales.tickets")["queries"] == 2


def test_bounds_come_from_past_partitions_and_the_metric_history(project: Path) -> None:
    payload = suggest_json(project, "sales.tickets")
    count = by_type(payload)["expect_table_row_count_to_be_between"]
    # 40 rows in each of 12 partitions: the bound is per partition, not the table's 480 rows
    assert count["kwargs"] == {"min_value": 40} and "12 partitions" in count["evidence"]
    nulls = by_type(payload, "channel")["expect_column_values_to_not_be_null"]
    assert "null fraction per partition: 12 partitions" in nulls["evidence"]
    assert 0.7 < nulls["kwargs"]["mostly"] < 0.875  # 7.5 to 12.5 % nulls a day, with room for variation
    mean = by_type(payload, "price")["expect_column_mean_to_be_between"]
    assert "12 partitions" in mean["evidence"]
    assert 20 < mean["kwargs"]["min_value"] < 50 < mean["kwargs"]["max_value"] < 80

    # partitions no longer in the table still count through the metric history (rows per partition
    # recorded by freshness checks): 20 older days of 36 to 44 rows widen the volume bound
    root = project.parent
    old = [START - dt.timedelta(days=i + 1) for i in range(20)]
    metrics.record(
        root / ".smartflow",
        [
            metrics.Metric(
                "row_count", 40 + (i % 5 - 2) * 2, {"dataset": "sales.tickets", "partition": str(d)}
            )
            for i, d in enumerate(old)
        ],
    )
    widened = by_type(suggest_json(project, "sales.tickets"))["expect_table_row_count_to_be_between"]
    assert "32 partitions" in widened["evidence"]
    assert 1 <= widened["kwargs"]["min_value"] < 36  # the history's spread, not the table's constant 40

    # a smaller false-alarm rate gives a wider bound on the same history
    tight = by_type(suggest_json(project, "sales.tickets", rate=0.2), "price")
    loose = by_type(suggest_json(project, "sales.tickets", rate=0.001), "price")
    t, lo = (
        tight["expect_column_mean_to_be_between"]["kwargs"],
        loose["expect_column_mean_to_be_between"]["kwargs"],
    )
    assert lo["min_value"] < t["min_value"] < t["max_value"] < lo["max_value"]


def test_no_value_of_a_pii_column_leaves(project: Path) -> None:
    config = project
    out = config.parent / "expectations" / "suggested.yaml"
    proc = run_cli(
        "--config", str(config), "-vv", "quality", "suggest", "--dataset", "sales.tickets", check=0
    )
    payload = suggest_json(config, "sales.tickets", out)
    texts = [proc.stdout, proc.stderr, json.dumps(payload), out.read_text()]
    texts += [p.read_text(errors="replace") for p in (config.parent / ".smartflow").rglob("*") if p.is_file()]
    for secret in [*EMAILS, *(e.split("@")[0] for e in EMAILS), *(str(y) for y in BIRTH_YEARS)]:
        assert not any(secret in t for t in texts), secret
    for column in ("holder_email", "holder_birth_year"):
        suggested = by_type(payload, column)
        # three distinct values each, yet no value set; no range or mean that would quote a value
        assert "expect_column_values_to_be_in_set" not in suggested
        assert "expect_column_values_to_be_between" not in suggested
        assert "expect_column_mean_to_be_between" not in suggested
    # a pattern only as a shape
    regex = by_type(payload, "holder_email")["expect_column_values_to_match_regex"]["kwargs"]["regex"]
    assert regex == r"^[A-Za-z]+\.[A-Za-z]+@[A-Za-z]+\.[A-Za-z]+$"


def test_suggested_suite_validates_and_runs_unchanged(project: Path) -> None:
    root = project.parent
    out = root / "expectations" / "tickets.yaml"
    proc = run_cli(
        "--config",
        str(project),
        "--output",
        "json",
        "quality",
        "suggest",
        "--dataset",
        "sales.tickets",
        "--out",
        str(out),
        check=0,
    )
    payload = json.loads(proc.stdout)
    assert payload["dataset"] == "sales.tickets" and payload["out"] == str(out)
    assert all(set(e) == {"type", "kwargs", "evidence"} for e in payload["expectations"])
    doc = yaml.safe_load(out.read_text())
    assert doc["suite"] == "sales_tickets_suggested" and doc["dataset"] == "sales.tickets"
    assert [(e["type"], e["kwargs"], e["meta"]) for e in doc["expectations"]] == [
        (e["type"], e["kwargs"], {"suggested": True, "evidence": e["evidence"]})
        for e in payload["expectations"]
    ]
    types = {
        (e["type"], e["kwargs"].get("column") or e["kwargs"].get("column_A")) for e in doc["expectations"]
    }
    assert {
        ("expect_column_values_to_be_unique", "ticket_id"),
        ("expect_column_values_to_match_regex", "ticket_id"),
        ("expect_column_values_to_be_in_set", "fare"),
        ("expect_column_values_to_exist_in", "agent_id"),
        ("expect_column_values_to_be_between", "price"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "sold_at"),
        ("expect_table_row_count_to_be_between", None),
    } <= types
    run_cli("--config", str(project), "validate", check=0)
    result = run_cli("--config", str(project), "--output", "json", "quality", "run", check=0)
    suite = json.loads(result.stdout)["suites"][0]
    assert suite["statistics"]["evaluated_expectations"] == len(doc["expectations"])
    assert suite["statistics"]["unsuccessful_expectations"] == 0
    assert suite["statistics"].get("errored_expectations", 0) == 0
    # a second suggestion with nothing changed writes the same suite
    before = out.read_text()
    run_cli(
        "--config",
        str(project),
        "quality",
        "suggest",
        "--dataset",
        "sales.tickets",
        "--out",
        str(out),
        check=0,
    )
    assert out.read_text() == before


def test_a_planted_defect_in_a_new_partition_is_caught(project: Path) -> None:
    root = project.parent
    out = root / "expectations" / "tickets.yaml"
    suggest_json(project, "sales.tickets", out)
    rng = random.Random(11)
    clean_day, bad_day = START + dt.timedelta(days=12), START + dt.timedelta(days=13)
    bad = tickets(bad_day, 13, 40, rng)
    for r in bad[:3]:
        r["fare"] = "student"  # a new category value
    bad[5]["ticket_id"] = bad[4]["ticket_id"]  # a duplicated id
    write(root, tickets(clean_day, 12, 40, rng) + bad, mode="append")

    clean = run_cli(
        "--config",
        str(project),
        "--output",
        "json",
        "quality",
        "run",
        "--partition",
        f"sold_on={clean_day}",
        check=0,
    )
    assert json.loads(clean.stdout)["success"]
    proc = run_cli(
        "--config",
        str(project),
        "--output",
        "json",
        "quality",
        "run",
        "--partition",
        f"sold_on={bad_day}",
        check=1,
    )
    failed = {
        (r["expectation_config"]["type"], r["expectation_config"]["kwargs"].get("column"))
        for r in json.loads(proc.stdout)["suites"][0]["results"]
        if not r["success"]
    }
    assert failed == {
        ("expect_column_values_to_be_in_set", "fare"),
        ("expect_column_values_to_be_unique", "ticket_id"),
    }


def test_other_partitioning_and_an_unpartitioned_table(project: Path) -> None:
    root = project.parent
    rng = random.Random(5)
    rows = [
        {"region": region, "store": f"S{rng.randint(10, 99)}", "revenue": rng.uniform(100, 900)}
        for region in ("north", "south", "east", "west", "central", "islands")
        for _ in range(30)
    ]
    write_deltalake(str(root / "lake/sales/by_region"), pa.Table.from_pylist(rows), partition_by=["region"])
    write_deltalake(str(root / "lake/sales/flat"), pa.Table.from_pylist(rows))
    by_region = suggest_json(project, "sales.by_region")
    assert by_region["partitions"] == 6 and by_region["queries"] == 2
    assert "expect_column_pair_values_a_to_be_greater_than_b" not in by_type(by_region)  # not a date
    assert "6 partitions" in by_type(by_region)["expect_table_row_count_to_be_between"]["evidence"]
    flat = suggest_json(project, "sales.flat")
    assert flat["partitions"] == 0 and flat["queries"] == 1
    assert by_type(flat)["expect_table_row_count_to_be_between"]["kwargs"] == {"min_value": 1}
    assert "not widened" in by_type(flat, "revenue")["expect_column_values_to_be_between"]["evidence"]
    for name in ("by_region", "flat"):
        suggest_json(project, f"sales.{name}", root / "expectations" / f"{name}.yaml")
    run_cli("--config", str(project), "validate", check=0)
    run_cli(
        "--config",
        str(project),
        "quality",
        "run",
        "--dataset",
        "sales.by_region",
        "--dataset",
        "sales.flat",
        check=0,
    )


def test_bad_input_exits_2(project: Path) -> None:
    proc = run_cli("--config", str(project), "quality", "suggest", "--dataset", "sales.nope", check=2)
    assert "unknown dataset" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli(
        "--config",
        str(project),
        "quality",
        "suggest",
        "--dataset",
        "sales.tickets",
        "--false-alarm-rate",
        "1.5",
        check=2,
    )
    assert "--false-alarm-rate" in proc.stderr
    missing = project.parent / "no" / "such" / "folder.yaml"
    proc = run_cli(
        "--config", str(project), "quality", "suggest", "--dataset", "sales.tickets", "--out", str(missing)
    )
    assert proc.returncode == 2 and "cannot write the suite" in proc.stderr and "Traceback" not in proc.stderr


def test_a_warehouse_table_over_postgresql(
    project: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa
    from deltalake import DeltaTable

    from governance.quality.service import run

    root = project.parent
    schema = f"sfg_s_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        DeltaTable(str(root / "lake/sales/tickets")).to_pandas().to_sql(
            "tickets", engine, schema=schema, index=False
        )
        DeltaTable(str(root / "lake/sales/agents")).to_pandas().to_sql(
            "agents", engine, schema=schema, index=False
        )
        config = (root / "smartflow.yaml").read_text() + textwrap.dedent(f"""\
              wh.tickets: {{format: sql, connection: warehouse, table: {schema}.tickets, layer: gold,
                           partitioning: [sold_on], key: [ticket_id]}}
              wh.agents: {{format: sql, connection: warehouse, table: {schema}.agents, layer: gold, key: [agent_id]}}
            connections:
              warehouse: {{url: "${{SMARTFLOW_TEST_PG_URL}}"}}
            """)
        (root / "smartflow.yaml").write_text(config)
        (root / "classifications/wh.yaml").write_text(
            "assignments:\n  - dataset: wh.tickets\n    columns: {holder_email: [PII], holder_birth_year: [PII]}\n"
        )
        monkeypatch.setenv("SMARTFLOW_TEST_PG_URL", pg_url)
        out = root / "expectations" / "wh.yaml"
        payload = suggest_json(project, "wh.tickets", out)
        assert payload["queries"] == 2 and payload["partitions"] == 12
        found = by_type(payload, "agent_id")["expect_column_values_to_exist_in"]["kwargs"]
        assert found == {"column": "agent_id", "dataset": "wh.agents", "other_column": "agent_id"}
        assert by_type(payload, "fare")["expect_column_values_to_be_in_set"]["kwargs"]["value_set"] == [
            "adult",
            "child",
            "senior",
        ]
        assert not any(e in out.read_text() for e in EMAILS)
        result = run(load_project(project), suites=["wh_tickets_suggested"])
        suite = result.payload["suites"][0]
        assert suite.get("error") is None and suite["success"], suite
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


@pytest.mark.slow
def test_demo_lake_silver_transactions(demo_project: Path, tmp_path: Path) -> None:
    """On the repo's own project and demo lake: two queries, and the suite validates and runs beside the
    hand-written ones (a copy, since the shared demo project is not to be modified)."""
    import shutil

    from helpers import copy_project

    config = copy_project(tmp_path)
    shutil.copytree(demo_project / "lake", tmp_path / "lake")
    out = tmp_path / "expectations" / "silver" / "silver_transactions_suggested.yaml"
    payload = suggest_json(config, "silver.transactions", out)
    assert payload["queries"] == 2 and payload["partition"] == "business_date"
    run_cli("--config", str(config), "validate", check=0)
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "quality",
        "run",
        "--suite",
        "silver_transactions_suggested",
    )
    suite = json.loads(proc.stdout)["suites"][0]
    assert proc.returncode == 0 and suite["success"], suite


@pytest.mark.slow
def test_spark_profile_matches_duckdb(project: Path) -> None:
    """The same two queries rendered for Spark give the same profile as on DuckDB."""
    p = load_project(project)
    fk = [ForeignKey("agent_id", "sales.agents", "agent_id")]
    profiles = []
    for kind in ("duckdb", "spark"):
        engine = open_engine(p, kind, ["sales.tickets", "sales.agents"])
        try:
            profiles.append(profile(engine, "sales.tickets", p.pii_columns("sales.tickets"), "sold_on", fk))
            assert engine.queries == 2
        finally:
            engine.close()
    duck, spark = profiles
    assert [pp.rows for pp in spark.partitions] == [pp.rows for pp in duck.partitions]
    for name, c in duck.columns.items():
        s = spark.columns[name]
        assert (s.non_null, s.distinct, s.value_set, s.orphans) == (
            c.non_null,
            c.distinct,
            c.value_set,
            c.orphans,
        )
        assert (s.fine_shapes, s.fine_range, s.coarse_shapes) == (
            c.fine_shapes,
            c.fine_range,
            c.coarse_shapes,
        )
