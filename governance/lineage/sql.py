"""Column lineage of one job's SQL, computed with sqlglot (parser, `qualify`, scopes and `lineage`).

`analyze(sql, schema, default_target)` parses the statement(s), qualifies every column against the
known dataset schemas (so `SELECT *` expands), walks sqlglot's lineage tree of every output column and
classifies each step of each path:

- identity: the output is the input column unchanged;
- transformation: any expression over it (CAST, COALESCE, arithmetic, CASE results, string functions);
- aggregation: the column is the argument of an aggregate (window aggregates too);
- masking: it passes through a hash/mask function (sha2, md5, hash, mask, …);
- filter: indirect — used only in WHERE / JOIN / GROUP BY / HAVING / QUALIFY (applies to every output
  column), in a CASE condition or in a window's PARTITION BY / ORDER BY (applies to that column).

A multi-step path takes the strongest step (identity < transformation < aggregation < masking; any
indirect step makes it a filter); of several paths between the same two columns the least protective
direct one wins, so a value that leaks unmasked through any path is never reported as masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from governance.lineage.steps import DIRECT as DIRECT
from governance.lineage.steps import MASKING_FUNCTIONS as MASKING_FUNCTIONS
from governance.lineage.steps import TRANSFORMATIONS as TRANSFORMATIONS
from governance.lineage.steps import Step, dataset_name, leaf_column, merge_paths, trace

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope


@dataclass(frozen=True)
class ColumnEdge:
    source: str  # dataset
    source_column: str
    target: str  # dataset
    target_column: str
    transformation: str
    subtype: str
    description: str = ""


@dataclass(frozen=True)
class SqlProblem:
    kind: str  # unparsed_sql | unknown_column | unknown_dataset | unsupported_sql
    message: str
    line: int = 0  # 1-based line inside the SQL text, 0 when unknown


@dataclass
class SqlLineage:
    """What one SQL text reads, writes and how each written column is derived."""

    targets: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)  # target -> its output columns in order
    edges: list[ColumnEdge] = field(default_factory=list)
    row_count_columns: dict[str, list[str]] = field(default_factory=dict)  # COUNT(*)-like outputs
    problems: list[SqlProblem] = field(default_factory=list)
    statement: str = ""


# --------------------------------------------------------------------------------------------------
def sqlglot_schema(columns: dict[str, dict[str, str]]) -> dict[str, Any]:
    """{dataset: {column: type}} → sqlglot's nested mapping (datasets of the most common depth)."""
    out: dict[str, Any] = {}
    depth = _common_depth(columns)
    for name, cols in columns.items():
        parts = name.split(".")
        if len(parts) != depth or not cols:
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = {c: (t or "UNKNOWN") for c, t in cols.items()}
    return out


def mapping_schema(columns: dict[str, dict[str, str]], dialect: str = "duckdb") -> Any:
    """A sqlglot MappingSchema, built once and shared by every job of a build (it is costly)."""
    from sqlglot.schema import MappingSchema

    return MappingSchema(sqlglot_schema(columns), dialect=dialect)


def _common_depth(columns: dict[str, dict[str, str]]) -> int:
    depths = [len(n.split(".")) for n in columns]
    return max(set(depths), key=depths.count) if depths else 2


def analyze(
    sql: str,
    schema: dict[str, dict[str, str]],
    default_target: str | None = None,
    dialect: str = "duckdb",
    prepared: Any = None,
) -> SqlLineage:
    """Column lineage of `sql` given the known schemas ({dataset: {column: type}}).

    `prepared` is `mapping_schema(schema)` when the caller analyses many statements over one schema.
    """
    import sqlglot
    from sqlglot.errors import ParseError, SqlglotError, TokenError

    result = SqlLineage(statement=sql)
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as err:
        problem = _parse_problem(err)
        lines = sql.splitlines()
        if 0 < problem.line <= len(lines) and lines[problem.line - 1].strip():
            text = lines[problem.line - 1].strip()
            text = text if len(text) <= 100 else text[:97] + "..."
            problem = SqlProblem(problem.kind, f"{problem.message} in: {text}", problem.line)
        result.problems.append(problem)
        return result
    if not statements:
        result.problems.append(SqlProblem("unparsed_sql", "the SQL is empty", 1))
        return result
    mapping = prepared if prepared is not None else mapping_schema(schema, dialect)
    for stmt in statements:
        try:
            _statement(stmt, schema, default_target, mapping, dialect, result)
        except (SqlglotError, ValueError, KeyError, AttributeError, RecursionError) as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            result.problems.append(
                SqlProblem("unparsed_sql", f"SQL cannot be analysed: {first}", _line_of(stmt))
            )
    result.inputs = sorted(set(result.inputs) - set(result.targets))
    result.edges = [
        e for e in _dedupe(result.edges) if e.source not in schema or e.source_column in schema[e.source]
    ]
    return result


def _statement(
    stmt: exp.Expr,
    schema: dict[str, dict[str, str]],
    default_target: str | None,
    mapping: Any,
    dialect: str,
    result: SqlLineage,
) -> None:
    from sqlglot import exp

    if isinstance(stmt, exp.Insert):
        _insert(stmt, mapping, schema, dialect, result)
    elif isinstance(stmt, exp.Create) and isinstance(stmt.expression, exp.Query):
        target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
        names = _schema_columns(stmt.this) if isinstance(stmt.this, exp.Schema) else None
        _query(stmt.expression, dataset_name(target), names, mapping, dialect, result)
    elif isinstance(stmt, exp.Merge):
        _merge(stmt, mapping, schema, dialect, result)
    elif isinstance(stmt, exp.Update):
        _update(stmt, mapping, dialect, result)
    elif isinstance(stmt, exp.Query):
        if not default_target:
            result.problems.append(
                SqlProblem("unsupported_sql", "a plain SELECT needs exactly one output dataset", 1)
            )
            return
        _query(stmt, default_target, None, mapping, dialect, result)
    else:
        line = _line_of(stmt)
        kind = type(stmt).__name__.upper()
        result.problems.append(
            SqlProblem("unsupported_sql", f"{kind} statement carries no lineage; ignored", line)
        )


def _parse_problem(err: Exception) -> SqlProblem:
    errors = getattr(err, "errors", None) or []
    if errors:
        first = errors[0]
        msg = str(first.get("description") or err).splitlines()[0]
        msg = re.sub(r"<Token token_type: [^,]+, text: ([^,]*),[^>]*>", r"'\1'", msg)
        near = (first.get("highlight") or "").strip()
        text = f"SQL does not parse: {msg}" + (f" (near '{near}')" if near else "")
        return SqlProblem("unparsed_sql", text, int(first.get("line") or 1))
    line_match = re.search(r"[Ll]ine:? (\d+)", str(err))
    first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
    return SqlProblem(
        "unparsed_sql", f"SQL does not parse: {first_line}", int(line_match.group(1)) if line_match else 1
    )


def _line_of(node: exp.Expr) -> int:
    from sqlglot import exp

    for sub in node.walk():
        if isinstance(sub, exp.Identifier) and sub.meta.get("line"):
            return int(sub.meta["line"])
    return 1


def _schema_columns(schema: exp.Schema) -> list[str]:
    return [e.name for e in schema.expressions]


# --------------------------------------------------------------------------------------------------
def _qualify(
    query: exp.Expr, mapping: Any, dialect: str, result: SqlLineage
) -> tuple[exp.Expr, Scope | None]:
    """Qualify columns against the schema; an unknown column is a problem, then best effort without it."""
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    try:
        qualified = qualify(query.copy(), schema=mapping, dialect=dialect, validate_qualify_columns=True)
    except OptimizeError as err:
        result.problems.append(_column_problem(query, str(err)))
        try:
            qualified = qualify(query.copy(), schema=mapping, dialect=dialect, validate_qualify_columns=False)
        except OptimizeError:
            qualified = qualify(query.copy(), schema={}, dialect=dialect, validate_qualify_columns=False)
    return qualified, build_scope(qualified)


def _column_problem(query: exp.Expr, message: str) -> SqlProblem:
    from sqlglot import exp

    message = message.splitlines()[0]
    m = re.search(r"Line: (\d+)", message)
    line = int(m.group(1)) if m else 0
    name_m = re.search(r"(?:Unknown column: |Column ')([^' ]+)", message)
    if not line and name_m:
        for col in query.find_all(exp.Column):
            if col.name == name_m.group(1) and col.this.meta.get("line"):
                line = int(col.this.meta["line"])
                break
    clean = re.sub(r"\.? ?Line: \d+, Col: \d+\.?", "", message).strip()
    if name_m is None:  # not about a column: the query's structure could not be resolved
        return SqlProblem("unparsed_sql", f"SQL cannot be analysed: {clean}", line or _line_of(query))
    return SqlProblem("unknown_column", clean, line or _line_of(query))


def _query(
    query: exp.Query,
    target: str,
    names: list[str] | None,
    mapping: Any,
    dialect: str,
    result: SqlLineage,
) -> None:
    """Lineage of a query writing `target`; `names` renames its select list positionally (INSERT cols)."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage

    _inline_named_windows(query)
    qualified, scope = _qualify(query, mapping, dialect, result)
    if scope is None:
        result.problems.append(SqlProblem("unsupported_sql", "no query to trace", _line_of(query)))
        return
    result.targets.append(target)
    result.inputs += _base_tables(scope)
    for fn in _table_functions(scope):
        result.problems.append(
            SqlProblem(
                "unsupported_sql",
                f"reads {fn} directly, not a dataset: its lineage stops here",
                _line_of(query),
            )
        )
    selects = [s.alias_or_name for s in qualified.selects]  # type: ignore[attr-defined]
    if names is not None and len(names) != len(selects):
        result.problems.append(
            SqlProblem(
                "unknown_column",
                f"{len(names)} target columns but the query returns {len(selects)}",
                _line_of(query),
            )
        )
    out_names = names if names is not None and len(names) == len(selects) else selects
    try:
        nodes = lineage(
            None, qualified, mapping, dialect=dialect, scope=scope, trim_selects=False, copy=False
        )
    except (SqlglotError, ValueError) as err:
        result.problems.append(SqlProblem("unsupported_sql", f"cannot trace lineage: {err}", _line_of(query)))
        return
    outputs = result.outputs.setdefault(target, [])
    for select_name, out in zip(selects, out_names, strict=False):
        if out not in outputs:
            outputs.append(out)
        node = nodes.get(select_name)
        if node is None:
            continue
        if any(_counts_rows(n.expression) for n in node.walk() if leaf_column(n) is None):
            result.row_count_columns.setdefault(target, []).append(out)
        if any(isinstance(n.expression, exp.Placeholder) for n in node.walk()):
            result.problems.append(
                SqlProblem(
                    "unsupported_sql",
                    f"column '{out}': part of its lineage cannot be traced (LATERAL, PIVOT or an unknown source)",
                    _line_of(query),
                )
            )
        described = _describe(node.expression, dialect)
        for (ds, col), step in trace(node).items():
            result.edges.append(
                ColumnEdge(ds, col, target, out, step.transformation, step.subtype, described)
            )
    for ds, col, subtype in _filter_columns(scope, mapping, dialect):
        for out in out_names:
            result.edges.append(ColumnEdge(ds, col, target, out, "filter", subtype))


def _describe(select: exp.Expr, dialect: str) -> str:
    """The output column's expression as SQL, for OpenLineage's transformation `description`."""
    from sqlglot import exp

    inner = select.unalias() if isinstance(select, exp.Alias) else select
    text = inner.sql(dialect=dialect, comments=False)
    return text if len(text) <= 200 else text[:197] + "..."


def _inline_named_windows(query: exp.Expr) -> None:
    """`f(x) OVER w … WINDOW w AS (PARTITION BY …)` → the window spelled out where it is used, so the
    partition and order columns are seen as the window inputs of that column."""
    from sqlglot import exp

    for select in list(query.find_all(exp.Select)):
        defs = {
            w.this.name: w for w in select.args.get("windows") or [] if isinstance(w.this, exp.Identifier)
        }
        if not defs:
            continue
        for win in [w for w in select.find_all(exp.Window) if w.args.get("alias") is not None]:
            named = defs.get(win.args["alias"].name)
            if named is None or win in defs.values():
                continue
            for key in ("partition_by", "order", "spec"):
                value = named.args.get(key)
                if value is not None and not win.args.get(key):
                    win.set(key, [v.copy() for v in value] if isinstance(value, list) else value.copy())
            win.set("alias", None)
        select.set("windows", None)


def _insert(
    stmt: exp.Insert,
    mapping: Any,
    schema: dict[str, dict[str, str]],
    dialect: str,
    result: SqlLineage,
) -> None:
    from sqlglot import exp

    this = stmt.this
    table = this.this if isinstance(this, exp.Schema) else this
    target = dataset_name(table)
    query = stmt.expression
    if not isinstance(query, exp.Query):
        result.problems.append(
            SqlProblem("unsupported_sql", "INSERT … VALUES carries no column lineage", _line_of(stmt))
        )
        result.targets.append(target)
        return
    if isinstance(this, exp.Schema):
        names: list[str] | None = _schema_columns(this)
    else:
        declared = list(schema.get(target, {}))
        names = declared if declared and len(declared) == len(query.selects) else None
        if query.is_star:
            names = None
    _query(query, target, names, mapping, dialect, result)


def _merge(
    stmt: exp.Merge,
    mapping: Any,
    schema: dict[str, dict[str, str]],
    dialect: str,
    result: SqlLineage,
) -> None:
    """MERGE: every assigned target column from its UPDATE SET / INSERT VALUES expression.

    Each branch becomes one SELECT over `USING … JOIN target ON <merge condition>`, so the ON columns are
    JOIN (indirect) sources and the target's own columns (SET total = t.total + s.amount) resolve too.
    """
    from sqlglot import exp

    target_table = stmt.this
    target = dataset_name(target_table)
    using = stmt.args.get("using")
    on = stmt.args.get("on")
    whens = stmt.args.get("whens")
    branches: list[tuple[str, exp.Expr]] = []
    for when in whens.expressions if whens else []:
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            for eq in then.expressions:
                branches.append((eq.this.name, eq.expression))
        elif isinstance(then, exp.Insert):
            cols = then.this.expressions if isinstance(then.this, exp.Tuple | exp.Schema) else []
            values = then.expression.expressions if isinstance(then.expression, exp.Tuple) else []
            if not cols and values:
                cols = [exp.column(c) for c in schema.get(target, {})][: len(values)]
            branches += [(c.name, v) for c, v in zip(cols, values, strict=False)]
    if not branches or using is None:
        result.targets.append(target)
        return
    select = exp.select(*[exp.alias_(value.copy(), f"_m{i}") for i, (_, value) in enumerate(branches)])
    select = select.from_(using.copy()).join(target_table.copy(), on=on.copy() if on else None)
    _assignments(select, target, [name for name, _ in branches], mapping, dialect, result)


def _update(stmt: exp.Update, mapping: Any, dialect: str, result: SqlLineage) -> None:
    """UPDATE t SET c = expr [FROM …] [WHERE …]: each SET expression over `t` and the FROM sources."""
    from sqlglot import exp

    target_table = stmt.this
    target = dataset_name(target_table)
    pairs = [(eq.this.name, eq.expression) for eq in stmt.expressions if isinstance(eq, exp.EQ)]
    if not pairs:
        result.targets.append(target)
        return
    select = exp.select(*[exp.alias_(value.copy(), f"_m{i}") for i, (_, value) in enumerate(pairs)])
    select = select.from_(target_table.copy())
    source = stmt.args.get("from_")
    if source is not None:
        first = source.this.copy()
        nested = first.args.get("joins") or []
        first.set("joins", None)
        for table in [first, *[j.this for j in nested]]:
            select = select.join(table.copy() if table is not first else table, join_type="cross")
    if stmt.args.get("where") is not None:
        select = select.where(stmt.args["where"].this.copy())
    _assignments(select, target, [name for name, _ in pairs], mapping, dialect, result)


def _assignments(
    select: exp.Select, target: str, names: list[str], mapping: Any, dialect: str, result: SqlLineage
) -> None:
    """Lineage of assigned target columns (MERGE, UPDATE); the target's own columns feeding it are no
    lineage edge (SET total = total + x), only its other sources are."""
    sub = SqlLineage()
    _query(select, target, names, mapping, dialect, sub)
    result.targets += sub.targets
    result.inputs += sub.inputs
    result.problems += sub.problems
    for ds, cols in sub.row_count_columns.items():
        result.row_count_columns.setdefault(ds, []).extend(cols)
    outputs = result.outputs.setdefault(target, [])
    outputs += [c for c in sub.outputs.get(target, []) if c not in outputs]
    result.edges += [e for e in sub.edges if e.source != target]  # the target feeding itself is no lineage


# --------------------------------------------------------------------------------------------------
def _base_tables(scope: Scope) -> list[str]:
    from sqlglot import exp

    names = []
    for sc in scope.traverse():
        for src in sc.sources.values():
            if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier):
                names.append(dataset_name(src))
    return names


def _table_functions(scope: Scope) -> list[str]:
    from sqlglot import exp

    found = []
    for sc in scope.traverse():
        for src in sc.sources.values():
            if (
                isinstance(src, exp.Table)
                and isinstance(src.this, exp.Func)
                and not isinstance(src.this, exp.Unnest)
            ):
                found.append(src.this.sql(comments=False))
    return found


def _counts_rows(select: exp.Expr) -> bool:
    from sqlglot import exp

    return any(isinstance(c.this, exp.Star) for c in select.find_all(exp.Count))


def _filter_columns(scope: Scope, mapping: Any, dialect: str) -> list[tuple[str, str, str]]:
    """Base columns used to choose, join or group rows anywhere in the query (indirect lineage)."""
    from sqlglot import exp
    from sqlglot.lineage import to_node
    from sqlglot.optimizer.scope import ScopeType
    from sqlglot.schema import ensure_schema

    schema = ensure_schema(mapping, dialect=dialect)
    found: list[tuple[str, str, str]] = []
    for sc in scope.traverse():
        select = sc.expression
        if not isinstance(select, exp.Select):
            continue
        clauses: list[tuple[exp.Expr, str]] = []
        for key, subtype in (
            ("where", "FILTER"),
            ("group", "GROUP_BY"),
            ("having", "FILTER"),
            ("qualify", "FILTER"),
        ):
            if select.args.get(key) is not None:
                clauses.append((select.args[key], subtype))
        for join in select.args.get("joins") or []:
            if join.args.get("on") is not None:
                clauses.append((join.args["on"], "JOIN"))
        if sc.scope_type == ScopeType.SUBQUERY and not _in_projection(select):
            clauses += [(s, "FILTER") for s in select.selects]
        for clause, subtype in clauses:
            for col in clause.find_all(exp.Column):
                if col.find_ancestor(exp.Select) is not select:
                    continue  # belongs to a nested subquery: handled by its own scope
                src = _source_of(sc, col.table)
                if isinstance(src, exp.Table):
                    found.append((dataset_name(src), col.name, subtype))
                elif src is not None:
                    try:
                        node = to_node(
                            col.name, scope=src, dialect=dialect, schema=schema, trim_selects=False
                        )
                    except Exception:  # noqa: BLE001 - best effort for indirect lineage
                        continue
                    for n in node.walk():
                        leaf = leaf_column(n)
                        if leaf:
                            found.append((*leaf, subtype))
    return found


def _in_projection(select: exp.Select) -> bool:
    """Whether a subquery sits inside its parent's select list (then it is a value, not a predicate)."""
    from sqlglot import exp

    node: exp.Expr | None = select.parent
    child: exp.Expr = select
    while node is not None:
        if isinstance(node, exp.Select):
            return any(child is s for s in node.selects)
        child, node = node, node.parent
    return False


def _source_of(scope: Scope, name: str) -> Any:
    sc: Scope | None = scope
    while sc is not None:
        if name in sc.sources:
            return sc.sources[name]
        sc = sc.parent
    return None


def _dedupe(edges: list[ColumnEdge]) -> list[ColumnEdge]:
    """One edge per (source column, target column): the least protective direct step wins."""
    best: dict[tuple[str, str, str, str], ColumnEdge] = {}
    for e in edges:
        key = (e.source, e.source_column, e.target, e.target_column)
        old = best.get(key)
        if old is None:
            best[key] = e
            continue
        merged = merge_paths(Step(old.transformation, old.subtype), Step(e.transformation, e.subtype))
        if (merged.transformation, merged.subtype) != (old.transformation, old.subtype):
            best[key] = e
    return list(best.values())
