"""Data contracts and Delta expectations on the demo lake: what they cost next to `quality run`.

    .venv/bin/python bench/contracts.py [--scale 1] [--repeat 3]

Builds (once) the repo's project with a demo lake at --scale in bench/out/, then measures in one process,
median of --repeat runs:
  - `contract export` of every dataset, and the `contract import` plan of all of them (a no-op);
  - `contract test` of the exported contract of silver.transactions and gold.customer360_view against
    `quality run` of the same suite (baseline): wall time, queries, results;
  - `quality enforce` plan of the same suites (the violation counts run through deltalake's DataFusion).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

SUITES = {"silver.transactions": "silver_transactions", "gold.customer360_view": "gold_customer360_view"}


def demo_config(scale: float) -> Path:
    from helpers import copy_project

    root = REPO / "bench" / "out" / f"contracts-scale-{scale:g}"
    if not (root / "lake" / "_demo" / "defects.json").exists():
        print(f"building the demo lake at scale {scale:g} in {root} (once) …", file=sys.stderr, flush=True)
        copy_project(root)
        cli = [str(Path(sys.executable).with_name("smartflow-gov")), "--config", str(root / "smartflow.yaml")]
        subprocess.run([*cli, "demo", "init", "--scale", f"{scale:g}", "--seed", "7", "--force"], check=True)
    return root / "smartflow.yaml"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    config = demo_config(args.scale)

    from governance.contracts.export import export
    from governance.contracts.importer import run_import
    from governance.contracts.testing import test_contract
    from governance.project import load_project
    from governance.quality.enforce import enforce
    from governance.quality.service import run, select_suites

    project = load_project(config)
    # the baseline is a full run: no incremental state carried between repeats
    project.suites = [s.model_copy(update={"incremental": None}) for s in project.suites]
    out = Path(tempfile.mkdtemp(prefix="sfg-contracts-"))
    t_export, written = timed(lambda: export(project, None, out), args.repeat)
    files = sorted(out.glob("*.odcs.yaml"))
    t_import, plan = timed(lambda: run_import(project, files, None, False), args.repeat)
    print(f"scale {args.scale:g}, median of {args.repeat}")
    print(f"contract export, {len(written['contracts'])} datasets: {t_export:.3f} s")
    print(
        f"contract import plan, {len(files)} contracts: {t_import:.3f} s, changes: {len(plan.payload['changes'])}"
    )
    print()
    print(
        "| dataset | quality run s | contract test s | ratio | queries (run / test) | results (run / test) |"
    )
    print("|---|---:|---:|---:|---|---|")
    for dataset, suite in SUITES.items():
        t_run, base = timed(lambda s=suite: run(project, suites=[s]), args.repeat)
        contract = out / f"{dataset}.odcs.yaml"
        t_test, (tested, _) = timed(lambda c=contract: test_contract(project, c, None), args.repeat)
        b = base.payload["suites"][0]
        print(
            f"| {dataset} | {t_run:.3f} | {t_test:.3f} | {t_test / t_run:.2f} | {b['queries']} / {tested['queries']} "
            f"| {len(b['results'])} / {len(tested['results'])} |"
        )
    chosen = select_suites(project, list(SUITES.values()), None)
    t_enforce, planned = timed(lambda: enforce(project, chosen, apply=False, prune=False), args.repeat)
    print()
    print(
        f"quality enforce plan of {len(chosen)} suites: {t_enforce:.3f} s, "
        f"{planned.payload['summary']['create']} constraints, {planned.payload['violations']} violating rows"
    )


if __name__ == "__main__":
    main()
