"""Benchmark of `quality run` on the silver.transactions suite, against a floor and other tools.

    .venv/bin/python bench/quality.py --config /tmp/sfg-bench/p100/smartflow.yaml [--skip gx,soda]
    .venv/bin/python bench/quality.py --scale 10     # builds (once) and uses a demo lake in bench/out/

Contenders, each in its own process (wall time and peak RSS measured per process, via wait4):
  (a) ours     — governance.quality.service.run(engine="duckdb") on the Delta table (full run), with
                 unexpected samples of failing expectations ("ours") and counts only ("ours-counts",
                 sample_size 0: exactly what the floor computes);
  (b) floor    — ONE hand-written fused DuckDB query computing the same counts on the same files, read
                 the way our engine registers them ("floor"), and as deltalake's Arrow datasets
                 ("floor-arrow", how our engine read Delta before it scanned the snapshot's files itself);
  (c) gx       — Great Expectations 1.x (pandas engine; its DuckDB path is broken) on the same data;
  (d) soda     — Soda Core (soda-core-duckdb, side venv /tmp/soda-venv) on the same Parquet files.
Also (e) ours-incremental: a run after one new partition (only that partition is scanned; states merge).
Times include process start and imports ("total") and the validation alone ("validate").
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
SUITE = "silver_transactions"
SODA_PY = Path(os.environ.get("SODA_VENV", "/tmp/soda-venv")) / "bin" / "python"
PAYMENT = ["credit_card", "debit_card", "paypal", "bank_transfer", "apple_pay", "google_pay", "cash"]
REGIONS = ["north", "south", "east", "west", "central"]


# ---------------------------------------------------------------------------------------- children
def child_ours(config: str, samples: bool = True) -> dict[str, Any]:
    t0 = time.perf_counter()
    import deltalake  # noqa: F401  (library imports outside "validate", as for the floor)
    import duckdb  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    import governance.lake.engines  # noqa: F401
    import governance.quality.runner  # noqa: F401
    from governance.project import load_project
    from governance.quality.service import run

    project = load_project(config)
    for s in project.suites:
        if s.suite == SUITE:
            s.incremental = None  # a full run: every partition scanned
    if not samples:
        project.config.quality.sample_size = 0  # counts only: the same output as the floor
    t1 = time.perf_counter()
    result = run(project, suites=[SUITE], engine="duckdb")
    t2 = time.perf_counter()
    suite = result.payload["suites"][0]
    counts = {
        r["expectation_config"]["type"] + ":" + str(r["expectation_config"]["kwargs"].get("column")): r[
            "result"
        ].get("unexpected_count", r["result"].get("observed_value"))
        for r in suite["results"]
    }
    return {
        "validate": t2 - t1,
        "total": t2 - t0,
        "queries": suite["queries"],
        "rows": suite["rows_validated"],
        "counts": counts,
    }


def child_incremental(config: str) -> dict[str, Any]:
    """Seed the partition states with a first run, then time the run after one partition changed (and the
    run after it, with nothing changed: carried verdicts)."""
    from governance.project import load_project
    from governance.quality.incremental import state_path
    from governance.quality.service import run

    project = load_project(config)
    path = state_path(project, SUITE)
    path.unlink(missing_ok=True)
    first = run(project, suites=[SUITE], engine="duckdb").payload["suites"][0]
    state = json.loads(path.read_text())
    last = sorted(state["fingerprints"])[-1]
    state["fingerprints"][last] = "changed"  # as if the newest day had been rewritten
    path.write_text(json.dumps(state))
    t1 = time.perf_counter()
    second = run(project, suites=[SUITE], engine="duckdb").payload["suites"][0]
    t2 = time.perf_counter()
    third = run(project, suites=[SUITE], engine="duckdb").payload["suites"][0]
    t3 = time.perf_counter()

    def verdicts(suite: dict[str, Any]) -> list[tuple[bool, Any]]:
        return [(r["success"], r["result"].get("unexpected_count")) for r in suite["results"]]

    return {
        "validate": t2 - t1,
        "total": t2 - t1,
        "queries": second["queries"],
        "rows": second["rows_validated"],
        "first_queries": first["queries"],
        "changed": second.get("incremental", {}).get("changed"),
        "carried_seconds": t3 - t2,
        "same_verdicts": verdicts(first) == verdicts(second) == verdicts(third),
    }


FLOOR_SQL = """
WITH s AS (
  SELECT count(*) AS n,
    count_if(transaction_id IS NULL) AS null_txn,
    count_if(NOT regexp_matches(transaction_id, '^T[0-9]{12}$')) AS bad_txn,
    count_if(customer_id IS NULL) AS null_cust,
    count_if(amount IS NULL) AS null_amount,
    count_if(amount < 0 OR amount > 100000) AS bad_amount,
    avg(amount) AS mean_amount,
    count_if(payment_method IS NULL) AS null_pm,
    count_if(payment_method NOT IN (PAYMENT)) AS bad_pm,
    count_if(NOT regexp_matches(product_id, '^P-[0-9]{5}$')) AS bad_product,
    count_if(region NOT IN (REGIONS)) AS bad_region,
    count_if(transaction_date IS NULL) AS null_date,
    count_if(business_date IS NULL) AS null_bdate,
    max(transaction_date) AS max_date
  FROM tx),
d AS (SELECT sum(c) AS dup_txn FROM (SELECT count(*) AS c FROM tx WHERE transaction_id IS NOT NULL
                                     GROUP BY transaction_id HAVING count(*) > 1)),
o AS (SELECT count(*) AS orphans FROM tx WHERE customer_id IS NOT NULL
      AND customer_id NOT IN (SELECT customer_id FROM cust WHERE customer_id IS NOT NULL))
SELECT * FROM s, d, o
"""


def _quoted(values: list[str]) -> str:
    return ", ".join("'" + v + "'" for v in values)


def child_floor(config: str, arrow: bool = False) -> dict[str, Any]:
    """The floor reads the tables exactly as our engine registers them (DuckDB's Parquet reader over the
    Delta snapshot's files), so the ratio measures the compiled SQL alone; `arrow` reads them as Arrow
    datasets from deltalake instead (how our engine read them before: the reading gain, separately)."""
    t0 = time.perf_counter()
    import duckdb

    from governance.lake import resolve
    from governance.lake.engines import DuckDBEngine
    from governance.project import load_project

    project = load_project(config)
    sql = FLOOR_SQL.replace("PAYMENT", _quoted(PAYMENT)).replace("REGIONS", _quoted(REGIONS))
    t1 = time.perf_counter()  # opening the tables counts, as it does in ours
    if arrow:
        con = duckdb.connect()
        con.register("tx", resolve.arrow_dataset(resolve.locate(project, "silver.transactions")))
        con.register("cust", resolve.arrow_dataset(resolve.locate(project, "silver.customers")))
    else:
        engine = DuckDBEngine(project, ["silver.transactions", "silver.customers"])
        con = engine.con
        for view, dataset in (("tx", "silver.transactions"), ("cust", "silver.customers")):
            relation = engine.relation(dataset).sql(dialect="duckdb")
            con.execute(f"CREATE VIEW {view} AS SELECT * FROM {relation}")
    cur = con.execute(sql)
    fetched = cur.fetchone() or ()
    row = dict(zip([d[0] for d in cur.description], fetched, strict=True))
    t2 = time.perf_counter()
    return {
        "validate": t2 - t1,
        "total": t2 - t0,
        "queries": 1,
        "rows": row["n"],
        "counts": {k: str(v) for k, v in row.items()},
    }


def child_gx(config: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations  # noqa: F401  (import cost is part of GX's cost)

    from governance.project import load_project
    from governance.quality.engines.gx import load_frame, validate_frame
    from governance.quality.runner import Spec

    project = load_project(config)
    suite = next(s for s in project.suites if s.suite == SUITE)
    specs = [Spec(e.type, dict(e.kwargs), e.severity) for e in suite.expectations]
    t1 = time.perf_counter()
    frame = load_frame(project, "silver.transactions")
    t_load = time.perf_counter()
    outcomes = validate_frame(frame, specs, project.pii_columns("silver.transactions"))
    t2 = time.perf_counter()
    evaluated = [o for o in outcomes if not o.unsupported]
    return {
        "validate": t2 - t1,
        "total": t2 - t0,
        "load": t_load - t1,
        "rows": len(frame),
        "evaluated": len(evaluated),
        "queries": None,
        "counts": {
            o.spec.type + ":" + str(o.spec.kwargs.get("column")): o.result.get("unexpected_count")
            for o in evaluated
        },
    }


SODA_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import duckdb
from soda.scan import Scan
files = json.load(open(sys.argv[1]))
con = duckdb.connect()
for name, paths in files.items():
    listing = ", ".join("'" + p + "'" for p in paths)
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listing}], hive_partitioning = true)")
checks = open(sys.argv[2]).read()
t1 = time.perf_counter()
scan = Scan()
scan.set_data_source_name("duck")
scan.add_duckdb_connection(duckdb_connection=con, data_source_name="duck")
scan.add_sodacl_yaml_str(checks)
scan.set_scan_definition_name("bench")
scan.execute()
t2 = time.perf_counter()
res = scan.get_scan_results()
print(json.dumps({"validate": t2 - t1, "total": t2 - t0, "checks": len(res.get("checks", [])),
                  "queries": len(res.get("queries", []) or []) or None,
                  "outcomes": [c.get("outcome") for c in res.get("checks", [])]}))
"""

SODA_CHECKS = f"""
checks for transactions:
  - row_count > 0
  - missing_count(transaction_id) = 0
  - duplicate_count(transaction_id) = 0
  - invalid_count(transaction_id) = 0:
      valid regex: ^T[0-9]{{12}}$
  - missing_count(customer_id) = 0
  - values in (customer_id) must exist in customers (customer_id)
  - missing_count(amount) = 0
  - invalid_count(amount) = 0:
      valid min: 0
      valid max: 100000
  - avg(amount) between 1 and 5000
  - missing_count(payment_method) = 0
  - invalid_count(payment_method) = 0:
      valid values: {json.dumps(PAYMENT)}
  - invalid_percent(product_id) < 0.1 %:
      valid regex: ^P-[0-9]{{5}}$
  - invalid_percent(region) < 0.1 %:
      valid values: {json.dumps(REGIONS)}
  - missing_count(transaction_date) = 0
  - missing_count(business_date) = 0
  - freshness(transaction_date) < 26h
"""


def soda_command(config: str, workdir: Path) -> list[str] | None:
    if not SODA_PY.exists():
        return None
    from governance.lake import resolve
    from governance.project import load_project

    project = load_project(config)
    files = {
        "transactions": resolve.delta_table(resolve.locate(project, "silver.transactions")).file_uris(),
        "customers": resolve.delta_table(resolve.locate(project, "silver.customers")).file_uris(),
    }
    (workdir / "files.json").write_text(json.dumps(files))
    (workdir / "checks.yaml").write_text(SODA_CHECKS)
    (workdir / "soda_run.py").write_text(SODA_SCRIPT)
    return [
        str(SODA_PY),
        str(workdir / "soda_run.py"),
        str(workdir / "files.json"),
        str(workdir / "checks.yaml"),
    ]


def child_ours_counts(config: str) -> dict[str, Any]:
    return child_ours(config, samples=False)


def child_floor_arrow(config: str) -> dict[str, Any]:
    return child_floor(config, arrow=True)


REPEATED = {"floor", "floor-arrow", "ours", "ours-counts"}
CHILDREN = {
    "floor-arrow": child_floor_arrow,
    "ours": child_ours,
    "ours-counts": child_ours_counts,
    "floor": child_floor,
    "gx": child_gx,
    "incremental": child_incremental,
}


# ---------------------------------------------------------------------------------------- parent
def demo_config(scale: float) -> str:
    """The repo's project with a demo lake at `scale`, built once into bench/out/ (ignored by git)."""
    from helpers import copy_project  # the tests' copy of the repo's declarative files

    root = REPO / "bench" / "out" / f"quality-scale-{scale:g}"
    config = root / "smartflow.yaml"
    if not (root / "lake" / "_demo" / "defects.json").exists():
        print(f"building the demo lake at scale {scale:g} in {root} (once) …", file=sys.stderr, flush=True)
        copy_project(root)
        cli = [str(Path(sys.executable).with_name("smartflow-gov")), "--config", str(config), "demo", "init"]
        subprocess.run([*cli, "--scale", f"{scale:g}", "--seed", "7", "--force"], check=True, cwd=REPO)
    return str(config)


def measure(cmd: list[str], timeout: float) -> dict[str, Any]:
    """Run one contender; its JSON line on stdout plus wall time and peak RSS of the process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=REPO)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                return {"error": f"timed out after {timeout:.0f}s"}
            time.sleep(0.05)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        lines = [ln for ln in out.read().decode().splitlines() if ln.startswith("{")]
        if os.waitstatus_to_exitcode(status) != 0 or not lines:
            return {"error": err.read().decode()[-1500:]}
        data: dict[str, Any] = json.loads(lines[-1])
        data["wall"] = wall
        data["peak_mb"] = usage.ru_maxrss / 1024
        return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", help="a project with a demo lake (default: one built at --scale, cached)")
    ap.add_argument("--scale", type=float, default=10, help="demo scale when --config is not given")
    ap.add_argument("--skip", default="", help="comma-separated: floor-arrow,gx,soda,incremental")
    ap.add_argument("--child", choices=sorted(CHILDREN))
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--repeat", type=int, default=2, help="best of N for floor and ours (shared machines)")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.config), default=str))
        return
    if args.config is None:
        args.config = demo_config(args.scale)
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, dict[str, Any]] = {}
    order = ["floor", "floor-arrow", "ours-counts", "ours", "incremental", "gx", "soda"]
    runs: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # rounds interleave the contenders, so a burst of load on a shared machine hits them alike
        for rnd in range(args.repeat):
            for name in order:
                if name in skip or (rnd > 0 and name not in REPEATED):
                    continue
                if name == "soda":
                    cmd = soda_command(args.config, Path(tmp))
                    if cmd is None:
                        runs[name] = [{"error": f"Soda Core not installed in {SODA_PY.parent.parent}"}]
                        continue
                else:
                    cmd = [sys.executable, __file__, "--config", args.config, "--child", name]
                print(f"round {rnd + 1}: running {name} …", file=sys.stderr, flush=True)
                runs.setdefault(name, []).append(measure(cmd, args.timeout))
    for name, tries in runs.items():
        good = [r for r in tries if "error" not in r]
        results[name] = min(good, key=lambda r: r["validate"]) if good else tries[0]
    floor = results.get("floor", {})
    print(
        f"\nquality bench: suite {SUITE}, {floor.get('rows', '?'):,} rows (config {args.config})\n"
        if isinstance(floor.get("rows"), int)
        else ""
    )
    print(
        f"{'contender':14}{'validate s':>11}{'total s':>9}{'wall s':>8}{'peak MB':>9}{'queries':>8}"
        f"{'× floor':>9}{'ours ×faster':>13}"
    )
    ours_v = results.get("ours", {}).get("validate")
    for name in order:
        r = results.get(name)
        if r is None:
            continue
        if "error" in r:
            print(f"{name:14} error: {r['error'].strip().splitlines()[-1] if r['error'].strip() else '?'}")
            continue
        ratio = r["validate"] / floor["validate"] if floor.get("validate") else float("nan")
        faster = r["validate"] / ours_v if ours_v else float("nan")
        q = "-" if r.get("queries") is None else str(r["queries"])
        print(
            f"{name:14}{r['validate']:11.2f}{r['total']:9.2f}{r['wall']:8.2f}{r['peak_mb']:9.0f}{q:>8}"
            f"{ratio:9.2f}{faster:13.2f}"
        )
    if "incremental" in results and "error" not in results["incremental"]:
        inc = results["incremental"]
        print(
            f"\nincremental: first run {inc['first_queries']} queries over every partition; after one changed "
            f"partition {inc['changed']}: {inc['queries']} queries, {inc['rows']:,} rows (merged states; "
            f"whole-table checks rescan); nothing changed: {inc['carried_seconds']:.2f}s (carried verdicts); "
            f"same verdicts as the full run: {'yes' if inc['same_verdicts'] else 'NO'}"
        )
    if "gx" in results and "error" not in results["gx"]:
        print(
            f"gx: {results['gx']['evaluated']} of the suite's expectations evaluated (our extensions have no GX "
            f"form), {results['gx']['load']:.1f}s of its time is reading the Delta table into pandas"
        )
    print(
        "\n"
        + json.dumps(
            {k: {kk: vv for kk, vv in v.items() if kk != "counts"} for k, v in results.items()}, default=str
        )
    )


if __name__ == "__main__":
    main()
