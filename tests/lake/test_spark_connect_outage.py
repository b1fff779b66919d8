"""A Spark Connect server that is down, or dies during a run: each dataset it holds is an infrastructure
error (exit 3) within seconds, naming host:port and never the URL's token; the datasets validated before
the loss keep their results."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from helpers import run_cli
from spark_cluster import SparkCluster, free_port, no_jvm_env

TOKEN = "tok-5ecret-value"


def _project(tmp_path: Path, remote: str, datasets: tuple[str, ...] = ("a", "b", "c")) -> Path:
    for name in datasets:
        write_deltalake(str(tmp_path / "lake" / name), pa.table({"id": pa.array([1, 2, 3], pa.int64())}))
    (tmp_path / "expectations").mkdir()
    for name in datasets:
        (tmp_path / f"expectations/{name}.yaml").write_text(
            f"suite: {name}\ndataset: silver.{name}\nexpectations:\n"
            "  - type: expect_column_values_to_not_be_null\n    kwargs: {column: id}\n"
        )
    listed = "".join(f"  silver.{n}: {{format: delta, path: {n}, layer: silver}}\n" for n in datasets)
    (tmp_path / "smartflow.yaml").write_text(
        f"version: 1\nlake: {{root: lake}}\ndatasets:\n{listed}spark: {{remote: '{remote}'}}\n"
    )
    return tmp_path / "smartflow.yaml"


def test_an_unreachable_server_is_exit_3_within_seconds_naming_host_and_port(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    config = _project(tmp_path, f"sc://127.0.0.1:{port}/;token=${{SFG_TOKEN}}")
    t0 = time.monotonic()
    proc = run_cli(
        "--config", str(config), "--output", "json", "quality", "run", "--engine", "spark",
        env=no_jvm_env(SFG_TOKEN=TOKEN),
    )  # fmt: skip
    elapsed = time.monotonic() - t0
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert elapsed < 60  # pyspark alone would retry for 10+ minutes (most of this is the CLI starting)
    errors = [s["error"] for s in json.loads(proc.stdout)["suites"]]
    assert len(errors) == 3 and all(f"Spark Connect at 127.0.0.1:{port} unreachable" in e for e in errors)
    assert TOKEN not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_server_killed_mid_run_fails_the_datasets_left_and_keeps_the_ones_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.lake import spark_engine as engines
    from governance.lake.spark_session import close_remote
    from governance.project import load_project
    from governance.quality.service import run

    register = engines.SparkEngine.register
    with SparkCluster(workers=0) as cluster:

        def killing(self: engines.SparkEngine, project: object, dataset: str) -> None:
            if dataset == "silver.b":  # the session is open and silver.a validated: the server dies
                cluster.kill_connect_server()
            register(self, project, dataset)  # type: ignore[arg-type]

        monkeypatch.setattr(engines.SparkEngine, "register", killing)
        project = load_project(_project(tmp_path, cluster.url))  # (a token would make the client use TLS)
        t0 = time.monotonic()
        try:
            result = run(project, engine="spark")
        finally:
            close_remote()
        elapsed = time.monotonic() - t0
    suites = {s["suite_name"]: s for s in result.payload["suites"]}
    assert result.exit_code == 3
    assert suites["a"].get("error") is None and suites["a"]["success"]
    assert f"127.0.0.1:{cluster.port}" in suites["b"]["error"]  # lost during its registration
    assert f"Spark Connect at 127.0.0.1:{cluster.port} unreachable" in suites["c"]["error"]
    assert elapsed < 90  # a's validation, then seconds of bounded retries for b, a refused probe for c
