"""Catalog sync at scale against the local Purview Data Map server: 2,000 terms and 20,000 column
classifications — requests and wall time for the first apply and for a no-op re-apply.

Usage: .venv/bin/python bench/catalog.py [--terms 2000] [--datasets 200] [--columns 100] [--ops 1000]

Generates a project in a temp folder: D gold datasets of C columns each (D×C column classifications, one
label per column, the table labelled too), T glossary terms in a two-level hierarchy (one parent per 50
terms), each term assigned to one column and every tenth one related to its neighbour, 10 detection
rules. The server is the tests' Purview-faithful one (server-filled defaults, read-only projections,
paged lists) and validates every request and response against the REST contracts. Next to each run the
figures of the baseline are printed: the same bench at commit 55fc060, before the client followed
Purview's behaviour (it read whole glossaries with `/detailed` and had a simpler server). The
operations-per-second budget is raised (--ops) so the figures show the client's own cost (the server runs
in its own process); at the
default budget of 20 requests/s the time of an apply is at least requests / 20 seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

LABELS = ["PII", "Confidential", "Public"]
# (read, write) requests of the default-size run at commit 55fc060 (the baseline)
BASELINE = {"first apply": (9, 2589), "no-op re-apply": (8, 0)}


def write_project(root: Path, endpoint: str, terms: int, datasets: int, columns: int, ops: float) -> None:
    lines = ["version: 1", "project: bench", "lake: {root: lake}", "datasets:"]
    for d in range(datasets):
        lines += [
            f"  gold.t{d:04d}:",
            "    format: delta",
            f"    path: gold/t{d:04d}",
            "    layer: gold",
            "    columns:",
        ]
        lines += [f"      c{c:03d}: VARCHAR" for c in range(columns)]
    lines += [
        "catalog:",
        "  backend: purview",
        "  purview:",
        f"    endpoint: {endpoint}",
        "    storage_account: benchlake",
        "    container: lake",
        f"    operations_per_second: {ops}",
        "    retry_backoff: 0.05",
        "    contacts: {steward@bench.example: 22222222-2222-2222-2222-222222222222}",
    ]
    (root / "smartflow.yaml").write_text("\n".join(lines) + "\n")
    (root / "glossary").mkdir()
    (root / "classifications").mkdir()
    g = ["glossary: Bench", "terms:"]
    parents = [f"Area {p:03d}" for p in range((terms + 49) // 50)]
    for p in parents:
        g += [f"  - name: {p}", f"    definition: Business area {p}.", "    status: Approved"]
    for t in range(terms - len(parents)):
        d, c = divmod(t, columns)
        g += [
            f"  - name: Term {t:05d}",
            f"    definition: Definition of term {t}.",
            f"    parent: {parents[t // 50 % len(parents)]}",
            "    stewards: [steward@bench.example]",
            f"    assigned_to: [gold.t{d % datasets:04d}.c{c:03d}]",
        ]
        if t % 10 == 1:
            g.append(f"    related: [Term {t - 1:05d}]")
    (root / "glossary" / "bench.yaml").write_text("\n".join(g) + "\n")
    cl = ["labels:"] + [f"  - {{name: {lb}}}" for lb in LABELS] + ["rules:"]
    for r in range(10):
        cl += [f"  - name: BENCH.RULE_{r}", "    label: PII", f'    column_pattern: "(?i)c{r:03d}"']
    cl.append("assignments:")
    for d in range(datasets):
        cols = ", ".join(f"c{k:03d}: [{LABELS[(d + k) % 3]}]" for k in range(columns))
        cl += [f"  - dataset: gold.t{d:04d}", "    table: [Confidential]", f"    columns: {{{cols}}}"]
    (root / "classifications" / "bench.yaml").write_text("\n".join(cl) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--terms", type=int, default=2000)
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--columns", type=int, default=100)
    ap.add_argument("--ops", type=float, default=1000.0)
    args = ap.parse_args()

    import json
    import subprocess

    from servers.purview_server import TOKEN

    from governance.catalog.service import sync
    from governance.project import load_project

    os.environ["SMARTFLOW_AZURE_TOKEN"] = TOKEN
    # the server runs in its own process, so the wall times are the client's (plus the server's answers)
    server = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "servers" / "purview_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    endpoint = server.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_project(root, endpoint, args.terms, args.datasets, args.columns, args.ops)
            t0 = time.perf_counter()
            project = load_project(root / "smartflow.yaml")
            print(f"project load (YAML, typed): {time.perf_counter() - t0:.1f} s, not counted below")
            objects = {
                "terms": len(project.terms),
                "term assignments": sum(len(t.assigned_to) for t in project.terms),
                "column classifications": sum(
                    len(v) for a in project.assignments for v in a.columns.values()
                ),
                "table classifications": sum(len(a.table) for a in project.assignments),
                "entities": args.datasets * (args.columns + 1),
                "rules": len(project.rules),
            }
            total = sum(objects.values())
            print("objects: " + ", ".join(f"{v:,} {k}" for k, v in objects.items()) + f" (total {total:,})")
            print(
                f"{'run':<22}{'read':>7}{'write':>7}{'requests':>10}{'per 100 obj':>13}{'wall s':>9}"
                f"{'baseline r/w':>15}{'x baseline':>12}"
            )
            for label in ("first apply", "no-op re-apply"):
                reads = writes = 0
                t0 = time.perf_counter()
                for kind in ("classifications", "glossary"):
                    result = sync(project, kind, apply=True)
                    reads += result.payload["requests"]["read"]
                    writes += result.payload["requests"]["write"]
                wall = time.perf_counter() - t0
                n = reads + writes
                base_r, base_w = BASELINE[label]
                same_size = (args.terms, args.datasets, args.columns) == (2000, 200, 100)
                ratio = f"{n / (base_r + base_w):.2f}" if same_size else "n/a"
                print(
                    f"{label:<22}{reads:>7}{writes:>7}{n:>10}{100 * n / total:>13.3f}{wall:>9.1f}"
                    f"{f'{base_r}/{base_w}':>15}{ratio:>12}"
                )
    finally:
        server.stdin.close()
        stats = json.loads(server.stdout.readline() or "{}")
        server.wait(timeout=60)
    print(
        f"server: {stats.get('entities', 0):,} entities, {stats.get('terms', 0):,} terms, "
        f"{stats.get('assignments', 0):,} assignments, duplicates: {stats.get('duplicate_entities')} entities, "
        f"{stats.get('duplicate_terms')} terms; contract errors: {stats.get('contract_errors')}"
    )
    if stats.get("contract_errors") or stats.get("duplicate_entities") or stats.get("duplicate_terms"):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
