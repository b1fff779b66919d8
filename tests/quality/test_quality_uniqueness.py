"""Exact uniqueness when DuckDB first sorts key hashes (`Dialect.key_hash`): the same verdicts, counts
and samples as grouping every key, on a real Delta table with values that hash or compare awkwardly,
even when most keys share a hash; and the same counts on PostgreSQL, which groups the keys as they are."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from sqlglot import exp

from governance.lake import dialects
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
    engine = DuckDBEngine()
    engine.register_arrow("t", DeltaTable(str(delta)).to_pyarrow_dataset())
    ctx = Ctx("t", engine.relation("t"), "duckdb", engine.columns("t"), order=["id"])
    run = validate(engine, ctx, SPECS, sample_size=None, complete=True)
    engine.close()
    assert all(o.error is None for o in run.outcomes), [o.error for o in run.outcomes]
    return [(o.success, o.result) for o in run.outcomes], run.sql


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
