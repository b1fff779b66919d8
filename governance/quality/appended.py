"""Whole-table checks after appends: uniqueness and referential integrity evaluated on the added rows
against the old ones, with exactly the result a full evaluation gives.

A run of an incremental plan keeps, beside its results, the snapshot the engine read for them
(`PartitionState.tables`: Delta version and a hash of the file list). When the table changed since,
`governance.lake.delta_log.appended_files` tells whether the commits in between only appended; the
snapshot's files minus the added ones must then hash to the stored list (so "old" is exactly the table
those results describe). The old and the added files become two relations of the engine, and:

- **uniqueness** (`be_unique`, `compound_columns_to_be_unique`): a value's rows are unexpected when it
  occurs more than once in all. The added rows are grouped by value (small); the old rows holding one of
  those values are counted by a join against that small set (the old rows' key columns are read, not
  sorted or grouped); a value's rows count as unexpected before (old count > 1) and after (old + added
  count > 1), and the new unexpected count is the stored one minus the first plus the second. No value
  is stored anywhere: the join's result is a temporary table of the engine, dropped with it;
- **referential integrity** (`values_to_exist_in`): new orphans are added rows whose value the
  referenced table (now) lacks. When the referenced table is unchanged the old orphans stay orphans;
  when it was only appended to, the old rows whose value appears among its new keys are counted (those
  orphans were resolved). Any other change of the referenced table, or one that is not a Delta table
  this engine reads file by file, is a full evaluation;
- **samples** (the first unexpected rows in key order): the stored ones are still unexpected (an old
  duplicate stays one; an old orphan stays one unless resolved, and then, with unexpected rows left, the
  check is evaluated in full), and the newly unexpected rows are few queries bounded by the sample size
  (old rows whose value became duplicated, added rows that are duplicates or orphans). Both are merged in
  key order; where that order cannot be proven the same as the engine's (no key, a key column that is
  PII and so masked in the stored samples, a type other than integer, text, date or timestamp, equal
  keys, stored samples not the complete first ones), the check is evaluated in full.

Anything else — an overwrite, a delete, OPTIMIZE, a schema change, a remote table, a log whose commits
are gone, a stored result that is an error, other kwargs — is the full evaluation it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sqlglot import exp

from governance.errors import InfraError
from governance.lake.delta_log import appended_files
from governance.lake.engines import Engine, EngineLost
from governance.masking import mask
from governance.quality.expectations.base import Ctx, Expectation, col, to_py
from governance.quality.expectations.column_map import MapExpectation, Unique
from governance.quality.expectations.extensions import ExistIn
from governance.quality.expectations.multicolumn import CompoundUnique
from governance.quality.incremental import Plan, files_digest, snapshot_paths, snapshot_print

log = logging.getLogger("governance.quality")

SAMPLES_SHOWN = 20  # a result lists at most this many samples (runner._attach_samples)
ORDERABLE = ("int", "string", "date", "timestamp")  # key types merged in the engine's order


@dataclass
class Split:
    old: exp.Table
    added: exp.Table


UNCHANGED = "unchanged"


class Evaluator:
    """Appended-only evaluation of the whole-table checks of one dataset run (views made once)."""

    def __init__(self, engine: Engine, ctx: Ctx, plan: Plan, limit: int | None, pii: set[str]) -> None:
        self.engine, self.ctx, self.plan, self.pii = engine, ctx, plan, pii
        self.shown = SAMPLES_SHOWN if limit is None else min(SAMPLES_SHOWN, limit)
        self._splits: dict[str, Split | str | None] = {}

    def split(self, dataset: str) -> Split | str | None:
        if dataset not in self._splits:
            try:
                self._splits[dataset] = self._split(dataset)
            except EngineLost:
                raise
            except Exception as exc:  # noqa: BLE001 - a log or view this cannot read: evaluated in full
                log.info("%s: added rows of %s not read apart (%s)", self.ctx.dataset, dataset, exc)
                self._splits[dataset] = None
        return self._splits[dataset]

    def _split(self, dataset: str) -> Split | str | None:
        """The table's old and added rows as two relations, UNCHANGED, or None (not only appended)."""
        stored = self.plan.state.tables.get(dataset)
        where = self.plan.local.get(dataset)
        table = self.engine.snapshot(dataset) if stored and where else None
        if table is None or stored is None or where is None:
            return None
        if snapshot_print(table) == stored:
            return UNCHANGED
        version, _, digest = stored.partition(":")
        if not version.isdigit():
            return None
        added = appended_files(where[0], int(version), table.version())
        if not added:
            return None
        paths = snapshot_paths(table)
        new = {unquote(p) for p in added}
        old = [p for p in paths if unquote(p) not in new]
        if len(old) + len(new) != len(paths) or files_digest(old) != digest:
            return None  # the old snapshot is not exactly the snapshot minus the added files
        tag = f"{dataset}__{version}"
        before = self.engine.register_subset(dataset, f"{tag}__old", set(old)) if old else None
        after = self.engine.register_subset(dataset, f"{tag}__added", set(added))
        return Split(before, after) if before is not None and after is not None else None

    def evaluate(self, i: int, impl: Expectation, stored: dict[str, Any]) -> dict[str, Any] | None:
        """The metric values of check `i` (with its samples under `__samples`), or None: full evaluation."""
        if type(impl) not in (Unique, CompoundUnique, ExistIn):
            return None
        parts = self.split(self.ctx.dataset)
        if not isinstance(parts, Split):
            return None
        try:
            if isinstance(impl, ExistIn):
                return self._orphans(i, impl, stored, parts)
            assert isinstance(impl, MapExpectation)
            return self._duplicates(i, impl, stored, parts)
        except InfraError as exc:
            if isinstance(exc, EngineLost):
                raise
            log.info("%s: appended-only evaluation failed (%s); evaluated in full", self.ctx.dataset, exc)
            return None

    # --- uniqueness -------------------------------------------------------------------------------
    def _duplicates(
        self, i: int, impl: MapExpectation, stored: dict[str, Any], parts: Split
    ) -> dict[str, Any] | None:
        cols = impl.columns()
        keys = [f"__k{j}" for j in range(len(cols))]
        dom = impl.domain()

        def where(q: exp.Select) -> exp.Select:
            return q.where(dom.copy()) if dom is not None else q

        def same(left: str, names: list[str], right: str) -> exp.Expr:
            return exp.and_(
                *[
                    exp.NullSafeEQ(this=exp.column(n, table=left, quoted=True), expression=_col(k, right))
                    for n, k in zip(names, keys, strict=True)
                ]
            )

        added = where(
            exp.select(*[col(c).as_(k, quoted=True) for c, k in zip(cols, keys, strict=True)])
            .select(exp.Count(this=exp.Star()).as_("__n", quoted=True))
            .from_(parts.added.copy())
            .group_by(*[col(c) for c in cols])
        )
        old = (
            exp.select(*[_col(k, "a") for k in keys], exp.Count(this=exp.Star()).as_("__o", quoted=True))
            .from_(exp.alias_(parts.old.copy(), "r", table=True))
            .join(exp.to_table("a").as_("a"), on=same("r", cols, "a"))
            .group_by(*[_col(k, "a") for k in keys])
        )
        old = where(old)
        counted = (
            exp.select(
                *[_col(k, "a") for k in keys],
                _col("__n", "a"),
                exp.Coalesce(this=_col("__o", "o"), expressions=[exp.Literal.number(0)]).as_(
                    "__o", quoted=True
                ),
            )
            .from_(exp.to_table("a").as_("a"))
            .join(exp.to_table("o").as_("o"), on=same("a", keys, "o"), join_type="LEFT")
            .with_("a", as_=added)
            .with_("o", as_=old)
        )
        temp = f"sfg__appended_{i}"  # the engine's, gone when it closes: no value outlives the run
        self.engine.run_statement(
            f'CREATE OR REPLACE TEMPORARY TABLE "{temp}" AS {counted.sql(dialect=self.ctx.dialect)}'
        )
        n, o = exp.column("__n", quoted=True), exp.column("__o", quoted=True)
        total = exp.Add(this=n.copy(), expression=o.copy())

        def rows_where(cond: exp.Expr, value: exp.Expr) -> exp.Expr:
            case = exp.Case(ifs=[exp.If(this=cond, true=value)], default=exp.Literal.number(0))
            return exp.Coalesce(this=exp.Sum(this=case), expressions=[exp.Literal.number(0)])

        counts = exp.select(
            rows_where(total.copy() > 1, total.copy()).as_("gained"),
            rows_where(o.copy() > 1, o.copy()).as_("had"),
        ).from_(exp.to_table(temp, quoted=True))
        values = self._metrics(impl, stored, parts, counts)
        unexpected = int(stored["unexpected_count"]) - int(values.pop("had")) + int(values.pop("gained"))
        values["unexpected"] = unexpected
        if unexpected == int(stored["unexpected_count"]) or not self.shown:
            fresh: list[tuple[Any, ...]] | None = []
        else:
            revived = self._revived(temp, cols, keys, impl) or self._joined(
                parts.old, temp, cols, keys, o.copy().eq(1)
            )
            duplicated = self._joined(parts.added, temp, cols, keys, total.copy() > 1)
            fresh = self._bounded([revived, duplicated], impl)
        return self._with_samples(impl, stored, values, fresh)

    def _revived(self, temp: str, cols: list[str], keys: list[str], impl: Expectation) -> exp.Select | None:
        """The old rows whose value became duplicated, from the temporary table alone when every column
        a sample shows is a checked column of a type whose equal values are identical (integer, text,
        date, timestamp): such a value has exactly one old row, and the value is that row."""
        shown = self._columns(impl)
        if not set(shown) <= set(cols) or any(self.ctx.family(c) not in ORDERABLE for c in shown):
            return None
        return (
            exp.select(*[_col(keys[cols.index(c)], "t").as_(c, quoted=True) for c in shown])
            .from_(exp.to_table(temp, quoted=True).as_("t"))
            .where(exp.column("__o", table="t", quoted=True).eq(1))
        )

    def _joined(
        self, rows: exp.Table, temp: str, cols: list[str], keys: list[str], cond: exp.Expr
    ) -> exp.Select:
        """Rows of `rows` whose key is among the temporary table's keys that satisfy `cond`."""
        chosen = exp.select(*[exp.column(k, quoted=True) for k in keys]).from_(
            exp.to_table(temp, quoted=True)
        )
        on = exp.and_(
            *[
                exp.NullSafeEQ(this=exp.column(c, table="r", quoted=True), expression=_col(k, "t"))
                for c, k in zip(cols, keys, strict=True)
            ]
        )
        return (
            exp.select()
            .from_(exp.alias_(rows.copy(), "r", table=True))
            .join(chosen.where(cond).subquery("t"), on=on)
        )

    # --- referential integrity --------------------------------------------------------------------
    def _orphans(self, i: int, impl: ExistIn, stored: dict[str, Any], parts: Split) -> dict[str, Any] | None:
        parent = str(impl.kw["dataset"])
        if parent == self.ctx.dataset:
            return None
        referenced = self.split(parent)
        if referenced is None:
            return None
        on_added = ExistIn(impl.type_name, dict(impl.kw), self._on(parts.added))
        found = [on_added._orphans().select(exp.Count(this=exp.Star()))]
        if isinstance(referenced, Split):  # old rows whose value only the appended keys now hold
            oc, c = col(impl.kw["other_column"]), col(impl.kw["column"])
            known = exp.select(oc.copy()).from_(referenced.old.copy()).where(oc.copy().is_(exp.null()).not_())
            fresh_keys = (
                exp.select(oc.copy())
                .from_(referenced.added.copy())
                .where(oc.copy().is_(exp.null()).not_())
                .where(exp.Not(this=oc.copy().isin(query=known)))
            )
            found.append(
                exp.select(exp.Count(this=exp.Star())).from_(parts.old.copy()).where(c.isin(query=fresh_keys))
            )
        counts = exp.select(
            found[0].subquery().as_("orphans"),
            (found[1].subquery() if len(found) > 1 else exp.Literal.number(0)).as_("resolved"),
        )
        values = self._metrics(impl, stored, parts, counts)
        orphans, resolved = int(values.pop("orphans")), int(values.pop("resolved"))
        values["unexpected"] = int(stored["unexpected_count"]) - resolved + orphans
        if resolved and values["unexpected"] and self.shown:
            return None  # which stored samples were resolved is not known (their values are not kept)
        fresh: list[tuple[Any, ...]] | None = []
        if orphans and self.shown:
            fresh = self._bounded([on_added._orphans()], impl)
        return self._with_samples(impl, stored, values, fresh)

    # --- shared -----------------------------------------------------------------------------------
    def _on(self, table: exp.Table) -> Ctx:
        return dataclasses.replace(self.ctx, relation=table, scope=None)

    def _metrics(
        self, impl: Expectation, stored: dict[str, Any], parts: Split, counts: exp.Select
    ) -> dict[str, Any]:
        """The stored row counts plus the added rows' (the check's own aggregates on them), and `counts`."""
        on_added = type(impl)(impl.type_name, dict(impl.kw), self._on(parts.added))
        metrics = on_added.aggregates()
        scan = exp.select(*[m.expr.as_(name, quoted=True) for name, m in metrics.items()]).from_(
            parts.added.copy()
        )
        query = exp.select(exp.Star()).from_(scan.subquery("m")).join(counts.subquery("c"), join_type="CROSS")
        names, rows = self.engine.execute(query)
        got = {name: int(v or 0) for name, v in zip(names, rows[0], strict=True)}
        before = {
            "element_count": int(stored["element_count"]),
            "considered": int(stored["element_count"]) - int(stored["missing_count"]),
        }
        if set(metrics) != set(before):
            # not the row counts of a row-wise check: evaluated in full
            raise InfraError(f"unexpected metrics {sorted(metrics)}")
        return {name: v + before.get(name, 0) for name, v in got.items()}

    def _bounded(self, branches: list[exp.Select], impl: Expectation) -> list[tuple[Any, ...]] | None:
        """The first `shown` rows in key order of each branch (key and sample columns), or None when
        samples cannot be merged in the engine's order."""
        order = self.ctx.order
        if not order or any(k in self.pii or self.ctx.family(k) not in ORDERABLE for k in order):
            return None
        cols = self._columns(impl)
        ordered = [exp.Ordered(this=col(k)) for k in order]
        union: exp.Query | None = None
        for b in branches:
            top = exp.select(exp.Star()).from_(
                (b if b.expressions else b.select(*[col(c) for c in cols]))
                .order_by(*[o.copy() for o in ordered])
                .limit(self.shown)
                .subquery()
            )
            union = top if union is None else exp.union(union, top, distinct=False)
        assert union is not None
        _, rows = self.engine.execute(union)
        return rows

    def _columns(self, impl: Expectation) -> list[str]:
        cols = list(self.ctx.order)
        return cols + [c for c in impl.sample_columns() if c not in cols]

    def _with_samples(
        self,
        impl: Expectation,
        stored: dict[str, Any],
        values: dict[str, Any],
        fresh: list[tuple[Any, ...]] | None,
    ) -> dict[str, Any] | None:
        """`values` with the merged samples, or None when they cannot be proven those of a full run."""
        if values["unexpected"] == 0 or not self.shown:
            return {**values, "__samples": []}
        if fresh is None:
            return None
        old = stored.get("partial_unexpected_index_list")
        if not isinstance(old, list) or len(old) != min(self.shown, int(stored["unexpected_count"])):
            return None  # the stored samples are not the complete first ones
        order, wanted, cols = self.ctx.order, impl.sample_columns(), self._columns(impl)
        try:
            samples: list[dict[str, Any]] = [
                {"key": {k: e[k] for k in order}, "values": [e[c] for c in wanted]} for e in old
            ]
        except (KeyError, TypeError):
            return None
        for row in fresh:
            rec = dict(zip(cols, row, strict=True))
            shown = {c: (mask(v) if c in self.pii else to_py(v)) for c, v in rec.items()}
            samples.append({"key": {k: shown[k] for k in order}, "values": [shown[c] for c in wanted]})
        try:
            ranked = sorted(samples, key=lambda s: self._rank(s["key"]))
            ranks = [self._rank(s["key"]) for s in ranked]
        except (TypeError, ValueError):
            return None
        for j in range(1, len(ranked)):
            if ranks[j] == ranks[j - 1] and ranked[j] != ranked[j - 1]:
                return None  # equal keys, other values: their order in a full run is the engine's
        return {**values, "__samples": ranked[: self.shown]}

    def _rank(self, key: dict[str, Any]) -> tuple[Any, ...]:
        """A key in the engine's ascending order (NULLs last)."""
        out: list[Any] = []
        for k in self.ctx.order:
            v, family = key[k], self.ctx.family(k)
            if v is None:
                out.append((1, 0))
            elif family == "int":
                out.append((0, int(v) if not isinstance(v, bool) else _refuse()))
            elif family == "string":
                out.append((0, str(v) if isinstance(v, str) else _refuse()))
            elif family == "date":
                out.append((0, dt.date.fromisoformat(v)))
            else:
                out.append((0, dt.datetime.fromisoformat(v)))
        return tuple(out)


def _refuse() -> Any:
    raise TypeError("a key value of another type")


def _col(name: str, table: str) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def stored_result(plan: Plan, i: int, spec_type: str, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The stored result of check `i` when it is a completed evaluation of this very check."""
    if not plan.state.run_id or i >= len(plan.state.outcomes):
        return None
    out = plan.state.outcomes[i]
    config = out.get("expectation_config") or {}
    same = json.dumps(config.get("kwargs"), sort_keys=True, default=str) == json.dumps(
        kwargs, sort_keys=True, default=str
    )
    if (
        config.get("type") != spec_type
        or not same
        or (out.get("exception_info") or {}).get("raised_exception")
    ):
        return None
    result = out.get("result") or {}
    if not all(
        isinstance(result.get(k), int) for k in ("element_count", "unexpected_count", "missing_count")
    ):
        return None
    return dict(result)


def read_snapshots(engine: Engine, plan: Plan) -> dict[str, str]:
    """`snapshot_print` of each table the engine read file by file for this run, when it is the one
    the plan saw (else none: the next run evaluates the whole-table checks in full)."""
    out: dict[str, str] = {}
    for dataset, (_, planned) in plan.local.items():
        table = engine.snapshot(dataset)
        if table is None or planned is None:
            continue
        printed = snapshot_print(table)
        if printed == planned:
            out[dataset] = printed
    return out
