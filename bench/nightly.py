"""What a nightly costs when little changed: per-step seconds of three nightlies on one demo lake.

1. first   — the first nightly on a fresh demo lake (nothing known yet);
2. again   — the same nightly again, nothing changed in the lake or the files;
3. new day — after one new day of data lands in every date-partitioned Delta table (the newest
             partition of each is copied one day later, as the next day's load would add it).

Each is run for this working tree and, side by side, for a baseline commit (default: the commit before
HEAD), each in its own subprocess with its own copy of the same lake, on the same machine, one run each.

Usage: python bench/nightly.py [--scale 1 --scale 100] [--baseline REF] [--lake PATH]

`--lake` reuses the lake folder of a demo project made by `demo init --as-of 2026-11-28T04:00:00Z`
(building the scale-100 lake takes about 15 minutes); each side still works on its own copy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers import copy_project  # noqa: E402

EXE = Path(sys.executable).with_name("smartflow-gov")
AS_OF = "2026-11-28T04:00:00Z"


def _cli(project: Path, code: Path, *args: str) -> dict[str, Any]:
    # as an installed tool runs: compiled modules are cached (a wheel install compiles them; a shell with
    # PYTHONDONTWRITEBYTECODE would have every run compile ~100 modules again, ~0.25 s of CPU)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(code)
    proc = subprocess.run(
        [str(EXE), "--config", str(project / "smartflow.yaml"), "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode > 1:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode} ({code}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}


def add_one_day(project: Path) -> int:
    """Append to every date-partitioned Delta table a copy of its newest partition, one day later."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable, write_deltalake

    sys.path.insert(0, str(REPO))
    from governance.lake.resolve import add_actions
    from governance.project import load_project

    p = load_project(project / "smartflow.yaml")
    rows = 0
    for spec in p.config.datasets.values():
        if spec.format != "delta" or not spec.partitioning or not spec.path:
            continue
        uri = f"{p.lake_root}/{spec.path}"
        if not (Path(uri) / "_delta_log").is_dir():
            continue
        part = spec.partitioning[0]
        dt = DeltaTable(uri)
        field = pa.schema(dt.schema().to_arrow()).field(part)
        adds = add_actions(dt)
        if adds.num_rows == 0 or not pa.types.is_date(field.type):
            continue
        newest = pc.max(adds.column(f"partition.{part}")).as_py()  # from the log: read that day only
        day = dt.to_pyarrow_table(filters=[(part, "=", newest)])
        shifted = day
        for i, field in enumerate(day.schema):
            shifted = shifted.set_column(i, field, _one_day_later(day.column(i), field.type))
        write_deltalake(uri, shifted, mode="append", partition_by=spec.partitioning)
        rows += shifted.num_rows
    return rows


def _one_day_later(column: Any, typ: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(typ):
        return pc.add(column, pa.scalar(timedelta(days=1), type=pa.duration(typ.unit)))
    if pa.types.is_date(typ):
        as_ts = pc.cast(column, pa.timestamp("s"))
        return pc.cast(pc.add(as_ts, pa.scalar(timedelta(days=1), type=pa.duration("s"))), typ)
    return column


def _children_cpu() -> float:
    """User + system CPU seconds of the finished subprocesses: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def side(lake: Path, code: Path) -> dict[str, dict[str, float]]:
    """{phase: {step: seconds, "total": seconds}} for one code tree."""
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sfg-nightly-") as tmp:
        project = Path(tmp)
        copy_project(project)
        shutil.copytree(lake, project / "lake")
        for phase in ("first", "again", "new day"):
            if phase == "new day":
                add_one_day(project)
            started, cpu = time.perf_counter(), _children_cpu()
            payload = _cli(project, code, "nightly")
            steps = {s["name"]: float(s["duration_seconds"]) for s in payload.get("steps", [])}
            steps["total"] = time.perf_counter() - started
            steps["total cpu"] = _children_cpu() - cpu
            out[phase] = steps
    return out


def baseline_tree(ref: str, into: Path) -> Path:
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(into), ref], check=True,
                   capture_output=True)  # fmt: skip
    return into


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", action="append", type=float, help="demo scale (repeatable; default 1)")
    ap.add_argument("--baseline", default="HEAD~1", help="git ref to compare with (default HEAD~1)")
    ap.add_argument("--lake", type=Path, help="an existing demo lake to copy instead of building one")
    args = ap.parse_args()
    scales = args.scale or [1.0]
    if args.lake is not None and len(scales) != 1:
        raise SystemExit("--lake is one lake: give the one --scale it was built at")
    with tempfile.TemporaryDirectory(prefix="sfg-base-") as base_tmp:
        base = baseline_tree(args.baseline, Path(base_tmp) / "tree")
        for tree in (REPO, base):  # both sides start with compiled modules, as installed
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "governance")], check=False)
        try:
            for scale in scales:
                with tempfile.TemporaryDirectory(prefix="sfg-lake-") as lake_tmp:
                    lake = args.lake
                    if lake is None:
                        build = Path(lake_tmp)
                        copy_project(build)
                        _cli(build, REPO, "demo", "init", "--scale", str(scale), "--as-of", AS_OF, "--force")
                        lake = build / "lake"
                    ours = side(lake, REPO)
                    theirs = side(lake, base)
                report(scale, args.baseline, ours, theirs)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)],
                           check=False, capture_output=True)  # fmt: skip


def report(
    scale: float, ref: str, ours: dict[str, dict[str, float]], theirs: dict[str, dict[str, float]]
) -> None:
    print(f"\nnightly at demo scale {scale:g}: seconds per step, this tree vs {ref}")
    phases = list(ours)
    steps = [s for s in ours["first"] if not s.startswith("total")] + ["total", "total cpu"]
    head = f"{'step':<22}" + "".join(f"{p + ' now':>12}{p + ' base':>13}" for p in phases)
    print(head)
    for step in steps:
        cells = "".join(
            f"{ours[p].get(step, float('nan')):>12.2f}{theirs[p].get(step, float('nan')):>13.2f}"
            for p in phases
        )
        print(f"{step:<22}{cells}")
    for who, data in (("now", ours), ("base", theirs)):
        for total in ("total", "total cpu"):
            first = data["first"][total]
            print(
                f"{who:>5} {total:<9}: again/first {data['again'][total] / first:.2f}x, "
                f"new day/first {data['new day'][total] / first:.2f}x"
            )


if __name__ == "__main__":
    main()
