"""Incremental runs: scan only the partitions added or changed since the last completed evaluation, with
the same verdicts as a full run.

Changes are found from the Delta log: the snapshot's add actions, grouped by partition value, give each
partition a fingerprint (its file list); a partition whose fingerprint differs from the stored one is
scanned. An expectation is evaluated in one of two ways:

- **mergeable** (every metric merges across partitions: counts, null and unexpected counts, sum, min,
  max, mean as sum/count): one query over the changed partitions, filtered with prunable `col = value`
  predicates and grouped by `col`, yields per-partition states that are stored
  (state_dir/quality/partitions/<suites>.json) and merged with the stored ones — exact, no rescan;
- **whole-table** (`needs_full_scan`, or a metric with no merge: uniqueness, referential integrity,
  distinct sets, medians, quantiles, stdev, …): evaluated on the whole table whenever a partition
  changed or a referenced dataset changed.

A suite declared without `incremental:` on a Delta table is planned over one pseudo partition, the
whole table (`WHOLE_TABLE`), whose fingerprint is the table's log version and file list. It keeps no
states: a changed table is evaluated in full (one fused scan, as without a plan); when neither the table
nor a dataset the suite reads changed, the last verdicts are carried.

When nothing changed the last completed evaluation's verdicts are reported (mergeable ones re-evaluated
from their states, so a time-relative check such as `max_to_be_recent` still moves with the clock; a
clock-dependent check that has no state is evaluated again, never carried). States are keyed by a hash
of what the answer depends on besides the data — the suites' definitions, the engine, the PII columns
(results mask them) and the sample size — so an edited suite starts again from the whole table; they
are saved only after an evaluation in which no query failed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from governance import __version__
from governance.errors import InputError
from governance.lake import resolve
from governance.lake.engines import Engine
from governance.project import Project
from governance.quality.compiler import Compiled, compile_metrics
from governance.quality.expectations.base import Ctx, Expectation, Unsupported, col, to_py, typed_lit
from governance.specs.expectations import Suite

STATE_VERSION = 4  # bump when the stored shape, the merge rules or a metric's SQL (its key) change
WHOLE_TABLE = "__table__"  # the one pseudo partition of a suite declared without `incremental:`
# verdicts that depend on the run's clock (`Ctx.now`) besides the data: never carried from a stored result
CLOCK = frozenset({"expect_column_max_to_be_recent"})


def state_path(project: Project, suite: str) -> Path:
    return project.state_dir / "quality" / "partitions" / f"{suite}.json"


def definition_hash(
    suites: list[Suite],
    column: str | None,
    engine: str = "",
    sensitive: set[str] | frozenset[str] = frozenset(),
    sample_size: int | None = None,
) -> str:
    """What the stored states depend on besides the data: every suite's expectations (type, kwargs,
    severity), the partition column, the engine, the PII columns (masked in results and samples) and the
    sample size. Changing any of them discards the states."""
    spec = {
        "version": STATE_VERSION,
        "partition": column,
        "engine": engine,
        "sensitive": sorted(sensitive),
        "sample_size": sample_size,
        "release": __version__,  # a release may evaluate (or support) an expectation differently
        "suites": [
            {
                "suite": s.suite,
                "dataset": s.dataset,
                "expectations": [[e.type, e.kwargs, e.severity] for e in s.expectations],
            }
            for s in suites
        ],
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _add_actions(project: Project, dataset: str, column: str | None) -> dict[str, list[str]]:
    loc = resolve.locate(project, dataset)
    dt = resolve.delta_table(loc)

    table = resolve.add_actions(dt).to_pydict()
    paths = table["path"]
    values = (table.get(f"partition.{column}") if column else None) or [None] * len(paths)
    by_value: dict[str, list[str]] = {}
    for path, value in zip(paths, values, strict=True):
        by_value.setdefault(_key(value), []).append(str(path))
    return by_value


def files_digest(paths: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:16]


def fingerprints(project: Project, dataset: str, column: str) -> dict[str, str]:
    """Partition value → hash of its data files, from the current Delta snapshot."""
    found: dict[str, str] = _per_snapshot(
        project,
        dataset,
        f"partitions:{column}",
        lambda: {v: files_digest(p) for v, p in _add_actions(project, dataset, column).items()},
    )
    return found


def table_fingerprint(project: Project, dataset: str) -> str:
    """A Delta table's log version and a hash of its files: a new commit (data, deletion vectors,
    metadata) changes the version, and a table made anew at the same version has other file names."""

    def compute() -> str:
        return snapshot_print(resolve.delta_table(resolve.locate(project, dataset)))

    found: str = _per_snapshot(project, dataset, "table", compute)
    return found


def snapshot_print(table: Any) -> str:
    """`version:hash of the file list` of a Delta snapshot (a `deltalake.DeltaTable`)."""
    return f"{table.version()}:{files_digest(snapshot_paths(table))}"


_PATHS: dict[tuple[int, int], tuple[Any, list[str]]] = {}


def snapshot_paths(table: Any) -> list[str]:
    """The data files of a Delta snapshot as its log spells them (read once per snapshot object: the
    plan, the appended-rows check and the commit each ask)."""
    key = (id(table), table.version())
    hit = _PATHS.get(key)
    if hit is not None and hit[0] is table:
        return hit[1]
    paths = [str(p) for p in resolve.add_actions(table).column("path").to_pylist()]
    if len(_PATHS) >= 64:
        _PATHS.clear()
    _PATHS[key] = (table, paths)
    return paths


def _per_snapshot(project: Project, dataset: str, what: str, compute: Callable[[], Any]) -> Any:
    """`compute()` of a local Delta table's newest snapshot, kept in state_dir/cache/fingerprints.json
    under the snapshot's name (newest commit file and its mtime): an unchanged table's fingerprints are
    known without opening it. A remote table is computed every time."""
    from governance.statecache import StateCache

    snapshot = resolve.snapshot_key(resolve.locate(project, dataset))
    if snapshot is None:
        return compute()
    project.state_dir.mkdir(parents=True, exist_ok=True)  # a run stores its results there anyway
    cache = StateCache(project.state_dir, "fingerprints", f"fingerprints/{STATE_VERSION}")
    entry = cache.entries.get(f"{dataset}|{what}")
    if isinstance(entry, dict) and entry.get("snapshot") == list(snapshot):
        return entry["value"]
    value = compute()
    cache.put(f"{dataset}|{what}", {"snapshot": list(snapshot), "value": value})
    cache.save()
    return value


def dataset_fingerprint(project: Project, dataset: str) -> str | None:
    """`table_fingerprint` of a Delta dataset (local or remote), or None when it cannot be known cheaply
    (SQL and Spark tables, Parquet folders): then it counts as changed on every run."""
    if project.dataset(dataset).format != "delta":
        return None
    try:
        return table_fingerprint(project, dataset)
    except Exception:  # noqa: BLE001 - unknown means "changed": the whole-table checks run again
        return None


def _key(value: Any) -> str:
    v = to_py(value)
    return "__null__" if v is None else str(v)


def mergeable(impl: Expectation, sensitive: frozenset[str] | set[str] = frozenset()) -> bool:
    """Exactly evaluable from merged per-partition states (else the whole table is scanned). A min, max,
    sum or mean of a `sensitive` (PII) column is not kept as a state: stored states are files under
    state_dir, where no PII value may be written."""
    if impl.needs_full_scan or impl.extras() or impl.extra_row() is not None:
        return False
    metrics = impl.aggregates().values()
    if any(_holds_value(m.expr, sensitive) for m in metrics):
        return False
    return all(m.merge is not None for m in metrics)


def _holds_value(expr: exp.Expr, sensitive: frozenset[str] | set[str]) -> bool:
    """Whether a metric is a value of a sensitive column (not a count of rows)."""
    for agg in expr.find_all(exp.Min, exp.Max, exp.Sum, exp.Avg):
        if any(c.name in sensitive for c in agg.find_all(exp.Column)):
            return True
    return False


@dataclass
class PartitionState:
    definition: str = ""
    fingerprints: dict[str, str] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # partition → metric sql → value
    depends: dict[str, str | None] = field(default_factory=dict)  # referenced dataset → fingerprint
    run_id: str | None = None  # the run whose evaluation these states complete
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # that run's results (GX shape)
    rows: int | None = None
    # dataset → `snapshot_print` of the snapshot the engine read for `outcomes` (this table and the ones
    # its checks reference): what a later run compares the Delta log against (governance.quality.appended)
    tables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, definition: str) -> PartitionState:
        """The stored state, or an empty one when there is none or it belongs to another definition."""
        if not path.is_file():
            return cls(definition)
        try:
            data = json.loads(path.read_text())
        except ValueError:
            return cls(definition)
        if data.get("definition") != definition:
            return cls(definition)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), default=str))
        tmp.replace(path)


@dataclass
class Plan:
    """What an incremental run of one dataset scans, and what it may reuse (`column` None: the whole
    table is the one partition)."""

    column: str | None
    state: PartitionState
    current: dict[str, str]  # partition → fingerprint now
    changed: list[str]
    removed: list[str]
    depends: dict[str, str | None]
    sensitive: set[str] = field(default_factory=set)  # PII columns: no value of them in a stored state
    # dataset → (local table folder, `snapshot_print` when planned) of this table and the Delta tables it
    # references: whole-table checks may read only what was appended since `state.tables`
    local: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    appended: list[int] = field(default_factory=list)  # checks this run evaluated on the added rows only

    @property
    def table_changed(self) -> bool:
        return bool(self.changed or self.removed) or not self.state.run_id

    @property
    def rescan_whole_table(self) -> bool:
        """Whole-table expectations must run again (the table or a dataset they read changed)."""
        deps_same = all(v is not None and self.state.depends.get(k) == v for k, v in self.depends.items())
        return self.table_changed or not deps_same

    def carried(self, i: int) -> dict[str, Any] | None:
        """The stored result of expectation `i`, when the stored evaluation may be reused."""
        if self.table_changed or i >= len(self.state.outcomes):
            return None
        return self.state.outcomes[i]

    def scope(self, ctx: Ctx) -> exp.Expr | None:
        """The filter of the changed partitions (None: every partition changed)."""
        if self.column is None or (set(self.changed) == set(self.current) and not self.state.states):
            return None
        return scope_predicate(ctx, self.column, self.changed)

    def info(self) -> dict[str, Any]:
        """The `incremental` block of a suite's result (none for a whole-table suite: it shows one only
        when its verdicts are carried)."""
        if self.column is None:
            return {}
        return {
            "partition": self.column,
            "changed": self.changed,
            "removed": self.removed,
            "stored": len(self.state.states),
            "partitions_scanned": len(self.changed),
        }

    def merged(
        self, engine: Engine, ctx: Ctx, impls: list[Expectation | None], scan: bool = True
    ) -> dict[str, Any]:
        """Metric values (by scan alias of `compile_metrics(ctx, impls)`) of mergeable expectations:
        a grouped query over the changed partitions (none when nothing changed or `scan` is False),
        merged with the stored states of the others. Updates the in-memory states (saved by the caller
        once the evaluation completed)."""
        grouped = compile_metrics(ctx, impls)
        if grouped.scan is None or self.column is None:
            return {}
        keys = {alias: _metric_key(grouped, alias) for alias in grouped.merges}
        if scan and self.changed:
            scoped = dataclasses.replace(ctx, scope=self.scope(ctx))
            for part, rec in _grouped_query(engine, scoped, impls, self.column).items():
                self.state.states.setdefault(part, {}).update(
                    {keys[a]: to_py(rec[a]) for a in grouped.merges}
                )
        values: dict[str, Any] = {}
        for alias, op in grouped.merges.items():
            merged: Any = None
            for part_state in self.state.states.values():
                merged = _merge(str(op), merged, part_state.get(keys[alias]))
            values[alias] = merged
        return values

    def commit(
        self,
        run_id: str,
        outcomes: list[dict[str, Any]],
        rows: int | None,
        tables: dict[str, str] | None = None,
    ) -> None:
        """Record a completed evaluation (fingerprints, dependencies and results of this run, and the
        snapshots the engine read for them)."""
        self.state.fingerprints = dict(self.current)
        self.state.depends = dict(self.depends)
        self.state.run_id = run_id
        self.state.outcomes = outcomes
        self.state.rows = rows
        self.state.tables = dict(tables or {})


def plan(
    project: Project, suites: list[Suite], column: str | None, referenced: list[str], engine: str = ""
) -> tuple[Plan, Path]:
    """What to scan and reuse for the suites of one dataset partitioned by `column` (None: the whole
    table as one partition), and the state file."""
    dataset = suites[0].dataset
    sensitive = project.pii_columns(dataset)
    path = state_path(project, "+".join(s.suite for s in suites))
    key = definition_hash(suites, column, engine, sensitive, project.config.quality.sample_size)
    state = PartitionState.load(path, key)
    if column is None:
        current = {WHOLE_TABLE: table_fingerprint(project, dataset)}
    else:
        current = fingerprints(project, dataset, column)
    changed = sorted(v for v, fp in current.items() if state.fingerprints.get(v) != fp)
    removed = sorted(v for v in state.fingerprints if v not in current)
    if not state.run_id:  # no completed evaluation: every partition is new
        state.states = {}
        changed = sorted(current)
        removed = []
    for part in changed + removed:  # (in memory) their states are rebuilt by this run's grouped query
        state.states.pop(part, None)
    depends = {d: dataset_fingerprint(project, d) for d in referenced}
    local: dict[str, tuple[str, str | None]] = {}
    for name in [dataset, *referenced]:
        loc = resolve.locate(project, name)
        if loc.spec.format == "delta" and loc.uri and not loc.is_remote:
            printed = current.get(WHOLE_TABLE) if column is None and name == dataset else None
            local[name] = (loc.uri, printed or depends.get(name) or dataset_fingerprint(project, name))
    return Plan(column, state, current, changed, removed, depends, sensitive, local), path


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


def _grouped_query(
    engine: Engine, ctx: Ctx, impls: list[Expectation | None], column: str
) -> dict[str, dict[str, Any]]:
    """Partition value → its metric values, from one `GROUP BY col` query over `ctx`'s scope."""
    grouped = compile_metrics(ctx, impls)
    assert grouped.scan is not None
    pcol = col(column)
    query = grouped.scan.copy().select(pcol.copy().as_("__partition", quoted=True))
    names, rows = engine.execute(query.group_by(pcol.copy()))
    fresh: dict[str, dict[str, Any]] = {}
    for row in rows:
        rec = dict(zip(names, row, strict=True))
        fresh[_key(rec["__partition"])] = rec
    return fresh


def _metric_key(compiled: Compiled, alias: str) -> str:
    """A stable key for a metric across runs: its SQL text (aliases may shift when the suite changes)."""
    assert compiled.scan is not None
    for e in compiled.scan.expressions:
        if isinstance(e, exp.Alias) and e.alias == alias:
            return e.this.sql()
    return alias
