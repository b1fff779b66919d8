"""Conformance with Great Expectations' own test definitions: pass / fail / skip per engine and expectation.

.venv/bin/python bench/conformance.py [--engine duckdb|postgres|spark ...] [--failures]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from harness.gx_conformance import Case, run_backend, summary  # noqa: E402

GX_TESTS = REPO.parent / "shared" / "conformance" / "gx-test-definitions"
PG_URL = os.environ.get("SMARTFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", action="append", choices=["duckdb", "postgres", "spark"])
    ap.add_argument("--failures", action="store_true", help="list every failing case")
    args = ap.parse_args()
    engines = args.engine or ["duckdb", "postgres", "spark"]
    results: dict[str, list[Case]] = {}
    for engine in engines:
        spark = None
        if engine == "spark":
            from governance.lake.engines import local_spark

            spark = local_spark()
        results[engine] = run_backend(GX_TESTS, engine, PG_URL, spark)
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: {e: [0, 0, 0] for e in engines})
    reasons: dict[str, str] = {}
    for engine, cases in results.items():
        for c in cases:
            table[c.expectation][engine][["pass", "fail", "skip"].index(c.verdict)] += 1
            if c.verdict == "skip" and c.reason != "not for this backend":
                reasons[c.expectation] = c.reason
    head = f"{'expectation':66}" + "".join(f"{e + ' p/f/s':>16}" for e in engines)
    print(head)
    for exp_name in sorted(table):
        print(f"{exp_name:66}" + "".join(f"{'/'.join(map(str, table[exp_name][e])):>16}" for e in engines))
    print()
    for engine, cases in results.items():
        s = summary(cases)
        print(
            f"{engine:10} pass {s['pass']:4}  fail {s['fail']:4}  skip {s['skip']:4}  "
            f"pass rate of applicable {s['rate']:.1f}%"
        )
    if reasons:
        print("\nunsupported (skipped):")
        for name, why in sorted(reasons.items()):
            print(f"  {name}: {why}")
    if args.failures:
        print("\nfailures:")
        for engine, cases in results.items():
            for c in cases:
                if c.verdict == "fail":
                    print(f"  [{engine}] {c.expectation} #{c.dataset_index} {c.title}: {c.reason}")


if __name__ == "__main__":
    main()
