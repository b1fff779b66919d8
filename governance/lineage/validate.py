"""`validate` rules of manifests/*.yaml: unique jobs, their datasets, column lineage targets, and the
tables a job's SQL names (parsed only: the schema-aware analysis is `lineage build`'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.specs.manifests import Manifest
    from governance.statecache import StateCache
    from governance.validation import Validator


def rules(v: Validator) -> None:
    from governance.statecache import StateCache

    parsed = StateCache(v.p.state_dir, "sql_tables", _format())
    v.duplicates(v.p.manifests, lambda m: m.job, "job")
    for m in v.p.manifests:
        for key in ("inputs", "outputs"):
            for i, name in enumerate(getattr(m, key)):
                v.dataset_ref(name, v.at(m, key, i))
        for out, sources in m.column_lineage.items():
            where = v.at(m, "column_lineage", out)
            v.target_ref(out, where)
            for src in sources:
                v.target_ref(src, where)
        if m.sql:
            _sql_tables(v, m, m.sql, parsed)
    parsed.save()


def _format() -> str:
    import sqlglot

    return f"sql_tables/1/{sqlglot.__version__}"


def _named_tables(sql: str) -> tuple[list[str], list[tuple[str, int]]] | None:
    """(tables the SQL makes itself: CTEs, created tables; every dataset-like table it names, with its
    line), or None when it does not parse. A function of the SQL text alone."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from governance.lineage.steps import dataset_name

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError:
        return None
    made: set[str] = set()
    for stmt in statements:
        made |= {cte.alias_or_name for cte in stmt.find_all(exp.CTE)}
        if isinstance(stmt, exp.Create) and isinstance(stmt.this, exp.Table):
            made.add(dataset_name(stmt.this))
    named = []
    for stmt in statements:
        for table in stmt.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier):  # not a table function (read_parquet(…))
                named.append((dataset_name(table), int(table.this.meta.get("line") or 0)))
    return sorted(made), named


def _sql_tables(v: Validator, m: Manifest, sql: str, parsed: StateCache) -> None:
    """A table the SQL reads or writes that is neither a declared dataset, nor listed by the manifest, nor
    made by the SQL itself (a CTE, a view or temporary table it creates) would leave a hole in the lineage.
    What the SQL names is kept by the hash of its text (state_dir/cache/sql_tables.json)."""
    import hashlib

    from governance.lineage.build import sql_location

    key = hashlib.sha256(sql.encode("utf-8", "surrogatepass")).hexdigest()
    if key in parsed.entries:
        found = parsed.entries[key]
    else:
        found = _named_tables(sql)
        parsed.put(key, found)
    if found is None:
        return  # `lineage build` reports where the SQL does not parse
    made, named = found
    known = set(v.p.config.datasets) | set(m.inputs) | set(m.outputs) | set(made)
    reported: set[str] = set()
    for name, line in named:
        if name in known or name in reported or v.excused("datasets", name):
            continue
        reported.add(name)
        v.add(
            sql_location(v.p, m, line),
            f"job {m.job}: the SQL names table '{name}', which is not a declared dataset"
            f"{v.suggest(name, v.p.config.datasets)}",
        )
