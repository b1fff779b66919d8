"""SQL as it may be logged: literals that could be values of sensitive columns shown as `'***'`.

Uniqueness and referential-integrity checks carry offending values back into SQL (a `VALUES` list the
samples query filters on), and `-v`/`-vv` log every statement. Masked: every literal of a `VALUES`
list (it came from the data), and every literal of a comparison, `IN`, `LIKE`, `BETWEEN` or function
call that reads a sensitive column. Other literals (partition dates, bounds of other columns) stay, so
the log still shows what ran.
"""

from __future__ import annotations

import re

from sqlglot import exp

MASK = "***"


def _reads(node: exp.Expr, columns: set[str]) -> bool:
    return any(c.name in columns for c in node.find_all(exp.Column))


def _context(lit: exp.Literal) -> exp.Expr | None:
    """The nearest predicate or function around a literal (what it is compared with)."""
    node = lit.parent
    while node is not None and (
        isinstance(node, exp.Cast) or not isinstance(node, exp.Predicate | exp.Func | exp.Select)
    ):
        node = node.parent
    return None if isinstance(node, exp.Select) else node


def _sensitive(lit: exp.Literal, columns: set[str]) -> bool:
    if lit.find_ancestor(exp.Values) is not None:
        return True
    around = _context(lit) if columns else None
    return around is not None and _reads(around, columns)


def masked(expr: exp.Expr | str, dialect: str, columns: set[str], rendered: str | None = None) -> str:
    """`expr` rendered in `dialect` with the literals that may be sensitive masked; `rendered`, its
    plain rendering when the caller has it, is returned as is when no literal needs masking (a large
    tree is then neither copied nor rendered again)."""
    if isinstance(expr, str):  # hand-written statements: every quoted literal
        return re.sub(r"'(?:[^']|'')*'", f"'{MASK}'", expr)
    if not any(_sensitive(lit, columns) for lit in expr.find_all(exp.Literal)):
        return rendered if rendered is not None else expr.sql(dialect=dialect)
    tree = expr.copy()
    for lit in list(tree.find_all(exp.Literal)):
        if _sensitive(lit, columns):
            lit.replace(exp.Literal.string(MASK))
    return tree.sql(dialect=dialect)
