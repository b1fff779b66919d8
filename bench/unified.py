"""Unified Catalog sync at scale against the local contract server: 50 governance domains, 2,000 terms,
200 data products and 300 critical data elements — requests and wall time of the first apply (sync-glossary
then sync-domains) and of a no-op re-apply, at the default request budget.

Usage: .venv/bin/python bench/unified.py [--domains 50] [--terms 2000] [--products 200] [--cdes 300]
                                          [--ops 20] [--page 100]

Generates a project in a temp folder: one domain file per domain (a tree: every tenth domain is the parent
of the next nine), terms spread over the domains with a two-level hierarchy inside each domain, each data
product on its own dataset and two terms, each CDE on two columns and one term; every tenth term has a
related term (a relationship both ways) and a free-text synonym. The server runs in its own
process, validates every request and response against CatalogApiService.json and pages lists by --page.
`--ops` is the request budget (catalog.purview.operations_per_second, default 20): at that budget an apply
takes at least requests / ops seconds, which is what a real tenant would see.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def write_project(root: Path, endpoint: str, a: argparse.Namespace) -> None:
    lines = ["version: 1", "project: bench", "lake: {root: lake}", "datasets:"]
    for p in range(a.products):
        lines += [
            f"  gold.p{p:04d}:",
            "    format: delta",
            f"    path: gold/p{p:04d}",
            "    layer: gold",
            "    columns: {id: BIGINT, amount: DOUBLE}",
        ]
    lines += [
        "catalog:",
        "  backend: purview",
        "  purview:",
        f"    endpoint: {endpoint}",
        "    glossary: unified",
        f"    operations_per_second: {a.ops}",
        "    retry_backoff: 0.05",
        "    contacts: {steward@bench.example: 22222222-2222-4222-8222-222222222222}",
        f"    unified_catalog: {{endpoint: {endpoint}}}",
    ]
    (root / "smartflow.yaml").write_text("\n".join(lines) + "\n")
    (root / "glossary").mkdir()
    (root / "domains").mkdir()
    per = a.terms // a.domains
    for d in range(a.domains):
        g = [
            "glossary: Bench",
            f"domain: D{d:03d}",
            "terms:",
            f"  - name: T{d:03d}-root",
            f"    definition: Root term of domain {d}.",
            "    status: Approved",
            "    stewards: [steward@bench.example]",
        ]
        for t in range(1, per):
            g += [
                f"  - name: T{d:03d}-{t:03d}",
                f"    definition: Term {t} of domain {d}.",
                "    status: Approved",
                f"    parent: T{d:03d}-root",
            ]
            if t % 10 == 0:  # every tenth term: a related term and a free-text synonym
                g += [f"    synonyms: [Alias {d}-{t}]", f"    related: [T{d:03d}-{t - 1:03d}]"]
        (root / "glossary" / f"d{d:03d}.yaml").write_text("\n".join(g) + "\n")
    for d in range(a.domains):
        doc = [
            f"domain: D{d:03d}",
            "type: DataDomain",
            f"description: Domain {d}.",
            "owners: [steward@bench.example]",
        ]
        if d % 10:
            doc.append(f"parent: D{d - d % 10:03d}")
        prods = [p for p in range(a.products) if p % a.domains == d]
        cdes = [c for c in range(a.cdes) if c % a.domains == d]
        if prods:
            doc.append("data_products:")
            for p in prods:
                doc += [
                    f"  - name: P{p:04d}",
                    f"    description: Product {p}.",
                    "    update_frequency: Daily",
                    "    owners: [steward@bench.example]",
                    f"    datasets: [gold.p{p:04d}]",
                    f"    terms: [T{d:03d}-root, T{d:03d}-001]",
                ]
        if cdes:
            doc.append("critical_data_elements:")
            for c in cdes:
                ds = f"gold.p{c % a.products:04d}"
                doc += [
                    f"  - name: C{c:04d}",
                    "    data_type: NUMBER",
                    f"    description: Element {c}.",
                    f"    columns: [{ds}.id, {ds}.amount]",
                    f"    terms: [T{d:03d}-002]",
                ]
        (root / "domains" / f"d{d:03d}.yaml").write_text("\n".join(doc) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--domains", type=int, default=50)
    ap.add_argument("--terms", type=int, default=2000)
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--cdes", type=int, default=300)
    ap.add_argument("--ops", type=float, default=20.0)
    ap.add_argument("--page", type=int, default=100)
    args = ap.parse_args()

    from servers.unified_catalog_server import TOKEN

    from governance.catalog.service import sync
    from governance.catalog.unified.service import sync_domains
    from governance.project import load_project

    os.environ["SMARTFLOW_AZURE_TOKEN"] = TOKEN
    assets = [
        f"gold.p{p:04d}=https://bench.dfs.core.windows.net/lake/gold/p{p:04d}" for p in range(args.products)
    ]
    server = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "servers" / "unified_catalog_server.py"),
            str(args.page),
            *assets,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    endpoint = server.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_project(root, endpoint, args)
            project = load_project(root / "smartflow.yaml")
            print(
                f"objects: {len(project.domain_files)} domains, {len(project.terms):,} terms, {args.products} data "
                f"products, {args.cdes} CDEs; request budget {args.ops:g}/s, page size {args.page}"
            )
            print(f"{'run':<18}{'step':<16}{'changes':>8}{'read':>7}{'write':>7}{'wall s':>9}{'req/s':>8}")
            runs = (("first apply", True), ("no-op re-apply", True), ("plan (reads all)", False))
            for label, apply in runs:
                for step in ("sync-glossary", "sync-domains"):
                    t0 = time.perf_counter()
                    if step == "sync-glossary":
                        result = sync(project, "glossary", apply=apply)
                    else:
                        result = sync_domains(project, apply=apply)
                    wall = time.perf_counter() - t0
                    r, w = result.payload["requests"]["read"], result.payload["requests"]["write"]
                    n = result.extra.get("changes", 0)
                    print(f"{label:<18}{step:<16}{n:>8}{r:>7}{w:>7}{wall:>9.1f}{(r + w) / wall:>8.1f}")
    finally:
        server.stdin.close()
        stats = json.loads(server.stdout.readline() or "{}")
        server.wait(timeout=60)
    print("server: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    duplicates = any(v for k, v in stats.items() if k.startswith("duplicate_"))
    return 1 if stats.get("contract_errors") or duplicates else 0


if __name__ == "__main__":
    sys.exit(main())
