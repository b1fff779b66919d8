"""A sample of a large Delta table is drawn from a seeded subset of its data files, spread across
partitions: the same seed draws the same files and the same rows, and the other files are not read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deltalake import write_deltalake
from pii_fixtures import seeded_table, write_project

from governance.lake.file_sample import MIN_FILES, DataFile, choose_files
from governance.pii.service import scan
from governance.project import load_project

DAYS = [f"2026-11-{d:02d}" for d in range(1, 31)]  # 30 partitions of 100 rows: one file each


def _partitioned_project(tmp_path: Path) -> Path:
    import pyarrow as pa

    config = write_project(tmp_path, {"silver.customers": (seeded_table(10), "silver")})
    days = []
    for day in DAYS:
        part = seeded_table(100)
        days.append(part.append_column("day", pa.array([day] * part.num_rows)))
    write_deltalake(
        str(tmp_path / "lake" / "silver" / "customers"),
        pa.concat_tables(days),
        mode="overwrite",
        partition_by=["day"],
        schema_mode="overwrite",
    )
    return config


def _sample(config: Path, size: int, seed: int) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The files a sample is drawn from and its rows (customer_id, day), as the scan makes it."""
    from governance.lake.engines import open_engine

    project = load_project(config)
    engine = open_engine(project, "duckdb", ["silver.customers"])
    try:
        from sqlglot import exp

        projection: list[exp.Expr] = [exp.column("customer_id"), exp.column("day")]
        engine.create_sample("s", "silver.customers", projection, size, seed)
        _, rows = engine.execute("SELECT customer_id, day FROM s ORDER BY day, customer_id")
        return engine.sampled_files["silver.customers"].paths, rows
    finally:
        engine.close()


def test_a_sample_reads_a_seeded_subset_of_files_across_partitions(tmp_path: Path) -> None:
    config = _partitioned_project(tmp_path)
    files, rows = _sample(config, 50, seed=42)
    # 4 x 50 rows would be two files; at least 8 are read, one per partition: 800 of the 3000 rows
    assert len(files) == MIN_FILES and len({f.split("/")[0] for f in files}) == MIN_FILES
    assert len(rows) == 50
    chosen_days = {f.split("/")[0].removeprefix("day=") for f in files}
    assert {day for _, day in rows} <= chosen_days  # no row from a file that was not chosen
    again_files, again_rows = _sample(config, 50, seed=42)
    assert (again_files, again_rows) == (files, rows)  # same seed: same files, same sample
    other_files, _ = _sample(config, 50, seed=7)
    assert set(other_files) != set(files)


def test_a_sampled_scan_reports_the_files_it_read_and_a_full_scan_reads_every_row(tmp_path: Path) -> None:
    config = _partitioned_project(tmp_path)
    sampled = scan(load_project(config), sample=50, seed=3).payload["datasets"][0]
    assert sampled["sample_size"] == 50 and sampled["rows_scanned"] == 50
    assert sampled["sampled_from"] == {"files": 8, "of_files": 30, "rows": 800, "of_rows": 3000}
    again = scan(load_project(config), sample=50, seed=3)
    assert again.payload["datasets"][0]["carried_from"] is not None  # unchanged data, same settings
    full = scan(load_project(config), sample=0).payload["datasets"][0]
    assert full["sample_size"] == 3000 and "sampled_from" not in full
    small = scan(load_project(config), sample=1000).payload["datasets"][0]  # 4 x 1000 > 3000 rows
    assert small["sample_size"] == 1000 and "sampled_from" not in small


def test_files_are_taken_one_per_partition_in_turn_until_the_rows_suffice() -> None:
    files = [DataFile(f"p={p}/f{i}.parquet", 100, (p,)) for p in range(10) for i in range(3)]
    subset = choose_files(files, 400, seed=1)  # 1600 rows: all 10 partitions once, then 6 more
    assert subset is not None and subset.rows == 1600 and subset.files_total == 30
    first_round = [f.split("/")[0] for f in subset.paths[:10]]
    assert len(set(first_round)) == 10
    assert choose_files(files, 400, seed=1) == subset
    assert choose_files(files, 750, seed=1) is None  # 3000 rows are not more than 4 x 750: read them all
    unknown = [*files[:-1], DataFile("p=9/f9.parquet", None, (9,))]
    assert choose_files(unknown, 10, seed=1) is None  # a file without numRecords: read them all
