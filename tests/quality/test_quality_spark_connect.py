"""Quality on a remote Spark cluster through Spark Connect (a local standalone cluster: master, worker and
Connect server as separate processes, see tests/spark_cluster.py), from a CLI process that cannot start a
JVM; results, samples and quarantine equal DuckDB's; Delta tables the log-based read cannot honour are a
dataset error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from helpers import GX_TESTS, copy_project, run_cli
from spark_cluster import no_jvm_env

pytestmark = pytest.mark.slow


def _port(url: str) -> str:
    return url.rsplit(":", 1)[1]


def _project(dst: Path, lake: Path) -> Path:
    config = copy_project(dst)
    text = config.read_text().replace("lake: {root: lake}", f"lake: {{root: '{lake}'}}", 1)
    text += (
        '\nspark:\n  remote: "sc://127.0.0.1:${SFG_SPARK_PORT}"\n  conf: {spark.sql.shuffle.partitions: 4}\n'
        # not beside the lake (the Spark default): the demo lake is shared by the tests
        f"quality: {{quarantine: '{dst / '.smartflow/quality/quarantine'}'}}\n"
    )
    config.write_text(text)
    return config


def _essence(result: dict[str, Any]) -> tuple[Any, ...]:
    r = result["result"]
    return (
        result["success"],
        result["exception_info"]["raised_exception"],
        r.get("element_count"),
        r.get("unexpected_count"),
        r.get("missing_count"),
        json.dumps(r.get("partial_unexpected_list"), sort_keys=True, default=str),
    )


def _quarantined(config: Path, dataset: str) -> list[tuple[Any, ...]]:
    path = config.parent / ".smartflow/quality/quarantine" / dataset
    rows = DeltaTable(str(path)).to_pyarrow_table().drop_columns(["_run_id", "_quarantined_at"]).to_pylist()
    return sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows)


def test_cli_on_spark_connect_equals_duckdb_on_the_demo_lake(
    demo_project: Path, spark_connect: str, tmp_path: Path
) -> None:
    lake = demo_project / "lake"
    duck_cfg, spark_cfg = _project(tmp_path / "duck", lake), _project(tmp_path / "spark", lake)
    args = ("--output", "json", "quality", "run", "--quarantine")
    duck = run_cli("--config", str(duck_cfg), *args, "--engine", "duckdb")
    env = no_jvm_env(SFG_SPARK_PORT=_port(spark_connect))
    spark = run_cli("--config", str(spark_cfg), *args, "--engine", "spark", env=env)
    assert spark.returncode == duck.returncode == 1, spark.stderr[-3000:]
    assert "Traceback" not in spark.stderr
    ours, theirs = json.loads(duck.stdout), json.loads(spark.stdout)
    assert theirs["engine"] == "spark"
    compared = 0
    for s_duck, s_spark in zip(ours["suites"], theirs["suites"], strict=True):
        assert s_spark.get("error") is None, s_spark
        assert s_spark["suite_name"] == s_duck["suite_name"]
        assert s_spark["rows_validated"] == s_duck["rows_validated"]
        for a, b in zip(s_duck["results"], s_spark["results"], strict=True):
            label = f"{s_duck['suite_name']}: {a['expectation_config']['type']} {a['expectation_config']['kwargs']}"
            assert _essence(b) == _essence(a), label
            compared += 1
        if (duck_cfg.parent / ".smartflow/quality/quarantine" / s_duck["dataset"]).exists():
            assert _quarantined(spark_cfg, s_duck["dataset"]) == _quarantined(duck_cfg, s_duck["dataset"])
    assert compared >= 60
    assert any(r["result"].get("partial_unexpected_list") for s in theirs["suites"] for r in s["results"])
    assert (spark_cfg.parent / ".smartflow/quality/quarantine").is_dir()
    # a second run with nothing changed: incremental suites scan no partition, on the cluster too
    again = run_cli(
        "--config", str(spark_cfg), "--output", "json", "quality", "run", "--engine", "spark", env=env
    )
    assert again.returncode in (0, 1), again.stderr[-3000:]
    incremental = {s["suite_name"] for s in theirs["suites"] if s.get("incremental")}
    assert incremental
    for s in json.loads(again.stdout)["suites"]:
        if s["suite_name"] in incremental:
            assert s["queries"] == 0, s


def _batch(day: dt.date, region: str | None, start: int, n: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + n), pa.int64()),
            "amount": pa.array([float(i) - 1 for i in range(n)]),
            "day": pa.array([day] * n, pa.date32()),
            "region": pa.array([region] * n, pa.string()),
            "bucket": pa.array([start % 3] * n, pa.int32()),
        }
    )


SUITE = """
suite: {name}
dataset: {dataset}
expectations:
  - type: expect_table_row_count_to_equal
    kwargs: {{value: 21}}
  - type: expect_column_values_to_not_be_null
    kwargs: {{column: region}}
  - type: expect_column_values_to_be_in_set
    kwargs: {{column: region, value_set: [north, "a b/c=d's"]}}
  - type: expect_column_values_to_be_between
    kwargs: {{column: amount, min_value: 0}}
  - type: expect_column_distinct_values_to_equal_set
    kwargs: {{column: day, value_set: ["2026-11-01", "2026-11-02"]}}
  - type: expect_column_values_to_be_in_set
    kwargs: {{column: bucket, value_set: [0, 1]}}
"""


def _counts(payload: dict[str, Any], suite: str) -> list[tuple[Any, ...]]:
    s = next(s for s in payload["suites"] if s["suite_name"] == suite)
    return [_essence(r) for r in s["results"]]


def test_delta_partition_values_come_from_the_log_and_unreadable_tables_are_dataset_errors(
    tmp_path: Path, spark_connect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.project import load_project
    from governance.quality.service import run

    lake = tmp_path / "lake"
    parts = [
        (dt.date(2026, 11, 1), "north"),
        (dt.date(2026, 11, 2), None),
        (dt.date(2026, 11, 2), "a b/c=d's"),
    ]
    for i, (day, region) in enumerate(parts):  # paths escape these values: one read per partition
        write_deltalake(
            str(lake / "odd"), _batch(day, region, i * 100, 7), partition_by=["day", "region"], mode="append"
        )
        write_deltalake(
            str(lake / "ints"), _batch(day, region, i * 100, 7), partition_by=["bucket"], mode="append"
        )
    for name, conf in (
        ("dv", {"delta.enableDeletionVectors": "true"}),
        ("cm", {"delta.columnMapping.mode": "name"}),
    ):
        write_deltalake(str(lake / name), _batch(dt.date(2026, 11, 1), "north", 0, 21), configuration=conf)
    datasets = "".join(
        f"  silver.{n}: {{format: delta, path: {n}, layer: silver, key: [id]}}\n"
        for n in ("odd", "ints", "dv", "cm")
    )
    (tmp_path / "expectations").mkdir()
    for n in ("odd", "ints", "dv", "cm"):
        (tmp_path / f"expectations/{n}.yaml").write_text(SUITE.format(name=n, dataset=f"silver.{n}"))
    (tmp_path / "smartflow.yaml").write_text(
        f"version: 1\nlake: {{root: lake}}\ndatasets:\n{datasets}spark:\n  remote: '{spark_connect}'\n"
    )
    project = load_project(tmp_path / "smartflow.yaml")
    duck = run(project, suites=["odd", "ints"], engine="duckdb").payload
    spark = run(project, engine="spark")
    assert spark.exit_code == 3
    for suite in ("odd", "ints"):
        assert _counts(spark.payload, suite) == _counts(duck, suite), suite
    odd = _counts(spark.payload, "odd")
    assert odd[0][0] and odd[1][3] == 7  # 21 rows; the NULL region partition read as NULL, not a string
    errors = {s["suite_name"]: s.get("error") or "" for s in spark.payload["suites"]}
    assert "deletionVectors" in errors["dv"] and "columnMapping" in errors["cm"]
    assert not errors["odd"] and not errors["ints"]


def test_gx_conformance_on_spark_connect(spark_connect: str) -> None:
    from harness.gx_conformance import run_backend, summary

    from governance.lake.spark_session import connect

    cases = run_backend(GX_TESTS, "spark", spark=connect(spark_connect))
    s = summary(cases)
    failures = [f"{c.expectation} / {c.title}: {c.reason}" for c in cases if c.verdict == "fail"]
    assert s["pass"] + s["fail"] > 300
    assert s["rate"] >= 95.0, f"pass rate {s['rate']:.1f}%:\n" + "\n".join(failures)
