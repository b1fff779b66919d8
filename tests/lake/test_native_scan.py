"""The DuckDB engine reads local Delta tables with DuckDB's own Parquet scan over the snapshot's files;
whatever the table looks like, the relation it exposes must equal deltalake's Arrow dataset."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from governance.config import Dataset
from governance.errors import InfraError
from governance.lake import native, resolve
from governance.lake.engines import DuckDBEngine
from governance.lake.resolve import DatasetLocation


def _batch(day: dt.date, region: str | None, start: int, n: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + n), pa.int64()),
            "amount": pa.array([Decimal(f"{i}.25") for i in range(n)], pa.decimal128(10, 2)),
            "seen_at": pa.array(
                [dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC) + dt.timedelta(minutes=i) for i in range(n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "local_at": pa.array([dt.datetime(2026, 11, 1, 8) + dt.timedelta(seconds=i) for i in range(n)]),
            "note": pa.array([None if i % 3 == 0 else f"n{i}" for i in range(n)], pa.string()),
            "day": pa.array([day] * n, pa.date32()),
            "region": pa.array([region] * n, pa.string()),
        }
    )


def _engine(path: Path) -> tuple[DuckDBEngine, str]:
    engine = DuckDBEngine()
    engine.register_location(
        DatasetLocation("t", Dataset(format="delta", path="t", layer="silver"), str(path))
    )
    engine.con.register("arrow_t", DeltaTable(str(path)).to_pyarrow_dataset())
    return engine, engine.relation("t").name


def _same_relation(engine: DuckDBEngine, name: str) -> None:
    con = engine.con
    assert (
        con.execute(f'DESCRIBE SELECT * FROM "{name}"').fetchall()
        == con.execute("DESCRIBE SELECT * FROM arrow_t").fetchall()
    )
    ours = con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
    theirs = con.execute("SELECT * FROM arrow_t ORDER BY ALL").fetchall()
    assert ours == theirs and ours


def _view_sql(engine: DuckDBEngine, name: str) -> str:
    sql = engine.con.execute(f"SELECT sql FROM duckdb_views() WHERE view_name = '{name}'").fetchone()
    assert sql is not None
    return str(sql[0])


def _is_native(engine: DuckDBEngine, name: str) -> bool:
    return "read_parquet" in _view_sql(engine, name)


def test_partitioned_table_with_odd_partition_values_reads_like_arrow(tmp_path: Path) -> None:
    path = tmp_path / "t"
    for i, (day, region) in enumerate(
        [(dt.date(2026, 11, 1), "north"), (dt.date(2026, 11, 2), None), (dt.date(2026, 11, 2), "a b/c=d's")]
    ):
        write_deltalake(
            str(path), _batch(day, region, i * 100, 7), partition_by=["day", "region"], mode="append"
        )
    engine, name = _engine(path)
    assert _view_sql(engine, name).count("read_parquet") == 3  # paths escape values: one branch each
    _same_relation(engine, name)
    # a partition filter prunes: only that partition's rows, NULL partitions included
    got = engine.con.execute(f'SELECT count(*) FROM "{name}" WHERE region IS NULL').fetchone()
    assert got == (7,)
    got = engine.con.execute(f"SELECT count(*) FROM \"{name}\" WHERE day = DATE '2026-11-02'").fetchone()
    assert got == (14,)


def test_plain_partition_values_are_read_from_the_paths_in_one_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, odd = tmp_path / "plain", tmp_path / "odd"
    for i in range(4):
        day = dt.date(2026, 11, 1) + dt.timedelta(days=i)
        write_deltalake(str(plain), _batch(day, "north", i * 10, 3), partition_by=["day"], mode="append")
        write_deltalake(str(odd), _batch(day, f"r {i}", i * 10, 3), partition_by=["region"], mode="append")
    engine, name = _engine(plain)
    sql = _view_sql(engine, name)
    assert "hive_partitioning = true" in sql and sql.count("read_parquet") == 1
    _same_relation(engine, name)
    got = engine.con.execute(f"SELECT count(*) FROM \"{name}\" WHERE day = DATE '2026-11-03'").fetchone()
    assert got == (3,)
    # values the paths escape, more partitions than branches allowed: Arrow reads the table
    monkeypatch.setattr(native, "MAX_BRANCHES", 2)
    engine, name = _engine(odd)
    assert not _is_native(engine, name)
    _same_relation(engine, name)


def test_a_folder_named_like_a_partition_above_the_table_is_not_read_as_one(tmp_path: Path) -> None:
    path = tmp_path / "region=eu" / "t"
    write_deltalake(str(path), _batch(dt.date(2026, 11, 1), "north", 0, 4), partition_by=["day"])
    engine, name = _engine(path)
    assert "hive_partitioning = true" not in _view_sql(engine, name)
    _same_relation(engine, name)
    assert engine.con.execute(f'SELECT DISTINCT region FROM "{name}"').fetchall() == [("north",)]


def test_only_the_snapshots_files_are_read_after_delete_and_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_deltalake(str(path), _batch(dt.date(2026, 11, 1), "north", 0, 10), partition_by=["day"])
    write_deltalake(
        str(path), _batch(dt.date(2026, 11, 2), "south", 100, 10), partition_by=["day"], mode="append"
    )
    DeltaTable(str(path)).delete("id < 5")  # rewrites a file; the old one stays on disk
    write_deltalake(
        str(path),
        _batch(dt.date(2026, 11, 2), "east", 500, 3),
        partition_by=["day"],
        mode="overwrite",
        predicate="day = '2026-11-02'",
    )
    engine, name = _engine(path)
    assert _is_native(engine, name)
    _same_relation(engine, name)
    assert engine.con.execute(f'SELECT count(*), min(id) FROM "{name}"').fetchone() == (8, 5)


def test_schema_evolution_reads_missing_columns_as_null(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_deltalake(str(path), _batch(dt.date(2026, 11, 1), "north", 0, 5), partition_by=["day"])
    newer = _batch(dt.date(2026, 11, 2), "north", 100, 5).append_column("extra", pa.array(["x"] * 5))
    write_deltalake(str(path), newer, partition_by=["day"], mode="append", schema_mode="merge")
    engine, name = _engine(path)
    _same_relation(engine, name)
    assert engine.con.execute(f'SELECT count(extra) FROM "{name}"').fetchone() == (5,)


def _table_with(tmp_path: Path, configuration: dict[str, str]) -> Path:
    path = tmp_path / "t"
    write_deltalake(str(path), _batch(dt.date(2026, 11, 1), "north", 0, 5), configuration=configuration)
    assert not native.supported(DeltaTable(str(path)))
    return path


def test_column_mapped_tables_stay_on_arrow(tmp_path: Path) -> None:
    engine, name = _engine(_table_with(tmp_path, {"delta.columnMapping.mode": "name"}))
    assert not _is_native(engine, name)
    _same_relation(engine, name)


def test_deletion_vectors_are_a_clear_dataset_error(tmp_path: Path) -> None:
    path = _table_with(
        tmp_path, {"delta.enableDeletionVectors": "true"}
    )  # a plain scan would return deleted rows
    with pytest.raises(InfraError, match="deletionVectors"):
        _engine(path)


def test_demo_lake_datasets_read_natively_and_equal_arrow(demo_project: Path) -> None:
    from governance.project import load_project

    project = load_project(demo_project / "smartflow.yaml")
    names = [n for n, d in project.config.datasets.items() if d.format == "delta"]
    engine = DuckDBEngine(project, names)
    before = {dataset: engine.columns(dataset) for dataset in names}  # from the logs: no view yet
    for dataset in names:
        assert engine.columns(dataset) == before[dataset], dataset  # the view's own, now it is made
        view = engine.relation(dataset).name
        engine.con.register(f"{view}__arrow", resolve.arrow_dataset(resolve.locate(project, dataset)))
        assert _is_native(engine, view), dataset
        con = engine.con
        rows = con.execute(f'SELECT count(*) FROM "{view}"').fetchall()
        assert rows[0][0] > 0, dataset
        for a, b in ((view, f"{view}__arrow"), (f"{view}__arrow", view)):
            extra = con.execute(f'SELECT count(*) FROM (SELECT * FROM "{a}" EXCEPT ALL SELECT * FROM "{b}")')
            assert extra.fetchall() == [(0,)], dataset


def _project_over(tmp_path: Path, table: Path) -> object:
    from governance.project import load_project

    config = tmp_path / "smartflow.yaml"
    config.write_text(
        f"version: 1\nlake: {{root: {table.parent}}}\n"
        f"datasets:\n  silver.t: {{format: delta, path: {table.name}, layer: silver}}\n"
    )
    return load_project(config)


@pytest.mark.parametrize("shape", ["partitioned", "evolved", "column-mapped"])
def test_columns_known_before_the_view_is_made_are_the_views_columns(tmp_path: Path, shape: str) -> None:
    """An engine opened on a local Delta table makes its view on first use: the columns it reports before
    (from the log's schema alone) are those the view has once made, natively or through Arrow."""
    if shape == "column-mapped":
        path = _table_with(tmp_path, {"delta.columnMapping.mode": "name"})
    else:
        path = tmp_path / "t"
        write_deltalake(
            str(path), _batch(dt.date(2026, 11, 1), "north", 0, 5), partition_by=["day", "region"]
        )
        if shape == "evolved":
            newer = _batch(dt.date(2026, 11, 2), None, 9, 3).append_column("extra", pa.array([1.5] * 3))
            write_deltalake(
                str(path), newer, partition_by=["day", "region"], mode="append", schema_mode="merge"
            )
    (tmp_path / "project").mkdir()
    project = _project_over(tmp_path / "project", path)
    lazy = DuckDBEngine(project, ["silver.t"])  # type: ignore[arg-type]
    before = lazy.columns("silver.t")
    assert not lazy._con or "sfg_silver_t" not in {
        r[0] for r in lazy._con.execute("SELECT view_name FROM duckdb_views()").fetchall()
    }
    made = lazy.execute(f"SELECT count(*) FROM {lazy.relation('silver.t').sql('duckdb')}")[1]
    assert made[0][0] in (5, 8)
    rel = lazy.relation("silver.t").sql(dialect="duckdb")
    after = {r[0]: str(r[1]).lower() for r in lazy.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    assert before == after
    assert list(before) == list(after)
    lazy.close()
