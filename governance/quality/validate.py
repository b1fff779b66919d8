"""`validate` rules of the quality suites (expectations/**/*.yaml).

Two sources, no list of our own: the vocabulary of the registry (`expectations/vocabulary.py`: types,
kwargs and the JSON Schema of each kwarg's value), and the expectation implementations themselves. Each
expectation that passes the vocabulary is built and compiled for the engine that will run it (the
dataset's format and `quality.engine`), exactly as a run does before its first query: whatever that
engine marks `Unsupported` (a `row_condition`, strftime or JSON parsing off DuckDB, a string bound on a
numeric column, …) or rejects as bad input is reported at FILE:LINE now instead of every night.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from governance.errors import InputError, Location
from governance.quality.expectations.vocabulary import (
    NOT_IMPLEMENTED,
    RANGE,
    VOCABULARY,
    ExpectationType,
    describe,
    kwarg_schema,
    matches,
)

if TYPE_CHECKING:
    from governance.quality.runnable_cache import RunnableCache
    from governance.specs.expectations import Expectation as ExpectationSpec
    from governance.validation import Validator


def rules(v: Validator) -> None:
    from governance.quality.runnable_cache import RunnableCache

    memo = RunnableCache(v.p.state_dir)
    _suites(v, memo)
    memo.save()


def _suites(v: Validator, memo: RunnableCache) -> None:
    v.duplicates(v.p.suites, lambda s: s.suite, "suite")
    for s in v.p.suites:
        if not v.dataset_ref(s.dataset, v.at(s, "dataset")):
            continue
        if s.incremental:
            where = v.at(s.incremental, "partition")
            v.column_ref(s.dataset, s.incremental.partition, where)
            parts = v.p.config.datasets[s.dataset].partitioning
            if parts and s.incremental.partition not in parts:
                v.add(
                    where,
                    f"suite {s.suite}: incremental partition '{s.incremental.partition}' is not a partition"
                    f" column of {s.dataset} ({', '.join(parts)})",
                )
        seen: dict[str, Location] = {}
        for e in s.expectations:
            before = len(v.problems)
            expectation(v, s.dataset, e)
            if len(v.problems) == before:
                runnable(v, s.dataset, e, memo)
            ident = f"{e.type} {sorted((k, repr(val)) for k, val in e.kwargs.items() if k != 'mostly')}"
            if ident in seen:
                v.add(e.where, f"duplicate expectation {e.type} (same kwargs as {seen[ident]})")
            else:
                seen[ident] = e.where


def expectation(v: Validator, dataset: str, e: ExpectationSpec) -> None:
    etype, kwargs = e.type, e.kwargs
    spec = VOCABULARY.get(etype)
    if spec is None:
        if etype in NOT_IMPLEMENTED:
            v.add(v.at(e, "type"), f"expectation type '{etype}' is not implemented by smartflow-gov")
        else:
            v.add(v.at(e, "type"), f"unknown expectation type '{etype}'{v.suggest(etype, VOCABULARY)}")
        return
    for key in sorted(spec.required - kwargs.keys()):
        v.add(v.at(e, "kwargs"), f"{etype}: missing kwarg '{key}'")
    for key in kwargs:
        if key not in spec.allowed:
            v.add(v.at(e, "kwargs", key), f"{etype}: unknown kwarg '{key}'{v.suggest(key, spec.allowed)}")
    _KwargChecks(v, dataset, e, spec).run()


_OWN_MESSAGE = frozenset({"max_lag"})  # checked below with a message that says what a duration is


class _KwargChecks:
    """Each kwarg's value against its JSON Schema, then what a schema cannot say (references, regexes)."""

    def __init__(self, v: Validator, dataset: str, e: ExpectationSpec, spec: ExpectationType) -> None:
        self.v, self.dataset, self.e, self.spec, self.kw = v, dataset, e, spec, e.kwargs
        self.etype = e.type

    def at(self, key: str) -> Location:
        return self.v.at(self.e, "kwargs", key)

    def run(self) -> None:
        kw, v = self.kw, self.v
        for key, value in kw.items():
            schema = kwarg_schema(key)
            if key not in self.spec.allowed or not schema or key in _OWN_MESSAGE or matches(value, schema):
                continue
            if key == "mostly" and isinstance(value, int | float) and not isinstance(value, bool):
                v.add(self.at(key), f"{self.etype}: mostly must be a number between 0 and 1")
            else:
                v.add(
                    self.at(key),
                    f"{self.etype}: kwarg '{key}' must be {describe(schema)}, got {v.kind(value)}",
                )
        for key in self.spec.column_kwargs:
            if isinstance(kw.get(key), str):
                v.column_ref(self.dataset, kw[key], self.at(key))
        for key in self.spec.column_list_kwargs:
            if key in kw:
                if not isinstance(kw[key], list) or not kw[key]:
                    v.add(
                        self.at(key), f"{self.etype}: kwarg '{key}' must be a non-empty list of column names"
                    )
                else:
                    for col in kw[key]:
                        v.column_ref(self.dataset, col, self.at(key))
        if isinstance(kw.get("regex"), str):
            v.regex(kw["regex"], self.at("regex"))
        if isinstance(kw.get("regex_list"), list):
            for rx in kw["regex_list"]:
                v.regex(rx, self.at("regex_list"))
        self.range()
        if self.etype == "expect_column_values_to_exist_in" and isinstance(kw.get("dataset"), str):
            other = kw["dataset"]
            if v.dataset_ref(other, self.at("dataset")) and isinstance(kw.get("other_column"), str):
                v.column_ref(other, kw["other_column"], self.at("other_column"))
        if self.etype == "expect_column_max_to_be_recent" and "max_lag" in kw:
            v.duration(kw["max_lag"], self.at("max_lag"), f"{self.etype}: max_lag")

    def range(self) -> None:
        kw = self.kw
        if not (RANGE & self.spec.allowed):
            return
        lo, hi = kw.get("min_value"), kw.get("max_value")
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (lo, hi))
        if numbers and lo > hi:  # type: ignore[operator]
            self.v.add(self.at("min_value"), f"{self.etype}: min_value {lo} is greater than max_value {hi}")
        needs_bound = self.etype in (
            "expect_column_values_to_be_between",
            "expect_column_value_lengths_to_be_between",
        )
        if needs_bound and lo is None and hi is None:
            self.v.add(self.v.at(self.e, "kwargs"), f"{self.etype}: needs min_value, max_value or both")


def engine_dialect(v: Validator, dataset: str) -> tuple[str, str] | None:
    """(engine, sqlglot dialect) that `quality run` uses for `dataset`, or None when validate cannot
    know it without a secret or a network call (a sql connection whose URL variable is not set) or
    when the engine is GX itself (which has its own rules)."""
    spec = v.p.config.datasets[dataset]
    if spec.format == "spark":
        return "spark", "spark"
    if spec.format == "sql":
        from governance.config import env_names
        from governance.lake.dialects import sqla_dialect

        conn = v.p.config.connections.get(spec.connection or "")
        if conn is None or any(n not in os.environ for n in env_names(conn.url)):
            return None
        scheme = conn.resolved_url().split("://", 1)[0]
        return "sql", sqla_dialect(scheme.split("+", 1)[0])
    engine = v.p.config.quality.engine
    if engine == "gx":
        return None
    return (engine, "spark") if engine == "spark" else ("duckdb", "duckdb")


def runnable(v: Validator, dataset: str, e: ExpectationSpec, memo: RunnableCache | None = None) -> None:
    """Build and compile the expectation for its engine, as a run does before its first query (or
    replay what that gave for the same inputs, see governance.quality.runnable_cache)."""
    from governance.quality.expectations import implementation

    target = engine_dialect(v, dataset)
    klass = implementation(e.type)
    if target is None or klass is None:
        return
    engine, dialect = target
    types = v.column_types(dataset)
    if types is None:  # columns unknown: every column it names, of no known type
        names = [e.kwargs.get(k) for k in ("column", "column_A", "column_B")]
        names += [c for k in ("column_list",) for c in (e.kwargs.get(k) or []) if isinstance(c, str)]
        types = {n: "" for n in names if isinstance(n, str)}
    order = [k for k in v.p.config.datasets[dataset].key if k in types]
    k = None
    if memo is not None:
        from governance.quality.runnable_cache import key

        k = key(dataset, e.type, e.kwargs, engine, dialect, types, order)
        known, answer = memo.get(k)
        if known:
            if answer is not None:
                message, kwarg = answer
                v.add(v.at(e, "kwargs", kwarg) if kwarg else v.at(e, "type"), message)
            return
    found = _compile(e, klass, dataset, engine, dialect, types, order)
    if found is not None:
        message, kwarg = found
        v.add(v.at(e, "kwargs", kwarg) if kwarg else v.at(e, "type"), message)
    if memo is not None and k is not None:
        memo.put(k, list(found) if found is not None else None)


def _compile(
    e: ExpectationSpec,
    klass: Any,
    dataset: str,
    engine: str,
    dialect: str,
    types: dict[str, str],
    order: list[str],
) -> tuple[str, str | None] | None:
    """None when the expectation builds and compiles, else (problem message, the kwarg it names)."""
    from sqlglot import exp

    from governance.quality.expectations.base import ColumnMissing, Ctx, Unsupported

    ctx = Ctx(
        dataset=dataset,
        relation=exp.to_table("validated"),
        dialect=dialect,
        columns=types,
        order=order,
        other=lambda name: exp.to_table("other"),
    )
    try:
        impl = klass(e.type, dict(e.kwargs), ctx)
        impl.aggregates()
        impl.extras()
        impl.extra_row()
        impl.unexpected()
        for expr in [*impl.aggregates().values()]:
            expr.expr.sql(dialect=dialect)
    except Unsupported as exc:
        return f"{e.type}: the {engine} engine cannot run this: {exc}", _named(e, str(exc))
    except ColumnMissing:
        pass  # reported as a missing column already
    except (InputError, KeyError, TypeError, ValueError) as exc:
        message = exc.problems[0].message if isinstance(exc, InputError) else str(exc)
        return f"{e.type}: {message}", _named(e, message)
    return None


def _named(e: ExpectationSpec, message: str) -> str | None:
    """The kwarg a message names (its line is shown), else None (the expectation's type line)."""
    return next((k for k in e.kwargs if k in message), None)
