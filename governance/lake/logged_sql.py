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


def masked(expr: exp.Expr | str, dialect: str, columns: set[str]) -> str:
    """`expr` rendered in `dialect` with the literals that may be sensitive masked."""
    if isinstance(expr, str):  # hand-written statements: every quoted literal
        return re.sub(r"'(?:[^']|'')*'", f"'{MASK}'", expr)
    tree = expr.copy()
    for lit in list(tree.find_all(exp.Literal)):
        around = _context(lit)
        if lit.find_ancestor(exp.Values) is not None or (around is not None and _reads(around, columns)):
            lit.replace(exp.Literal.string(MASK))
    return tree.sql(dialect=dialect)
