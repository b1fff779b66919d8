"""Run a list of expectation specs on a real Delta table through the DuckDB engine, as a suite would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from governance.lake.engines import DuckDBEngine
from governance.quality.expectations.base import Ctx
from governance.quality.runner import Spec, validate


def duckdb_run(delta: Path, specs: list[Spec]) -> tuple[list[tuple[bool, dict[str, Any]]], list[str]]:
    """(success, result) per spec and the SQL that ran, ordered by `id` for samples; no expectation errs."""
    engine = DuckDBEngine()
    engine.register_arrow("t", DeltaTable(str(delta)).to_pyarrow_dataset())
    ctx = Ctx("t", engine.relation("t"), "duckdb", engine.columns("t"), order=["id"])
    run = validate(engine, ctx, specs, sample_size=None, complete=True)
    engine.close()
    assert all(o.error is None for o in run.outcomes), [o.error for o in run.outcomes]
    return [(o.success, o.result) for o in run.outcomes], run.sql
