"""How one output column depends on one input column: the step kinds and their classification.

A step walks sqlglot's lineage tree (`sqlglot.lineage.Node`) from an output column down to base
columns; `trace` gives each base column the combined step of its path(s). The ranking rules are
described in `governance.lineage.sql`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.lineage import Node

DIRECT = ("identity", "transformation", "aggregation", "masking")
TRANSFORMATIONS = (*DIRECT, "filter")
_RANK = {kind: i for i, kind in enumerate(DIRECT)}

MASKING_FUNCTIONS = frozenset(
    {
        "sha", "sha1", "sha2", "sha256", "sha512", "sha1digest", "sha2digest", "md5", "md5digest",
        "md5numberlower64", "md5numberupper64", "hash", "hashagg", "xxhash32", "xxhash64", "murmur3",
        "murmurhash3", "farmfingerprint", "farm_fingerprint", "crc32", "hmac", "encrypt", "aes_encrypt",
        "mask", "redact", "tokenize", "pseudonymize", "anonymize",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Step:
    """How one output column depends on one input column."""

    transformation: str  # identity | transformation | aggregation | masking | filter
    subtype: str  # OpenLineage subtype: IDENTITY, TRANSFORMATION, AGGREGATION, MASKING, FILTER, JOIN, …

    @property
    def direct(self) -> bool:
        return self.transformation != "filter"


IDENTITY = Step("identity", "IDENTITY")


# --------------------------------------------------------------------------------------------------
def dataset_name(table: exp.Table) -> str:
    """The dotted logical name of a table reference (`bronze.sqlserver_transactions`)."""
    return ".".join(part.name for part in table.parts)


def leaf_column(node: Node) -> tuple[str, str] | None:
    from sqlglot import exp

    if isinstance(node.expression, exp.Table) and node.name != "*":
        if not isinstance(node.expression.this, exp.Identifier):
            return None  # a table function (read_parquet(…), range(…)): not a dataset
        return dataset_name(node.expression), node.name.rsplit(".", 1)[-1].strip('"`')
    return None


def trace(root: Node) -> dict[tuple[str, str], Step]:
    """Every base column under `root` with the combined classification of its path(s)."""
    found: dict[tuple[str, str], Step] = {}

    def walk(node: Node, acc: Step | None, seen: frozenset[int]) -> None:
        leaf = leaf_column(node)
        if leaf is not None:
            step = acc or IDENTITY
            found[leaf] = merge_paths(found.get(leaf), step)
            return
        if id(node) in seen:
            return
        for child in node.downstream:
            here = _classify(node, child)
            walk(child, combine(acc, here), seen | {id(node)})

    walk(root, None, frozenset())
    return found


def combine(outer: Step | None, inner: Step) -> Step:
    if outer is None:
        return inner
    if not outer.direct:
        return outer
    if not inner.direct:
        return inner
    return outer if _RANK[outer.transformation] >= _RANK[inner.transformation] else inner


def merge_paths(old: Step | None, new: Step) -> Step:
    if old is None:
        return new
    if old.direct != new.direct:
        return old if old.direct else new
    if not old.direct:
        return old
    return old if _RANK[old.transformation] <= _RANK[new.transformation] else new


def _classify(node: Node, child: Node) -> Step:
    """The step from `node`'s projection to one of its inputs (`child`)."""
    from sqlglot import exp

    select = node.expression
    if isinstance(node.source, exp.UDTF):
        return Step("transformation", "TRANSFORMATION")  # UNNEST / EXPLODE: one input value becomes many
    if not isinstance(select, exp.Expr) or isinstance(select, exp.Table | exp.Star):
        return IDENTITY
    if isinstance(node.source, exp.SetOperation) and node.name.upper() in ("UNION", "INTERSECT", "EXCEPT"):
        if isinstance(node.source, exp.Union) or (node.downstream and child is node.downstream[0]):
            return IDENTITY  # a set operation passes each branch's column through
        return Step("filter", "FILTER")  # EXCEPT / INTERSECT: later branches only decide which rows stay
    columns = list(select.find_all(exp.Column))
    # the child is named after the column, except a set operation (UNION) or a subquery in the projection:
    # then every column of the projection leads to it
    matched = [c for c in columns if _column_matches(c, child)]
    occurrences = matched or columns
    if not occurrences:
        return IDENTITY
    if not matched and leaf_column(child) is not None:
        # a base column reached without being named here: through a table function such as UNNEST
        step: Step | None = Step("transformation", "TRANSFORMATION")
        for col in occurrences:
            step = merge_paths(step, _occurrence_step(col, select))
        return combine(step, Step("transformation", "TRANSFORMATION"))
    merged: Step | None = None
    for col in occurrences:
        merged = merge_paths(merged, _occurrence_step(col, select))
    assert merged is not None
    return merged


def _column_matches(col: exp.Column, child: Node) -> bool:
    name = child.name
    plain = name.replace('"', "").replace("`", "")
    return (
        plain == f"{col.table}.{col.name}"
        or name == col.sql(comments=False)
        or (not col.table and plain.rsplit(".", 1)[-1] == col.name)
    )


def _occurrence_step(node: exp.Expr, select: exp.Expr) -> Step:
    """Classify by the expressions between a column occurrence and the root of its projection."""
    from sqlglot import exp

    top = select.unalias() if isinstance(select, exp.Alias) else select
    if node is top:
        return IDENTITY
    VALUE_COPYING = _value_copying()  # noqa: N806 - window navigation copies a value, it does not aggregate
    masking = aggregation = transformed = False
    child, parent = node, node.parent
    while parent is not None and child is not select and child is not top:
        if isinstance(parent, exp.Window) and child is not parent.this:
            return Step("filter", "WINDOW")
        if isinstance(parent, exp.If) and child is parent.this:
            return Step("filter", "CONDITIONAL")
        if isinstance(parent, exp.Case) and child is parent.this:
            return Step("filter", "CONDITIONAL")  # CASE x WHEN … : x only chooses the branch
        if isinstance(parent, exp.Filter) and child is parent.expression:
            return Step("filter", "CONDITIONAL")  # agg(x) FILTER (WHERE …): picks the rows of this column
        if isinstance(parent, exp.Func) and _function_name(parent) in MASKING_FUNCTIONS:
            masking = True
        elif isinstance(parent, exp.AggFunc) and not isinstance(parent, VALUE_COPYING):
            aggregation = True
        elif not isinstance(parent, exp.Paren | exp.Alias):
            transformed = True
        child, parent = parent, parent.parent
    if masking:
        return Step("masking", "MASKING")
    if aggregation:
        return Step("aggregation", "AGGREGATION")
    if transformed:
        return Step("transformation", "TRANSFORMATION")
    return IDENTITY


def _value_copying() -> tuple[type, ...]:
    from sqlglot import exp

    names = ("Lag", "Lead", "FirstValue", "LastValue", "NthValue", "AnyValue", "ArgMax", "ArgMin")
    return tuple(getattr(exp, n) for n in names if hasattr(exp, n))


def _function_name(func: exp.Func) -> str:
    from sqlglot import exp

    if isinstance(func, exp.Anonymous):
        return str(func.name).lower()
    name = type(func).__name__.lower()
    return name if name in MASKING_FUNCTIONS else func.sql_name().lower()
