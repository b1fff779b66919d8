"""`--quarantine`: failing rows of error-severity expectations, written to a Delta table per dataset.

state_dir/quality/quarantine/<dataset>/ holds the rows (PII-classified columns masked) plus
`_failed_expectations` (which expectations each row broke), `_run_id` and `_quarantined_at`, so engineers
can inspect them and replay the keys once fixed. One query per dataset (the same flags as the samples,
without the bound).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from governance.lake.engines import Engine
from governance.masking import mask
from governance.quality.compiler import flag_name
from governance.quality.expectations.base import Ctx, Expectation


def quarantine_path(state_dir: Path, dataset: str) -> Path:
    return state_dir / "quality" / "quarantine" / dataset


def write(
    engine: Engine,
    ctx: Ctx,
    failing: dict[int, tuple[Expectation, str]],
    state_dir: Path,
    run_id: str,
    pii: set[str],
) -> int:
    """Write the failing rows; returns how many rows were quarantined."""
    import pyarrow as pa
    from deltalake import write_deltalake

    if not failing:
        return 0
    derived: dict[str, exp.Expr] = {}
    for e, _ in failing.values():
        derived.update(e.derived())
    inner = ctx.source().select(*[exp.column(c, quoted=True) for c in ctx.columns])
    if derived:
        inner = inner.select(*[v.as_(k, quoted=True) for k, v in derived.items()])
    flags = [
        exp.Case(
            ifs=[exp.If(this=e.unexpected(), true=exp.Literal.number(1))], default=exp.Literal.number(0)
        ).as_(flag_name(i), quoted=True)
        for i, (e, _) in failing.items()
    ]
    preds = [e.unexpected() for e, _ in failing.values()]
    query = (
        exp.select(*[exp.column(c, quoted=True) for c in ctx.columns], *flags)
        .from_(inner.subquery("q"))
        .where(exp.or_(*[p for p in preds if p is not None]))
    )
    names, rows = engine.execute(query)
    if not rows:
        return 0
    now = datetime.now(UTC)
    records: list[dict[str, Any]] = []
    for row in rows:
        rec = dict(zip(names, row, strict=True))
        failed = [label for i, (_, label) in failing.items() if rec.get(flag_name(i)) == 1]
        out: dict[str, Any] = {}
        for c in ctx.columns:
            v = rec[c]
            out[c] = mask(v) if c in pii else v
        out["_failed_expectations"] = failed
        out["_run_id"] = run_id
        out["_quarantined_at"] = now
        records.append(out)
    table = pa.Table.from_pylist(records)
    table = table.cast(
        pa.schema([_storable(f, c in pii) for f, c in zip(table.schema, table.column_names, strict=True)])
    )
    path = quarantine_path(state_dir, ctx.dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), table, mode="append", schema_mode="merge")
    return len(records)


def _storable(field: Any, masked: bool) -> Any:
    import pyarrow as pa

    if masked or pa.types.is_null(field.type):
        return pa.field(field.name, pa.string())
    if pa.types.is_timestamp(field.type) and field.type.tz is None:
        return pa.field(field.name, pa.timestamp("us"))
    return field
