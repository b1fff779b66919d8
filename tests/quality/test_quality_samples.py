"""Samples of uniqueness and referential integrity filtered on the offending values carried out of the
grouped pass equal the ones found by regrouping the whole table."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest

from governance.lake.engines import DuckDBEngine
from governance.quality.expectations import column_map, extensions
from governance.quality.expectations.base import Ctx
from governance.quality.runner import Spec, validate

SPECS = [
    Spec("expect_column_values_to_be_unique", {"column": "code"}),
    Spec("expect_column_values_to_exist_in", {"column": "ref", "dataset": "other", "other_column": "ref"}),
    Spec("expect_column_values_to_be_between", {"column": "amount", "min_value": 0}),
]


def _run(sample_size: int | None, carry: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str]]:
    if not carry:
        for module in (column_map, extensions):
            monkeypatch.setattr(module, "carries_offenders", lambda ctx: False)
    rnd = random.Random(3)
    ids = list(range(5000))
    rnd.shuffle(ids)  # key order is not the order of the values
    engine = DuckDBEngine()
    engine.register_arrow(
        "t",
        pa.table(
            {
                "id": ids,
                "code": [f"C{rnd.randrange(3000):05d}" if i % 7 else None for i in range(5000)],  # >100 dups
                "ref": [rnd.randrange(1000) if i % 11 else None for i in range(5000)],  # orphans: >= 600
                "amount": [rnd.randrange(-5, 100) for _ in range(5000)],
            }
        ),
    )
    engine.register_arrow("other", pa.table({"ref": list(range(600))}))
    ctx = Ctx("t", engine.relation("t"), "duckdb", engine.columns("t"), order=["id"], other=engine.relation)
    run = validate(engine, ctx, SPECS, sample_size=sample_size, complete=sample_size is None)
    monkeypatch.undo()
    return [(o.success, o.result) for o in run.outcomes], run.sql


@pytest.mark.parametrize("sample_size", [20, 5, None])
def test_carried_offenders_give_the_same_samples(
    sample_size: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    carried, sql = _run(sample_size, True, monkeypatch)
    regrouped, old_sql = _run(sample_size, False, monkeypatch)
    assert carried == regrouped
    assert all(not ok and r["unexpected_count"] > 100 for ok, r in carried)
    assert all(len(r["partial_unexpected_list"]) == min(sample_size or 20, 20) for _, r in carried)
    if sample_size is not None:  # bounded: the samples filter on the carried values, no regrouping
        assert "VALUES" in sql[-1] and "GROUP BY" not in sql[-1]
    assert "GROUP BY" in old_sql[-1]
