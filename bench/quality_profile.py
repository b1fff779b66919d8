"""Where a first `quality run` spends its time: wall and CPU seconds per dataset and per query.

    .venv/bin/python bench/quality_profile.py --config /work/scale100/smartflow.yaml [--dataset D ...]
    .venv/bin/python bench/quality_profile.py            # builds a scale-1 demo lake in a temp dir

The run has no stored state (its state_dir is a temp dir, so incremental suites scan every partition, as
in a first nightly) and leaves the project's own state alone. CPU is user + system of this process, DuckDB's
threads included: on a shared machine it is steadier than wall time. Each query line shows the first 160
characters of its SQL; the slowest queries are listed again at the end.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def profile(config: Path, datasets: list[str] | None) -> None:
    from governance.lake import engines
    from governance.project import load_project
    from governance.quality import service

    queries: list[tuple[float, float, str, str]] = []
    current = [""]
    run_sql = engines.DuckDBEngine._run_expr  # with the key hashes it sorts in NumPy before the query

    def timed_run(self: engines.DuckDBEngine, expr: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        wall, cpu = time.perf_counter(), _cpu()
        out = run_sql(self, expr, sql)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        queries.append((cpu, wall, current[0], sql))
        print(f"  query  wall {wall:7.2f}  cpu {cpu:7.2f}  {' '.join(sql.split())[:160]}", flush=True)
        return out

    run_dataset = service._run_dataset

    def timed_dataset(project: Any, dataset: str, *args: Any, **kwargs: Any) -> Any:
        current[0] = dataset
        print(dataset, flush=True)
        wall, cpu = time.perf_counter(), _cpu()
        out = run_dataset(project, dataset, *args, **kwargs)
        print(f"  total  wall {time.perf_counter() - wall:7.2f}  cpu {_cpu() - cpu:7.2f}", flush=True)
        return out

    engines.DuckDBEngine._run_expr = timed_run  # type: ignore[method-assign]
    service._run_dataset = timed_dataset
    project = load_project(config)
    with tempfile.TemporaryDirectory(prefix="sfg-qprof-") as state:
        project.config.state_dir = state
        wall, cpu = time.perf_counter(), _cpu()
        result = service.run(project, datasets=datasets, engine="duckdb")
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    print(f"\nquality run: wall {wall:.2f} s, cpu {cpu:.2f} s, exit {result.exit_code}")
    print("slowest queries (cpu s, wall s, dataset):")
    for q_cpu, q_wall, dataset, sql in sorted(queries, reverse=True)[:8]:
        print(f"  {q_cpu:7.2f} {q_wall:7.2f}  {dataset}: {' '.join(sql.split())[:100]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--config", type=Path, help="smartflow.yaml of a project with its lake (default: scale-1 demo)"
    )
    ap.add_argument("--dataset", action="append", help="only this dataset's suites (repeatable)")
    args = ap.parse_args()
    if args.config is not None:
        profile(args.config, args.dataset)
        return
    from helpers import copy_project

    with tempfile.TemporaryDirectory(prefix="sfg-qprof-lake-") as tmp:
        config = copy_project(Path(tmp))
        exe = Path(sys.executable).with_name("smartflow-gov")
        subprocess.run([str(exe), "--config", str(config), "demo", "init", "--scale", "1"], check=True,
                       capture_output=True)  # fmt: skip
        profile(config, args.dataset)


if __name__ == "__main__":
    main()
