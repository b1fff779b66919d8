"""PII discovery benchmark: column-level precision/recall on the labelled evaluation set, and rows/s scanned.

    .venv/bin/python bench/pii.py [--rows 2000] [--big-rows 200000] [--pg-url URL | --no-pg]

The evaluation set (tests/harness/pii_evalset.py: Faker data in 9 locales, noise and decoys, 68 columns) is
written as a Delta table and scanned with the project's own rules (classifications/*.yaml) through the
real service, on DuckDB and on PostgreSQL. Throughput is measured on a larger copy scanned in full
(--sample 0) and with the default sample.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from harness import pii_evalset as evalset  # noqa: E402

from governance.pii.service import scan  # noqa: E402
from governance.project import load_project  # noqa: E402

PG_URL = os.environ.get("SMARTFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


PROJECT_RULES = [p for p in sorted((REPO / "classifications").rglob("*.yaml")) if "rules:" in p.read_text()]
REFERENCE_RULES = [REPO / "governance" / "pii" / "data" / "reference_rules.yaml"]


def make_project(
    root: Path, table: object, name: str, pg_url: str | None, rules: list[Path] | None = None
) -> Path:
    """A project with one Delta dataset (and its PostgreSQL copy) and the given rule files."""
    from deltalake import write_deltalake

    (root / "classifications").mkdir(parents=True, exist_ok=True)
    for src in PROJECT_RULES if rules is None else rules:
        shutil.copy(src, root / "classifications" / src.name)
    write_deltalake(str(root / "lake" / name), table, mode="overwrite")  # type: ignore[arg-type]
    lines = ["version: 1", "lake: {root: lake}", "datasets:",
             f"  silver.{name}: {{format: delta, path: {name}, layer: silver}}"]  # fmt: skip
    if pg_url:
        lines.append(
            f"  silver.{name}_wh: {{format: sql, connection: wh, table: public.{name}, layer: silver}}"
        )
        lines += ["connections:", "  wh: {url: '${SMARTFLOW_BENCH_PG}'}"]
        os.environ["SMARTFLOW_BENCH_PG"] = pg_url
    (root / "smartflow.yaml").write_text("\n".join(lines) + "\n")
    return root / "smartflow.yaml"


def load_pg(url: str, name: str, table: object) -> None:
    import sqlalchemy as sa

    pa_table = table  # a pyarrow table of strings
    engine = sa.create_engine(url)
    cols = pa_table.column_names  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS public."{name}"')
        conn.exec_driver_sql(f'CREATE TABLE public."{name}" (' + ", ".join(f'"{c}" text' for c in cols) + ")")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY public."{name}" FROM STDIN') as copy:
            for row in zip(*(pa_table.column(c).to_pylist() for c in cols), strict=True):  # type: ignore[attr-defined]
                copy.write_row([None if v is None else str(v) for v in row])
    engine.dispose()


def detected_kinds(
    result_findings: list[dict[str, object]], rule_kind: dict[str, str]
) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in result_findings:
        if f["status"] in ("undeclared", "confirmed") and f["rule"] in rule_kind:
            out.setdefault(str(f["column"]), set()).add(rule_kind[str(f["rule"])])
    return out


def python_baseline(project_config: Path, table: object, rows: int) -> float:
    """The naive scanner: pull the values into Python and run the same rules there (rows/s)."""
    from governance.pii.rules import compile_rules

    project = load_project(project_config)
    rules = [r for r in compile_rules(project.rules) if r.data_regex is not None]
    started = time.perf_counter()
    data = table.slice(0, rows).to_pydict()  # type: ignore[attr-defined]
    for values in data.values():
        for rule in rules:
            for value in values:
                if value is not None:
                    text = str(value)
                    rule.value_match(text) or rule.text_match(text)
    return rows / (time.perf_counter() - started)


def appended_scan(project: object, table_path: Path, day: object, sample: int = 0) -> None:
    """A scan stored, one more day appended (a tenth of the rows), and the scan again: a full scan reads
    the new file alone for the counting query, a sample is extended by a sample of the new file at the
    same rate (`extended_from`, `rows_scanned`)."""
    from deltalake import write_deltalake

    scan(project, ["silver.pii_big"], sample=sample)  # type: ignore[arg-type]
    write_deltalake(str(table_path), day, mode="append")  # type: ignore[arg-type]
    started, cpu = time.perf_counter(), time.process_time()
    ds = scan(project, ["silver.pii_big"], sample=sample).payload["datasets"][0]  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    label = "appended day" if not sample else f"+day, s.{sample}"
    print(f"  {'silver.pii_big':<22} {label:<13} {ds['rows_scanned']:>8} new rows of {ds['sample_size']}: "
          f"{seconds:.2f} s ({cpu:.2f} s CPU), extended from a stored scan: {ds['extended_from'] is not None}")  # fmt: skip


def report(title: str, scores: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'label':<15}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}")
    for kind, s in scores.items():
        print(f"  {kind:<15}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--big-rows", type=int, default=200_000)
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    pg_url = None if args.no_pg else args.pg_url

    table = evalset.generate(args.rows)
    print(f"evaluation set: {len(evalset.COLUMNS)} columns x {args.rows} rows, "
          f"{sum(1 for c in evalset.COLUMNS if c.kind)} with PII, {sum(1 for c in evalset.COLUMNS if not c.kind)} decoys")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="pii-bench-") as tmp:
        root = Path(tmp)
        if pg_url:
            load_pg(pg_url, "pii_eval", table)
        targets = [("duckdb", "silver.pii_eval")] + ([("postgresql", "silver.pii_eval_wh")] if pg_url else [])
        runs = [
            (rules_name, rule_files, engine_name, dataset)
            for rules_name, rule_files in (
                ("project rules", PROJECT_RULES),
                ("reference rules", REFERENCE_RULES),
            )
            for engine_name, dataset in targets
        ]
        for rules_name, rule_files, engine_name, dataset in runs:
            project = load_project(
                make_project(root / rules_name.split()[0], table, "pii_eval", pg_url, rule_files)
            )
            rule_kind = {r.name: r.validator for r in project.rules if r.validator}
            result = scan(project, [dataset])
            ds = result.payload["datasets"][0]
            if ds["error"]:
                print(f"{engine_name}: error {ds['error']}")
                continue
            scores = evalset.score(detected_kinds(result.payload["findings"], rule_kind))
            report(
                f"{rules_name} on {engine_name}: column-level precision / recall ({ds['queries']} queries, {ds['seconds']} s)",
                scores,
            )
            misses = evalset.labels()
            det = detected_kinds(result.payload["findings"], rule_kind)
            for col in evalset.COLUMNS:
                got = det.get(col.name, set())
                if (col.kind and col.kind not in got) or (got - {col.kind}):
                    print(
                        f"    {col.name} {col.description!r}: expected {misses[col.name]}, detected {sorted(got) or '-'}"
                    )

        # ------------------------------------------------------------------------------ throughput
        big = evalset.generate(min(args.big_rows, 20_000), seed=11)
        import pyarrow as pa

        reps = max(1, args.big_rows // big.num_rows)
        big = pa.concat_tables([big] * reps)
        big_root = root / "big"
        if pg_url:
            load_pg(pg_url, "pii_big", big)
        big_project = load_project(make_project(big_root, big, "pii_big", pg_url, REFERENCE_RULES))
        print(f"\nthroughput: {big.num_rows} rows x {big.num_columns} columns")
        duck_full = 0.0
        for dataset in ["silver.pii_big"] + (["silver.pii_big_wh"] if pg_url else []):
            for sample in (0, 10_000) if args.big_rows > 10_000 else (0,):
                started, cpu = time.perf_counter(), time.process_time()
                result = scan(big_project, [dataset], sample=sample)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                ds = result.payload["datasets"][0]
                scanned = ds["sample_size"]
                cells = scanned * ds["columns_scanned"]
                label = "full scan" if sample == 0 else f"sample {sample}"
                if sample == 0 and dataset == "silver.pii_big":
                    duck_full = scanned / seconds
                print(f"  {dataset:<22} {label:<13} {scanned:>8} rows  {seconds:7.2f} s  "
                      f"{scanned / seconds:>10,.0f} rows/s  {cells / seconds:>12,.0f} cells/s  ({ds['queries']} queries, {cpu:.2f} s CPU)")  # fmt: skip
        day = big.slice(0, max(1, big.num_rows // 10))
        appended_scan(big_project, big_root / "lake" / "pii_big", day)
        if args.big_rows > 10_000:
            appended_scan(big_project, big_root / "lake" / "pii_big", day, sample=10_000)
        base_rows = min(big.num_rows, 10_000)
        base = python_baseline(big_root / "smartflow.yaml", big, base_rows)
        print(f"  baseline: {base_rows} rows pulled into Python and checked there: {base:,.0f} rows/s "
              f"(DuckDB pushed-down full scan: {duck_full / base:.1f}x faster)")  # fmt: skip
        if pg_url:
            import sqlalchemy as sa

            eng = sa.create_engine(pg_url)
            with eng.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS public.pii_eval")
                conn.exec_driver_sql("DROP TABLE IF EXISTS public.pii_big")
            eng.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
