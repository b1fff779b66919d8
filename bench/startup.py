"""Start-up time of the CLI: `smartflow-gov --help` against a bare `python -c pass`.

    .venv/bin/python bench/startup.py [--runs 21]

Every command module is imported on every call, so a heavy import at module level in any of them
(great_expectations, pyspark, azure SDKs, duckdb, deltalake, sqlglot) shows up here first. Also times
`validate --no-data` on the repo project, the command users run most often while editing files.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("smartflow-gov")


def median_seconds(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median and minimum wall time of `runs` runs (one warm-up run first, not counted)."""
    subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

    cases = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "python -c 'import click, pydantic, ruamel.yaml'": [
            sys.executable,
            "-c",
            "import click, pydantic, ruamel.yaml",
        ],
        "smartflow-gov --help": [str(EXE), "--help"],
        "smartflow-gov validate --no-data": [str(EXE), "validate", "--no-data"],
    }
    results = {name: median_seconds(cmd, args.runs) for name, cmd in cases.items()}
    base = results["python -c pass (baseline)"][0]
    print(
        f"start-up time, median of {args.runs} runs (machine: {sys.platform}, python {sys.version.split()[0]})"
    )
    print(f"{'command':<50} {'median ms':>10} {'min ms':>8} {'x baseline':>11}")
    for name, (med, low) in results.items():
        print(f"{name:<50} {med * 1000:>10.1f} {low * 1000:>8.1f} {med / base:>11.1f}")
    help_med = results["smartflow-gov --help"][0]
    print(
        f"\n--help costs {1000 * (help_med - base):.0f} ms over a bare interpreter ({help_med / base:.1f}x)"
    )


if __name__ == "__main__":
    main()
