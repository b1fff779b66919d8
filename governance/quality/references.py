"""Referenced datasets that live on another engine (a PostgreSQL table checked against a Delta table, or
the reverse): the distinct non-null key set of the referenced columns is read where that dataset lives and
loaded into the validating engine as a temporary table, so `expect_column_values_to_exist_in` runs
there as the same anti-join. The key set is the small side (a dimension's keys, not the fact rows).

A referenced dataset that cannot be read makes only the expectations that read it errors (the engine's
fault, exit 3); the rest of the suite is evaluated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlglot import exp

from governance.errors import GovernanceError
from governance.lake.engines import Engine, EngineLost, open_engine, view_name
from governance.project import Project
from governance.quality.expectations.base import ColumnMissing, type_family
from governance.specs.expectations import Suite

log = logging.getLogger("governance.quality")
EXIST_IN = "expect_column_values_to_exist_in"


def reachable(project: Project, kind: str, dataset: str, other: str) -> bool:
    """Whether the engine validating `dataset` can read `other` directly."""
    fmt = project.dataset(other).format
    if kind == "sql":
        return fmt == "sql" and project.dataset(other).connection == project.dataset(dataset).connection
    if kind == "spark":
        return fmt in ("delta", "parquet", "spark")
    return fmt in ("delta", "parquet")


def home_kind(project: Project, dataset: str) -> str:
    """The engine where a dataset lives."""
    fmt = project.dataset(dataset).format
    return {"sql": "sql", "spark": "spark"}.get(fmt, "duckdb")


def referenced_columns(suites: list[Suite], dataset: str) -> list[str]:
    cols = {
        str(e.kwargs["other_column"])
        for s in suites
        for e in s.expectations
        if e.type == EXIST_IN
        and e.kwargs.get("dataset") == dataset
        and isinstance(e.kwargs.get("other_column"), str)
    }
    return sorted(cols)


def bring(
    project: Project, engine: Engine, suites: list[Suite], foreign: list[str]
) -> Callable[[str], exp.Table]:
    """`Ctx.other` for `engine`: its own datasets, plus the key sets of `foreign` ones loaded into it."""
    loaded: dict[str, exp.Table] = {}
    failed: dict[str, Exception] = {}
    for name in foreign:
        columns = referenced_columns(suites, name)
        if not columns:
            continue
        try:
            loaded[name] = _load(project, engine, name, columns)
        except (GovernanceError, ColumnMissing) as exc:
            log.warning("referenced dataset %s not read: %s", name, exc)
            failed[name] = exc

    def other(dataset: str) -> exp.Table:
        if isinstance(failed.get(dataset), ColumnMissing):
            raise ColumnMissing(str(failed[dataset]))
        if dataset in failed:
            first = (str(failed[dataset]).splitlines() or [type(failed[dataset]).__name__])[0]
            raise EngineLost(f"referenced dataset {dataset} could not be read: {first}")
        if dataset in loaded:
            return loaded[dataset]
        return engine.relation(dataset)

    return other


def _load(project: Project, engine: Engine, other: str, columns: list[str]) -> exp.Table:
    source = open_engine(project, home_kind(project, other), [other])
    source.sensitive = project.pii_columns(other)
    try:
        types = source.columns(other)
        missing = [c for c in columns if c not in types]
        if missing:
            raise ColumnMissing(f'The column "{missing[0]}" of {other} does not exist.')
        cols = [exp.column(c, quoted=True) for c in columns]
        query = (
            exp.select(*cols)
            .distinct()
            .from_(source.relation(other))
            .where(exp.and_(*[c.copy().is_(exp.null()).not_() for c in cols]))
        )
        _, rows = source.execute(query)
    finally:
        source.close()
    log.info(
        "%s: %d distinct key(s) of %s brought to the %s engine",
        other,
        len(rows),
        ", ".join(columns),
        engine.kind,
    )
    families = {c: type_family(types[c]) for c in columns}
    return engine.load_rows(view_name(other) + "__keys", families, rows)
