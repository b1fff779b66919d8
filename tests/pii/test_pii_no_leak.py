"""No value leaves: seeded PII must not appear in any byte the scan writes (stdout, stderr, files)."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import run_cli
from pii_fixtures import SEEDED, seeded_table, write_project


def _needles() -> set[bytes]:
    out: set[bytes] = set()
    for values in SEEDED.values():
        for value in values:
            out.add(value.encode())
            digits = re.sub(r"\D", "", value)
            if len(digits) >= 8:
                out.add(digits.encode())  # the number without its formatting
            out.update(w.encode() for w in re.split(r"[\s@.]", value) if len(w) >= 7 and not w.isdigit())
    return out


def test_no_sampled_value_in_any_output(tmp_path: Path) -> None:
    project = tmp_path / "project"
    config = write_project(project, {"silver.customers": (seeded_table(), "silver"),
                                     "bronze.customers": (seeded_table(), "bronze")})  # fmt: skip
    suggest = project / "suggested.yaml"
    runs = [
        run_cli("--config", str(config), "-vv", "--output", "json", "pii", "scan", "--suggest", str(suggest)),
        run_cli(
            "--config", str(config), "-vv", "pii", "scan", "--sample", "50", "--dataset", "silver.customers"
        ),
    ]
    assert [p.returncode for p in runs] == [1, 1]
    assert (
        '"in_text": true' in runs[0].stdout and "query" in runs[0].stderr
    )  # the scan ran and logged its SQL
    assert suggest.is_file() and (project / ".smartflow" / "metrics.sqlite").is_file()

    written: dict[str, bytes] = {f"run{i}.{s}": getattr(p, s).encode() for i, p in enumerate(runs)
                                 for s in ("stdout", "stderr")}  # fmt: skip
    lake = project / "lake"
    for path in project.rglob("*"):
        if path.is_file() and lake not in path.parents:
            written[str(path.relative_to(project))] = path.read_bytes()
    assert any(name.startswith(".smartflow/pii") for name in written)

    needles = _needles()
    assert len(needles) > 30
    leaks = [(name, n.decode()) for name, data in written.items() for n in needles if n in data]
    assert leaks == []
    # sanity: the search would find a value if one were there
    assert any(n in (lake / "silver" / "customers").joinpath(p).read_bytes()
               for p in [x.name for x in (lake / "silver" / "customers").glob("*.parquet")] for n in needles)  # fmt: skip


def test_no_value_in_output_of_a_warehouse_scan(tmp_path: Path, pg_url: str) -> None:
    """The SQLAlchemy path too: with -vv the SQL is logged, never a row it returned."""
    import uuid

    import sqlalchemy as sa

    name = f"pii_leak_{uuid.uuid4().hex[:8]}"
    table = seeded_table()
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f'CREATE TABLE public."{name}" (' + ", ".join(f'"{c}" text' for c in table.column_names) + ")"
        )
        rows = [tuple(None if v is None else str(v) for v in r)
                for r in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)]  # fmt: skip
        conn.exec_driver_sql(
            f'INSERT INTO public."{name}" VALUES ({", ".join(["%s"] * len(table.column_names))})', rows
        )
    try:
        project = tmp_path / "project"
        config = write_project(
            project, {}, extra_config=(
                f"  silver.wh: {{format: sql, connection: wh, table: public.{name}, layer: silver}}\n"
                "connections:\n  wh: {url: '${SMARTFLOW_PII_LEAK_PG}'}\n"
            ),
        )  # fmt: skip
        proc = run_cli("--config", str(config), "-vv", "--output", "json", "pii", "scan",
                       "--suggest", str(project / "s.yaml"), env={"SMARTFLOW_PII_LEAK_PG": pg_url})  # fmt: skip
        assert proc.returncode == 1 and "sql query" in proc.stderr
        written = [proc.stdout.encode(), proc.stderr.encode()]
        written += [p.read_bytes() for p in project.rglob("*") if p.is_file()]
        leaks = [n.decode() for data in written for n in _needles() if n in data]
        assert leaks == []
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS public."{name}"')
        engine.dispose()
