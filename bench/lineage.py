"""Lineage build on a generated project: N manifests with SQL (default 1,000) — build time and peak memory.

Usage: .venv/bin/python bench/lineage.py [--jobs N] [--seed S]

Generates a project in a temp folder: 50 bronze tables of 12 columns, then N jobs, each writing a new
silver or gold dataset from 1–3 earlier datasets with SQL of the shapes the SmartFlow jobs use (CTEs,
joins, GROUP BY aggregates, CASE, COALESCE, window functions, sha256 masking, SELECT *). Times:
loading the project, the whole `lineage build` service (graph, checks, propagation, metrics), and as a
baseline sqlglot parsing every statement alone. Peak memory: tracemalloc peak of the build and the
process's maximum RSS.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BRONZE = 50
COLS = [f"c{i}" for i in range(10)]


def _sql(
    rng: random.Random, out: str, inputs: list[str], columns: dict[str, list[str]]
) -> tuple[str, list[str]]:
    """One statement writing `out` from `inputs`; returns the SQL and the output columns."""
    a = inputs[0]
    shape = rng.randrange(5)
    acols = columns[a]

    def pick(pool: list[str], k: int) -> list[str]:
        got = rng.sample(pool, min(k, len(pool)))
        return [got[i % len(got)] for i in range(k)]

    if shape == 0 or len(inputs) == 1 and shape in (1, 2):
        picked = list(dict.fromkeys(pick(acols[1:], 6)))
        while len(picked) < 4:
            picked.append(picked[-1])
        sel = ", ".join(
            [f"t.{acols[0]} AS k"]
            + [f"lower(t.{c}) AS {c}_l" if i % 3 == 0 else f"t.{c}" for i, c in enumerate(picked)]
            + [
                f"sha256(t.{picked[0]}) AS h",
                f"CASE WHEN t.{picked[1]} > 0 THEN t.{picked[2]} ELSE 0 END AS cs",
            ]
        )
        outs = ["k"] + [f"{c}_l" if i % 3 == 0 else c for i, c in enumerate(picked)] + ["h", "cs"]
        return f"SELECT {sel} FROM {a} AS t WHERE t.{picked[3]} IS NOT NULL", outs
    if shape in (1, 2):
        b = inputs[1]
        bcols = columns[b]
        m1, m2 = pick(acols[1:], 2), pick(bcols[1:], 2)
        sql = (
            f"WITH agg AS (SELECT {bcols[0]} AS k, sum({m2[0]}) AS total, count(*) AS n, max({m2[1]}) AS mx "
            f"FROM {b} GROUP BY {bcols[0]}) "
            f"SELECT a.{acols[0]} AS k, a.{m1[0]}, coalesce(agg.total, 0) AS total, agg.n, agg.mx, "
            f"row_number() OVER (PARTITION BY a.{m1[1]} ORDER BY agg.total DESC) AS rnk "
            f"FROM {a} AS a LEFT JOIN agg ON agg.k = a.{acols[0]}"
        )
        return sql, ["k", m1[0], "total", "n", "mx", "rnk"]
    if shape == 3:
        g = list(dict.fromkeys(pick(acols[1:], 2)))
        sql = (
            f"SELECT {', '.join(g)}, count(*) AS n, avg({acols[0]}) AS avg_k, count(DISTINCT {acols[-1]}) AS d "
            f"FROM {a} GROUP BY {', '.join(g)} HAVING count(*) > 1"
        )
        return sql, [*g, "n", "avg_k", "d"]
    sql = f"SELECT * FROM {a} WHERE {acols[0]} IN (SELECT {columns[inputs[-1]][0]} FROM {inputs[-1]})"
    return sql, list(acols)


def generate(root: Path, jobs: int, seed: int) -> Path:
    from ruamel.yaml import YAML

    rng = random.Random(seed)
    yaml = YAML()
    columns: dict[str, list[str]] = {}
    datasets: dict[str, dict[str, object]] = {}
    for i in range(BRONZE):
        name = f"bronze.t{i:03d}"
        columns[name] = ["id", *COLS, "ts"]
        datasets[name] = {
            "format": "delta",
            "path": f"bronze/t{i:03d}",
            "layer": "bronze",
            "columns": {c: "VARCHAR" for c in columns[name]},
        }
    (root / "manifests").mkdir(parents=True)
    names = list(columns)
    for j in range(jobs):
        layer = "silver" if j < jobs // 2 else "gold"
        out = f"{layer}.d{j:04d}"
        inputs = rng.sample(names[-200:], min(len(names), rng.choice((1, 2, 2, 3))))
        sql, outs = _sql(rng, out, inputs, columns)
        columns[out] = list(dict.fromkeys(outs))
        datasets[out] = {
            "format": "delta",
            "path": f"{layer}/d{j:04d}",
            "layer": layer,
            "columns": {c: "VARCHAR" for c in columns[out]},
        }
        used = [d for d in inputs if re.search(rf"\b{re.escape(d)}\b", sql)]
        with (root / "manifests" / f"job{j:04d}.yaml").open("w") as fh:
            yaml.dump({"job": f"job{j:04d}", "kind": "sql", "inputs": used, "outputs": [out], "sql": sql}, fh)
        names.append(out)
    with (root / "smartflow.yaml").open("w") as fh:
        yaml.dump(
            {
                "version": 1,
                "project": "bench",
                "lake": {"root": "lake"},
                "state_dir": ".smartflow",
                "datasets": datasets,
            },
            fh,
        )
    return root / "smartflow.yaml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    import sqlglot

    from governance.lineage.service import build
    from governance.project import load_project

    with tempfile.TemporaryDirectory() as tmp:
        config = generate(Path(tmp), args.jobs, args.seed)
        t0 = time.perf_counter()
        project = load_project(config)
        t_load = time.perf_counter() - t0

        t0, c0 = time.perf_counter(), time.process_time()
        for m in project.manifests:
            sqlglot.parse(m.sql or "", read="duckdb")
        t_parse, c_parse = time.perf_counter() - t0, time.process_time() - c0

        t0, c0 = time.perf_counter(), time.process_time()
        result = build(project, use_lake=False)
        t_build, c_build = time.perf_counter() - t0, time.process_time() - c0

        tracemalloc.start()  # a second build, traced (tracing slows it down, so it is not timed)
        build(project, use_lake=False)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    s = result.payload["summary"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"lineage build of a generated project: {s['jobs']} jobs with SQL, {s['datasets']} datasets")
    print(
        f"  graph: {s['edges']} dataset edges, {s['column_edges']} column edges, coverage {s['coverage_percent']}%, "
        f"{s['errors']} errors, {s['warnings']} warnings, exit {result.exit_code}"
    )
    print(f"  load project (YAML + models)  {t_load:8.2f} s")
    print(
        f"  sqlglot parse only (baseline) {t_parse:8.2f} s wall {c_parse:8.2f} s CPU  "
        f"({1000 * c_parse / s['jobs']:.1f} ms CPU/job)"
    )
    print(
        f"  lineage build (full service)  {t_build:8.2f} s wall {c_build:8.2f} s CPU  "
        f"({1000 * c_build / s['jobs']:.1f} ms CPU/job, {c_build / c_parse:.1f}x parse-only)"
    )
    print(
        f"  peak memory of the build (tracemalloc) {peak / 2**20:8.1f} MiB; process max RSS {rss_mb:8.1f} MiB"
    )


if __name__ == "__main__":
    main()
