"""Suggested suites measured on held-out days: false alarms on clean days, defects caught.

    .venv/bin/python bench/suggest.py [--history 45] [--rows 2000] [--false-alarm-rate 0.02] [--seed 7] [--seeds 10]
    .venv/bin/python bench/suggest.py --demo      # also: suggest for the demo lake's silver tables

A daily partitioned Delta table of orders (with a customers table its customer_id refers to) is generated
in a temporary project: `--history` days to learn from, then 15 held-out clean days and 8 held-out days
each with one planted defect. `quality suggest` sees the history days only; then the held-out days are
appended and the suggested suite is run on each held-out partition (`quality run --partition`) by the
project's runner. Printed: what each suggested expectation caught, false alarms in the 15 clean days
(target ≤ 1) and defect days caught (target ≥ 6 of 8). Nothing is written inside the repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

CONFIG = """
version: 1
lake: {root: lake}
state_dir: .smartflow
datasets:
  shop.orders:
    format: delta
    path: shop/orders
    layer: silver
    partitioning: [business_date]
    key: [order_id]
  shop.customers:
    format: delta
    path: shop/customers
    layer: silver
    key: [customer_id]
"""
CLASSIFICATIONS = """
labels:
  - {name: PII}
assignments:
  - dataset: shop.orders
    columns: {buyer_email: [PII]}
  - dataset: shop.customers
    columns: {email: [PII], name: [PII]}
"""
STATUSES = (["paid", "shipped", "delivered", "cancelled", "returned"], [0.3, 0.3, 0.3, 0.06, 0.04])
CHANNELS = ["web", "app", "store"]
FIRST = ["ana", "ben", "chloe", "dara", "emil", "femi", "greta", "hugo", "ines", "jon"]
LAST = ["silva", "meyer", "okafor", "novak", "rossi", "tanaka", "dubois", "berg"]
CUSTOMERS = 800
DEFECTS = (
    "new category value",
    "null-rate jump",
    "duplicate ids",
    "scaled amounts",
    "volume drop",
    "malformed strings",
    "out-of-window timestamps",
    "unknown foreign keys",
)


def email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 99)}@example.com"


def day_rows(day: dt.date, index: int, rows: int, rng: random.Random) -> list[dict[str, Any]]:
    n = max(1, round(rows * rng.gauss(1, 0.05)))
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    out = []
    for i in range(n):
        out.append(
            {
                "order_id": f"O{index:04d}{i:06d}",
                "customer_id": rng.randint(1, CUSTOMERS),
                "amount": round(rng.lognormvariate(3.5, 0.8), 2),
                "quantity": 1 + sum(rng.random() < 0.3 for _ in range(4)),
                "status": rng.choices(*STATUSES)[0],
                "channel": None if rng.random() < 0.02 else rng.choice(CHANNELS),
                "product_code": f"P-{rng.randint(0, 99999):05d}",
                "buyer_email": email(rng),
                "ordered_at": start + dt.timedelta(seconds=rng.randint(0, 86399)),
                "business_date": day,
            }
        )
    return out


def plant(defect: str, rows: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """One realistic defect in a clean day's rows."""
    some = rng.sample(range(len(rows)), max(1, len(rows) // 25))  # 4 % of the rows
    if defect == "new category value":
        for i in some:
            rows[i]["status"] = "partially_refunded"  # a new state shipped upstream, not in the contract
    elif defect == "null-rate jump":
        for r in rows:
            if rng.random() < 0.3:
                r["channel"] = None  # a broken join upstream: 2 % nulls become 30 %
    elif defect == "duplicate ids":
        rows += [dict(rows[i]) for i in some[: len(some) // 2]]  # a batch replayed
    elif defect == "scaled amounts":
        for r in rows:
            r["amount"] = round(r["amount"] * 100, 2)  # cents instead of euros
    elif defect == "volume drop":
        rows = rows[: len(rows) * 35 // 100]  # one of the sources did not arrive
    elif defect == "malformed strings":
        for i in some:
            rows[i]["product_code"] = rows[i]["product_code"].replace("P-", "p")  # a new client's format
    elif defect == "out-of-window timestamps":
        for i in some:
            rows[i]["ordered_at"] -= dt.timedelta(days=3)  # late events replayed into today's partition
    elif defect == "unknown foreign keys":
        for i in some:
            rows[i]["customer_id"] = 900_000 + i  # customers created after the dimension's extract
    return rows


def write(path: Path, rows: list[dict[str, Any]], mode: str, partitioned: bool = True) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    table = pa.Table.from_pylist(rows)
    write_deltalake(str(path), table, mode=mode, partition_by=["business_date"] if partitioned else None)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from governance.project import load_project
    from governance.quality.service import run
    from governance.quality.suggest.service import suggest

    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="suggest-bench-"))
    (root / "expectations").mkdir()
    (root / "classifications").mkdir()
    (root / "smartflow.yaml").write_text(textwrap.dedent(CONFIG))
    (root / "classifications" / "pii.yaml").write_text(CLASSIFICATIONS)
    import pyarrow as pa
    from deltalake import write_deltalake

    customers = [
        {"customer_id": i, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "email": email(rng)}
        for i in range(1, CUSTOMERS + 1)
    ]
    write_deltalake(str(root / "lake/shop/customers"), pa.Table.from_pylist(customers))
    start = dt.date(2026, 9, 1)
    days = [start + dt.timedelta(days=i) for i in range(args.history + 15 + len(DEFECTS))]
    history = [r for i, d in enumerate(days[: args.history]) for r in day_rows(d, i, args.rows, rng)]
    write(root / "lake/shop/orders", history, "overwrite")

    held_out = days[args.history :]
    kinds = ["clean"] * 15 + list(DEFECTS)
    rng.shuffle(kinds)
    out = root / "expectations" / "orders_suggested.yaml"
    suggested = suggest(load_project(root / "smartflow.yaml"), "shop.orders", str(out), args.false_alarm_rate)
    rows = []
    for j, (day, kind) in enumerate(zip(held_out, kinds, strict=True)):
        clean = day_rows(day, args.history + j, args.rows, rng)
        rows += clean if kind == "clean" else plant(kind, clean, rng)
    write(root / "lake/shop/orders", rows, "append")

    project = load_project(root / "smartflow.yaml")
    suite = suggested.payload["suite"]
    caught: dict[str, list[str]] = {}  # expectation label → held-out day kinds it failed on
    verdicts = []
    for day, kind in zip(held_out, kinds, strict=True):
        res = run(project, suites=[suite], partitions=[f"business_date={day}"])
        failed = [
            label(r["expectation_config"])
            for s in res.payload["suites"]
            for r in s["results"]
            if not r["success"]
        ]
        errors = [
            r for s in res.payload["suites"] for r in s["results"] if r["exception_info"]["raised_exception"]
        ]
        if errors:
            raise SystemExit(f"{day}: {errors[0]['exception_info']['exception_message']}")
        for f in failed:
            caught.setdefault(f, []).append(kind)
        verdicts.append((day, kind, failed))
    return {
        "root": root,
        "suggested": suggested.payload,
        "yaml": out.read_text(),
        "verdicts": verdicts,
        "caught": caught,
        "seed": args.seed,
    }


def label(cfg: dict[str, Any]) -> str:
    kw = cfg["kwargs"]
    column = kw.get("column") or kw.get("column_A") or ""
    return f"{cfg['type'].removeprefix('expect_')}({column})"


def report(m: dict[str, Any], detail: bool = True) -> tuple[int, int]:
    p = m["suggested"]
    false_alarms = [d for d, k, failed in m["verdicts"] if k == "clean" and failed]
    missed = [k for d, k, failed in m["verdicts"] if k != "clean" and not failed]
    caught = len(DEFECTS) - len(missed)
    if detail:
        print(
            f"suggested {len(p['expectations'])} expectations for shop.orders from {p['rows']:,} rows over "
            f"{p['partitions']} history partitions in {p['queries']} queries "
            f"(false-alarm rate {p['false_alarm_rate']:g} split over {p['bounded_sides']} bounded sides)\n"
        )
        labels = [label({"type": e["type"], "kwargs": e["kwargs"]}) for e in p["expectations"]]
        width = max(len(x) for x in labels)
        print(f"{'expectation':<{width}}  {'clean days failed':>17}  defect days caught")
        for x in labels:
            kinds = m["caught"].get(x, [])
            clean = sum(k == "clean" for k in kinds)
            defects = ", ".join(sorted({k for k in kinds if k != "clean"})) or "-"
            print(f"{x:<{width}}  {clean:>17}  {defects}")
        print()
        for d, k, failed in m["verdicts"]:
            print(f"  {d}  {k:<26} {'FAILED: ' + ', '.join(failed) if failed else 'passed'}")
        print()
    print(
        f"seed {m['seed']}: false alarms: {len(false_alarms)} of 15 clean days (target ≤ 1); "
        f"defect days caught: {caught} of {len(DEFECTS)} (target ≥ 6)"
        + (f"; missed: {', '.join(missed)}" if missed else "")
        + (
            f"; false alarms by: {', '.join(sorted({f for d, k, fs in m['verdicts'] if k == 'clean' for f in fs}))}"
            if false_alarms
            else ""
        ),
        flush=True,
    )
    return len(false_alarms), caught


def demo(scale: float) -> None:
    """Suggest for every silver table of a demo lake built in a temporary copy of the project."""
    from helpers import copy_project

    root = Path(tempfile.mkdtemp(prefix="suggest-demo-"))
    config = copy_project(root)
    cli = str(Path(sys.executable).with_name("smartflow-gov"))
    subprocess.run(
        [cli, "--config", str(config), "demo", "init", "--scale", str(scale)], check=True, capture_output=True
    )
    from governance.project import load_project
    from governance.quality.suggest.service import suggest

    project = load_project(config)
    for name, spec in sorted(project.config.datasets.items()):
        if spec.layer != "silver":
            continue
        res = suggest(project, name)
        p = res.payload
        print(
            f"\n## {name}: {len(p['expectations'])} expectations, {p['rows']:,} rows, "
            f"{p['partitions']} partitions, {p['queries']} queries"
        )
        if name == "silver.transactions":
            print(res.text)
    shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history", type=int, default=45, help="history days to learn from")
    ap.add_argument("--rows", type=int, default=2000, help="rows per day (±5 %)")
    ap.add_argument("--false-alarm-rate", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--demo", action="store_true", help="also suggest for the demo lake's silver tables")
    ap.add_argument("--scale", type=float, default=0.05, help="demo lake scale")
    ap.add_argument("--seeds", type=int, default=1, help="repeat with this many seeds (from --seed)")
    args = ap.parse_args()
    totals = [0, 0]
    first = args.seed
    for i in range(args.seeds):
        args.seed = first + i
        m = measure(args)
        alarms, caught = report(m, detail=i == 0)
        totals[0] += alarms
        totals[1] += caught
        shutil.rmtree(m["root"], ignore_errors=True)
    if args.seeds > 1:
        print(
            f"\nover {args.seeds} seeds: {totals[0]} false alarms in {15 * args.seeds} clean days "
            f"({totals[0] / (15 * args.seeds):.1%} per clean day, rate asked {args.false_alarm_rate:g}); "
            f"{totals[1]} of {len(DEFECTS) * args.seeds} defect days caught"
        )
    if args.demo:
        demo(args.scale)


if __name__ == "__main__":
    main()
