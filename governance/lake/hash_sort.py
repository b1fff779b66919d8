"""The key hashes that occur more than once, for an exact duplicate search (`Dialect.key_hash`).

In SQL they are the hashes equal to their neighbour in hash order:

    (SELECT h, LAG(h) OVER (ORDER BY h) AS p FROM (SELECT HASH(key) AS h FROM …) AS hk) AS __hash_neighbours

and `… WHERE h = p` keeps the repeated ones. DuckDB evaluates that window on one thread, at ~100 ns a
row (3.3 s of CPU for 32 M keys). The DuckDB engine instead fetches the hashes as one integer array
(`SELECT HASH(key) …` alone: ~0.3 s of CPU per 10 M rows, reading and hashing the key), sorts it in NumPy
(its SIMD quicksort: 0.2 s for 20 M 64-bit integers), keeps the values equal to their neighbour and puts
them in place of the window as a registered table of (h, p) with p = h. The same set of hashes, so the
same rows pass the `h = p` filter's consumer, an `IN (…)` semi-join: exact. Anything unexpected (a hash
that is not a NULL-free integer column, more than `MAX_ROWS` keys, NumPy missing) leaves the query as SQL.
Fewer than `NUMPY_FROM` hashes also stay in SQL: on a small table the window costs less than importing
NumPy.
"""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot import exp

log = logging.getLogger("governance.lake.engines")

NEIGHBOURS = "__hash_neighbours"  # alias of the derived table of every hash next to its predecessor
_HASHES = "hk"
_names = itertools.count(1)
MAX_ROWS = 100_000_000  # hashes held in memory at most (800 MB); a bigger table keeps the SQL window
NUMPY_FROM = 1_000_000  # fewer hashes keep the SQL window (importing NumPy costs ~0.2 s of CPU)
SORTED = [0]  # how many hash sets this process sorted in NumPy (tests check the path ran)


def neighbours(hashes: exp.Select) -> exp.Subquery:
    """`(SELECT h, LAG(h) OVER (ORDER BY h) AS p FROM (hashes) AS hk) AS __hash_neighbours`, where
    `hashes` selects one column `h`."""
    from sqlglot import exp

    h = exp.column("h")
    lag = exp.Window(
        this=exp.Anonymous(this="LAG", expressions=[h.copy()]),
        order=exp.Order(expressions=[exp.Ordered(this=h.copy())]),
    )
    inner = exp.select(h.copy(), lag.as_("p")).from_(hashes.subquery(_HASHES))
    return inner.subquery(NEIGHBOURS)


def _hashes_of(node: exp.Subquery) -> exp.Select | None:
    """The `SELECT … AS h` that a neighbours table sorts, or None if `node` is not shaped so."""
    from sqlglot import exp

    inner = node.this
    source = (inner.args.get("from_") or inner.args.get("from")) if isinstance(inner, exp.Select) else None
    derived = source.this if source is not None else None
    if not isinstance(derived, exp.Subquery) or derived.alias != _HASHES:
        return None
    hashes = derived.this
    if not isinstance(hashes, exp.Select) or hashes.named_selects != ["h"]:
        return None
    return hashes


def _repeated(con: Any, sql: str) -> Any:
    """The distinct values of column `h` of `sql` that occur more than once (a NumPy array), or None
    when they cannot be computed exactly here or are cheaper to find in SQL."""
    # counted up to NUMPY_FROM rows (no hash computed for it): a small table's window costs less than
    # importing NumPy
    (rows,) = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM ({sql}) AS hk LIMIT {NUMPY_FROM})").fetchone()
    if rows < NUMPY_FROM:
        return None
    import numpy as np

    found = con.execute(f"SELECT h FROM ({sql}) AS hk LIMIT {MAX_ROWS + 1}").fetchnumpy()["h"]
    if np.ma.isMaskedArray(found) or found.dtype.kind not in "iu":
        return None  # NULLs, or a type NumPy holds only approximately (HUGEINT comes back as float)
    if found.size > MAX_ROWS:
        return None  # more than memory should hold at once: the SQL window can spill to disk
    found.sort()
    twice = found[1:][found[1:] == found[:-1]]
    if twice.size:
        twice = twice[np.concatenate(([True], twice[1:] != twice[:-1]))]
    return twice


def presort(con: Any, expr: exp.Expr, dialect: str) -> tuple[exp.Expr, list[str]]:
    """`expr` with every neighbours table replaced by a registered table of its repeated hashes, and
    the names registered (unregister them after the query). `expr` is returned as it is when it has
    none, or when one of them cannot be computed here."""
    from sqlglot import exp

    found = [n for n in expr.find_all(exp.Subquery) if n.alias == NEIGHBOURS]
    if not found:
        return expr, []
    import pyarrow as pa

    tree = expr.copy()
    registered: list[str] = []
    try:
        for node in [n for n in tree.find_all(exp.Subquery) if n.alias == NEIGHBOURS]:
            hashes = _hashes_of(node)
            twice = None if hashes is None else _repeated(con, hashes.sql(dialect=dialect))
            if twice is None:
                raise ValueError("hashes not computable in NumPy")
            name = f"sfg_repeated_hashes_{next(_names)}"
            con.register(name, pa.table({"h": twice, "p": twice}))
            registered.append(name)
            SORTED[0] += 1
            node.replace(
                exp.Table(
                    this=exp.to_identifier(name, quoted=True),
                    alias=exp.TableAlias(this=exp.to_identifier(NEIGHBOURS)),
                )
            )
    except Exception as exc:  # noqa: BLE001 - the SQL form gives the same answer, only slower
        log.info("repeated key hashes stay in SQL: %s", str(exc)[:200])
        release(con, registered)
        return expr, []
    return tree, registered


def release(con: Any, names: list[str]) -> None:
    for name in names:
        try:
            con.unregister(name)
        except Exception:  # noqa: BLE001 - a connection already closed holds nothing
            log.debug("could not unregister %s", name)
