"""Incremental runs: validate only the partitions added or changed since the last successful run.

Changes are found from the Delta log: the snapshot's add actions, grouped by partition value, give each
partition a fingerprint (its file list); a partition whose fingerprint differs from the stored one is
validated. The scan is filtered with prunable `col = value` predicates and grouped by
`GROUPING SETS ((col), ())`, so ONE query yields both the per-partition states of mergeable metrics
(count, null count, sum, min, max, …) and the totals of the others over the new partitions. Mergeable
states are stored per partition (state_dir/quality/partitions/<suite>.json), so table-level figures
merge stored and fresh states without a rescan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from governance.errors import InputError
from governance.lake import resolve
from governance.lake.engines import Engine
from governance.project import Project
from governance.quality.compiler import Compiled, compile_metrics
from governance.quality.expectations.base import Ctx, Expectation, Unsupported, col, to_py, typed_lit

GROUP_FLAG = "__grouping"


def state_path(project: Project, suite: str) -> Path:
    return project.state_dir / "quality" / "partitions" / f"{suite}.json"


def fingerprints(project: Project, dataset: str, column: str) -> dict[str, str]:
    """Partition value → hash of its data files, from the current Delta snapshot."""
    loc = resolve.locate(project, dataset)
    dt = resolve.delta_table(loc)
    import pyarrow as pa

    table = pa.table(dt.get_add_actions(flatten=True)).to_pydict()
    paths = table["path"]
    values = table.get(f"partition.{column}") or [None] * len(paths)
    by_value: dict[str, list[str]] = {}
    for path, value in zip(paths, values, strict=True):
        by_value.setdefault(_key(value), []).append(str(path))
    return {v: hashlib.sha256("\n".join(sorted(p)).encode()).hexdigest()[:16] for v, p in by_value.items()}


def _key(value: Any) -> str:
    v = to_py(value)
    return "__null__" if v is None else str(v)


@dataclass
class PartitionState:
    fingerprints: dict[str, str] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # partition → metric sql → value

    @classmethod
    def load(cls, path: Path) -> PartitionState:
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        return cls(data.get("fingerprints", {}), data.get("states", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fingerprints": self.fingerprints, "states": self.states}, default=str))
        tmp.replace(path)


def scope_predicate(ctx: Ctx, column: str, values: list[str]) -> exp.Expr:
    """`col = v1 OR col = v2 …` with literals typed like the column (prunable, never EXTRACT(...))."""
    family = ctx.family(column)
    preds: list[exp.Expr] = []
    for v in values:
        if v == "__null__":
            preds.append(col(column).is_(exp.null()))
        else:
            lit_v: Any = int(v) if family == "int" and v.lstrip("-").isdigit() else v
            try:
                preds.append(col(column).eq(typed_lit(lit_v, family)))
            except (ValueError, OverflowError, Unsupported) as exc:
                raise InputError(f"partition {column}={v}: not a value of a {family} column ({exc})") from exc
    return exp.or_(*preds) if len(preds) > 1 else preds[0]


def _merge(op: str, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if op == "sum":
        return a + b
    if op == "min":
        return min(a, b)
    return max(a, b)


def grouped_scan(
    column: str, state: PartitionState, changed: list[str]
) -> Callable[[Engine, Ctx, list[Expectation | None], Compiled], dict[str, Any]]:
    """A scan hook for the runner: one grouped query over the changed partitions, merged with the state."""

    def run(engine: Engine, ctx: Ctx, impls: list[Expectation | None], compiled: Compiled) -> dict[str, Any]:
        grouped = compile_metrics(ctx, impls)
        if grouped.scan is None:
            return {}
        query = grouped.scan.copy()
        pcol = col(column)
        grouping = exp.Anonymous(this="GROUPING", expressions=[pcol.copy()])
        query = query.select(
            pcol.copy().as_("__partition", quoted=True), grouping.as_(GROUP_FLAG, quoted=True)
        )
        query.set(
            "group",
            exp.Group(expressions=[exp.GroupingSets(expressions=[exp.paren(pcol.copy()), exp.Tuple()])]),
        )
        names, rows = engine.execute(query)
        totals: dict[str, Any] = {}
        fresh: dict[str, dict[str, Any]] = {}
        for row in rows:
            rec = dict(zip(names, row, strict=True))
            if rec[GROUP_FLAG]:
                totals = rec
            else:
                fresh[_key(rec["__partition"])] = rec
        keys = {alias: _metric_key(grouped, alias) for alias in grouped.merges}
        for part, rec in fresh.items():
            state.states[part] = {
                keys[a]: to_py(rec[a]) for a, op in grouped.merges.items() if op is not None
            }
        for part in changed:
            if part not in fresh:
                state.states.pop(part, None)  # partition emptied / removed
        values: dict[str, Any] = {}
        for alias, op in grouped.merges.items():
            if op is None:
                values[alias] = totals.get(alias)
                continue
            merged: Any = None
            for part_state in state.states.values():
                merged = _merge(op, merged, part_state.get(keys[alias]))
            values[alias] = merged
        return values

    return run


def _metric_key(compiled: Compiled, alias: str) -> str:
    """A stable key for a metric across runs: its SQL text (aliases may shift when the suite changes)."""
    assert compiled.scan is not None
    for e in compiled.scan.expressions:
        if isinstance(e, exp.Alias) and e.alias == alias:
            return e.this.sql()
    return alias
