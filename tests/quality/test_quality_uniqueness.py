"""Exact uniqueness when DuckDB first sorts key hashes (`Dialect.key_hash`): the same verdicts, counts
and samples as grouping every key, on a real Delta table with values that hash or compare awkwardly,
even when most keys share a hash; and the same counts on PostgreSQL, which groups the keys as they are."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from delta_runs import duckdb_run
from deltalake import DeltaTable, write_deltalake
from sqlglot import exp

from governance.lake import dialects, hash_sort
from governance.lake.engines import DuckDBEngine, SQLEngine
from governance.quality.expectations.base import Ctx
from governance.quality.runner import Spec, validate

T0 = dt.datetime(2026, 1, 1, 12, 0)
# strings that differ only by case, trailing blanks, a tab or a combining accent are different keys
WORDS = ["a", "A", "a ", "", "a\t", "é", "e\u0301", "7f3c-Ω", None]
NUMBERS = [0.0, -0.0, float("nan"), 1e308, -1.5, 2.5, None]  # -0.0 = 0.0 and NaN = NaN for GROUP BY

SPECS = [
    Spec("expect_column_values_to_be_unique", {"column": "word"}),
    Spec("expect_column_values_to_be_unique", {"column": "number"}),
    Spec("expect_column_values_to_be_unique", {"column": "id"}),
    Spec("expect_compound_columns_to_be_unique", {"column_list": ["word", "number", "at"]}),
    Spec(
        "expect_compound_columns_to_be_unique",
        {"column_list": ["word", "at"], "ignore_row_if": "any_value_is_missing"},
    ),
]


def _rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(600):
        word = WORDS[(i * 7) % len(WORDS)] if i % 5 else f"w{i}"
        number = NUMBERS[(i * 3) % len(NUMBERS)] if i % 4 else i / 8
        at = None if i % 13 == 0 else T0 + dt.timedelta(minutes=(i * 11) % 5)
        rows.append((i, word, number, at))
    return rows


@pytest.fixture(scope="module")
def delta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("uniq") / "keys"
    ids, words, numbers, ats = zip(*_rows(), strict=True)
    table = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "word": pa.array(words, pa.string()),
            "number": pa.array(numbers, pa.float64()),
            "at": pa.array(ats, pa.timestamp("us")),
        }
    )
    write_deltalake(str(path), table)
    return path


def _duckdb_run(delta: Path) -> tuple[list[tuple[bool, dict[str, Any]]], list[str]]:
    return duckdb_run(delta, SPECS)


def _weak_hash(self: dialects.DuckDB, values: list[exp.Expr]) -> exp.Expr:
    """Three hash values for every key: nearly all keys share a hash with others."""
    return exp.Mod(this=exp.Anonymous(this="HASH", expressions=values), expression=exp.Literal.number(3))


def _nan_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _nan_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_safe(v) for v in value]
    return value


def test_sorted_hashes_give_the_grouped_answer(delta: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed, sql = _duckdb_run(delta)
    assert sum("HASH(" in q for q in sql) >= 1  # the hash path ran
    with monkeypatch.context() as m:
        m.setattr(dialects.DuckDB, "key_hash", dialects.Dialect.key_hash)
        grouped, plain_sql = _duckdb_run(delta)
    assert not any("HASH(" in q for q in plain_sql)
    with monkeypatch.context() as m:
        m.setattr(dialects.DuckDB, "key_hash", _weak_hash)
        colliding, _ = _duckdb_run(delta)
    assert _nan_safe(hashed) == _nan_safe(grouped) == _nan_safe(colliding)
    counts = [r["unexpected_count"] for _, r in grouped]
    assert counts[2] == 0 and all(c > 0 for i, c in enumerate(counts) if i != 2), counts
    assert all(r["partial_unexpected_list"] for _, r in grouped if r["unexpected_count"])


def test_postgres_counts_the_same_duplicates(delta: Path, pg_url: str) -> None:
    hashed, _ = _duckdb_run(delta)
    engine = SQLEngine(pg_url)
    name = f"sfg_uniq_{uuid.uuid4().hex[:8]}"
    try:
        columns = {"id": "int", "word": "string", "number": "float", "at": "timestamp"}
        relation = engine.load_rows(name, columns, _rows())
        types = {"id": "bigint", "word": "text", "number": "double precision", "at": "timestamp"}
        ctx = Ctx(name, relation, "postgres", types, order=["id"])
        run = validate(engine, ctx, SPECS, sample_size=20)
        assert not any("HASH(" in q.upper() for q in run.sql)
        pg = [(o.success, o.result["unexpected_count"]) for o in run.outcomes]
    finally:
        engine.close()
    assert pg == [(ok, r["unexpected_count"]) for ok, r in hashed]


def _sql_window(con: Any, expr: exp.Expr, dialect: str) -> tuple[exp.Expr, list[str]]:
    return expr, []  # the repeated hashes stay the SQL window


def test_numpy_sorted_hashes_give_the_window_answer(delta: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The DuckDB engine sorts a large table's key hashes in NumPy instead of running the LAG window: the
    same counts, groups and samples, whether hashes collide rarely or nearly always, and no table left
    behind."""
    before = hash_sort.SORTED[0]
    small, _ = _duckdb_run(delta)
    assert hash_sort.SORTED[0] == before  # a small table keeps the window: NumPy costs more to import
    monkeypatch.setattr(hash_sort, "NUMPY_FROM", 0)  # as if it had as many keys as a large table
    presorted, sql = _duckdb_run(delta)
    assert hash_sort.SORTED[0] - before == len(SPECS)  # one hash set per uniqueness expectation
    assert all("sfg_repeated_hashes" not in q for q in sql)  # the logged SQL is the portable one
    with monkeypatch.context() as m:
        m.setattr(hash_sort, "presort", _sql_window)
        windowed, _ = _duckdb_run(delta)
    with monkeypatch.context() as m:
        m.setattr(dialects.DuckDB, "key_hash", _weak_hash)
        colliding, _ = _duckdb_run(delta)
        m.setattr(hash_sort, "presort", _sql_window)
        colliding_window, _ = _duckdb_run(delta)
    assert _nan_safe(presorted) == _nan_safe(windowed) == _nan_safe(colliding) == _nan_safe(colliding_window)
    assert _nan_safe(small) == _nan_safe(windowed)
    assert [r["unexpected_count"] for _, r in presorted][:3] == [r["unexpected_count"] for _, r in windowed][
        :3
    ]


def _wide_hash(self: dialects.DuckDB, values: list[exp.Expr]) -> exp.Expr:
    """A HUGEINT hash: NumPy would hold it as a float, so the engine must leave it to SQL."""
    wide = exp.cast(exp.Anonymous(this="HASH", expressions=values), "HUGEINT")
    return exp.Mul(this=wide, expression=exp.Literal.number(1 << 40))


def test_hashes_numpy_cannot_hold_stay_in_sql(delta: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, _ = _duckdb_run(delta)
    with monkeypatch.context() as m:
        m.setattr(dialects.DuckDB, "key_hash", _wide_hash)
        m.setattr(hash_sort, "NUMPY_FROM", 0)  # refused for its type, not its size
        before = hash_sort.SORTED[0]
        wide, sql = _duckdb_run(delta)
        assert hash_sort.SORTED[0] == before
    assert any("LAG(h)" in q for q in sql)
    assert _nan_safe(wide) == _nan_safe(plain)


def test_no_row_and_all_null_keys(tmp_path: Path) -> None:
    """An empty table and a key that is NULL on every row: nothing unexpected, nothing registered."""
    path = tmp_path / "empty"
    write_deltalake(
        str(path), pa.table({"id": pa.array([1, 2, 3], pa.int64()), "k": pa.array([None] * 3, pa.string())})
    )
    specs = [
        Spec("expect_column_values_to_be_unique", {"column": "k"}),
        Spec("expect_compound_columns_to_be_unique", {"column_list": ["k", "id"]}),
    ]
    engine = DuckDBEngine()
    engine.register_arrow("t", DeltaTable(str(path)).to_pyarrow_dataset())
    ctx = Ctx("t", engine.relation("t"), "duckdb", engine.columns("t"), order=["id"])
    empty = dataclasses.replace(ctx, scope=exp.false())
    try:
        for c in (ctx, empty):
            run = validate(engine, c, specs, sample_size=20)
            assert [(o.success, o.result["unexpected_count"], o.error) for o in run.outcomes] == [
                (True, 0, None),
                (True, 0, None),
            ]
        left = engine.con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'sfg_repeated%'")
        assert left.fetchone() == (0,)
    finally:
        engine.close()


def test_more_keys_than_memory_should_hold_stay_in_sql(delta: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, _ = _duckdb_run(delta)
    monkeypatch.setattr(hash_sort, "MAX_ROWS", 50)
    monkeypatch.setattr(hash_sort, "NUMPY_FROM", 0)
    before = hash_sort.SORTED[0]
    capped, _ = _duckdb_run(delta)
    assert hash_sort.SORTED[0] == before
    assert _nan_safe(capped) == _nan_safe(plain)
