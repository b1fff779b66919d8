"""Rows per second of a full `quality run` (every suite) on a Spark standalone cluster through Spark Connect,
with 1 and 2 workers, against DuckDB on the same machine and the same demo lake.

    .venv/bin/python bench/spark.py                 # demo lake at scale 1 (built once into bench/out/)
    .venv/bin/python bench/spark.py --scale 10 --workers 1,2 --worker-memory 2g --timeout 14400

Each run is the real CLI in its own process (`quality run --engine … --output json`) on a fresh state
directory (so every partition is scanned), the Spark ones from a process with no JVM (JAVA_HOME points
nowhere, no java on PATH). The cluster (tests/spark_cluster.py: master, workers of 1 core / 1 GB, a
Connect server) is started per worker count and warmed up with one query before timing. Figures: wall time
of the process, the sum of the suites' own `seconds`, rows validated (sum over suites), rows/s, and the
ratio to DuckDB. Results are compared too: every expectation's success and unexpected_count must agree.
Each contender's line is printed as soon as it is measured, with the load average then (a long run on a
shared machine still leaves figures if it is stopped); `--per-query` adds the per-query times of the
transactions suite (one more full run of it on 1 worker).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))


def _project(lake: Path, dst: Path) -> Path:
    from helpers import copy_project

    config = copy_project(dst)
    text = config.read_text().replace("lake: {root: lake}", f"lake: {{root: '{lake}'}}", 1)
    config.write_text(text)
    return config


def run_once(lake: Path, engine: str, env: dict[str, str], timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sfg-bench-spark-") as tmp:
        config = _project(lake, Path(tmp))
        cli = [
            str(Path(sys.executable).with_name("smartflow-gov")),
            "--config",
            str(config),
            "--output",
            "json",
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*cli, "quality", "run", "--engine", engine],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=timeout,
        )
        wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{engine}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    payload = json.loads(proc.stdout)
    suites = payload["suites"]
    return {
        "wall": wall,
        "validate": sum(s.get("seconds") or 0 for s in suites),
        "rows": sum(s.get("rows_validated") or 0 for s in suites),
        "queries": sum(s.get("queries") or 0 for s in suites),
        "verdicts": {
            (s["suite_name"], i): (r["success"], r["result"].get("unexpected_count"))
            for s in suites
            for i, r in enumerate(s["results"])
        },
    }


def query_times(config: Path, engine: str, suite: str = "silver_transactions") -> list[tuple[str, float]]:
    """Seconds of each query of one full run of `suite` (the Spark session comes from SPARK_REMOTE): the
    counting scan and the extra query (one fused statement when both run), the samples query."""
    from governance.lake import engines
    from governance.project import load_project
    from governance.quality.service import run

    times: list[tuple[str, float]] = []
    execute = engines.Engine.execute

    def timed(self: engines.Engine, expr: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(self, expr)
        finally:
            text = self.sql(expr)
            extra, scan = "AS `x0`" in text, "AS `m0`" in text
            kind = (
                "samples"
                if "__f" in text
                else "scan+extra"
                if extra and scan
                else "extra"
                if extra
                else "scan"
            )
            times.append((kind, time.perf_counter() - t0))

    project = load_project(config)
    for s in project.suites:
        s.incremental = None  # a full run
    engines.Engine.execute = timed  # type: ignore[method-assign]
    try:
        run(project, suites=[suite], engine=engine)
    finally:
        engines.Engine.execute = execute  # type: ignore[method-assign]
    return times


def best(lake: Path, engine: str, env: dict[str, str], repeat: int, timeout: float) -> dict[str, Any]:
    runs = [run_once(lake, engine, env, timeout) for _ in range(repeat)]
    return min(runs, key=lambda r: r["validate"])


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def show(name: str, r: dict[str, Any], base: dict[str, Any]) -> None:
    rate = r["rows"] / r["validate"] if r["validate"] else 0.0
    ratio = r["validate"] / base["validate"] if base["validate"] else 0.0
    print(
        f"{name:<18} {r['wall']:>8.1f} {r['validate']:>11.1f} {r['rows']:>10,} {rate:>10,.0f} "
        f"{r['queries']:>8} {ratio:>9.2f}   ({load()})",
        flush=True,
    )
    differ = [k for k, v in r["verdicts"].items() if base["verdicts"].get(k) != v]
    if differ:
        print(f"  {name}: {len(differ)} verdicts differ from duckdb: {differ[:5]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (best is kept)")
    parser.add_argument("--worker-memory", default="1g", help="memory of each worker (1 core each)")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds allowed per run")
    parser.add_argument("--per-query", action="store_true", help="time each query of the transactions suite")
    parser.add_argument("--remote", help="a running Spark Connect server (sc://…) instead of local clusters")
    args = parser.parse_args()

    from quality import demo_config
    from spark_cluster import SparkCluster, no_jvm_env

    lake = Path(demo_config(args.scale)).parent / "lake"
    print(f"demo lake scale {args.scale:g}; full quality run, every suite; best of {args.repeat}; {load()}")
    print(
        f"{'contender':<18} {'wall s':>8} {'validate s':>11} {'rows':>10} {'rows/s':>10} {'queries':>8} {'× duckdb':>9}",
        flush=True,
    )
    base = best(lake, "duckdb", {}, args.repeat, args.timeout)
    show("duckdb", base, base)
    if args.remote:  # a running server instead of local clusters; it must read the lake's folder
        show(
            "spark, --remote",
            best(lake, "spark", no_jvm_env(SPARK_REMOTE=args.remote), args.repeat, args.timeout),
            base,
        )
        return
    executor = f"{max(512, int(_megabytes(args.worker_memory) * 0.75))}m"
    for n in [int(w) for w in args.workers.split(",") if w]:
        with SparkCluster(workers=n, worker_memory=args.worker_memory, executor_memory=executor) as cluster:
            from governance.lake.spark_session import close_remote, connect

            connect(cluster.url).range(0, 2_000_000, 1, 8).selectExpr("sum(id)").collect()  # executors warm
            env = no_jvm_env(SPARK_REMOTE=cluster.url)
            name = f"spark, {n} worker{'s' if n > 1 else ''}"
            show(name, best(lake, "spark", env, args.repeat, args.timeout), base)
            if n == 1 and args.per_query:
                os.environ["SPARK_REMOTE"] = cluster.url
                with tempfile.TemporaryDirectory(prefix="sfg-bench-spark-") as tmp:
                    times = query_times(_project(lake, Path(tmp)), "spark")
                del os.environ["SPARK_REMOTE"]
                shown = ", ".join(f"{kind} {sec:.1f} s" for kind, sec in times)
                print(f"silver_transactions on spark (1 worker), full run, per query: {shown}", flush=True)
            close_remote()


def _megabytes(size: str) -> int:
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    return int(float(size[:-1]) * units[size[-1].lower()]) if size[-1].lower() in units else int(size)


if __name__ == "__main__":
    main()
