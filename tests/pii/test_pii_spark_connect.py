"""`pii scan` with `pii.engine: spark` on a remote cluster through Spark Connect, from a CLI process that
cannot start a JVM: the same findings as DuckDB, and no sampled value in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli
from pii_fixtures import SEEDED, seeded_table, write_project
from spark_cluster import no_jvm_env


@pytest.mark.slow
def test_pii_scan_on_spark_connect_equals_duckdb(tmp_path: Path, spark_connect: str) -> None:
    port = spark_connect.rsplit(":", 1)[1]
    extra = 'pii: {engine: spark}\nspark:\n  remote: "sc://127.0.0.1:${SFG_SPARK_PORT}"\n'
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, extra_config=extra)
    args = ("--config", str(config), "--output", "json", "pii", "scan")
    duck = run_cli(*args, "--engine", "duckdb")
    spark = run_cli(*args, env=no_jvm_env(SFG_SPARK_PORT=port))
    assert spark.returncode == duck.returncode == 1, spark.stderr[-3000:]
    ours, theirs = json.loads(duck.stdout), json.loads(spark.stdout)
    assert theirs["datasets"][0]["engine"] == "spark" and theirs["datasets"][0]["error"] is None
    assert theirs["datasets"][0]["sample_size"] == 300

    def essence(payload: dict[str, object]) -> set[tuple[object, ...]]:
        return {(f["column"], f["rule"], f["status"], f["match_percent"]) for f in payload["findings"]}  # type: ignore[attr-defined, index]

    assert essence(theirs) == essence(ours) and essence(ours)
    for values in SEEDED.values():
        for value in values:
            assert value not in spark.stdout and value not in spark.stderr
