"""What differs between the SQL engines, said once: one small class per engine, as sqlglot does per dialect.

sqlglot renders a tree in any dialect, but some choices are the tool's: which function computes a
quantile where, whether an integer SUM can overflow, whether a scan is cheap enough to repeat, how a
case-insensitive regex is written. Capabilities look the class up once from the sqlglot dialect name
and ask it, instead of comparing names:

    traits = dialect_for(engine.dialect)
    expr = traits.percentile(column, 0.5, discrete=False)

A dialect without a class of its own gets the base class: ANSI forms, no optional shortcut. sqlglot is
imported only when a tree is built (the catalog and access paths ask only the flags).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sqlglot import exp


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    return exp.Anonymous(this=name, expressions=list(args))


class Dialect:
    """The ANSI forms; subclasses override what their engine does differently."""

    names: ClassVar[tuple[str, ...]] = ()  # the sqlglot dialect names this class serves

    # ORDER BY (as sqlglot renders it) puts NULLs last, and ARRAY_AGG takes a FILTER clause: a grouped
    # pass can carry a group's first offending values out in key order
    carries_ordered_offenders: ClassVar[bool] = False
    # SUM of an integer column widens (never overflows), so it needs no cast to DOUBLE
    sums_integers_exactly: ClassVar[bool] = False
    # scans are cheap enough (local Parquet) that each sample branch can filter the source itself
    rescans_cheaply: ClassVar[bool] = False
    # a CTE referenced by several UNION branches is recomputed per branch: samples take one pass instead
    recomputes_shared_ctes: ClassVar[bool] = False
    # GRANT … ON TABLE schema.table (T-SQL and others have no TABLE keyword there)
    grants_name_the_table_kind: ClassVar[bool] = False
    # CREATE SCHEMA exists (SQLite has none)
    has_schemas: ClassVar[bool] = True
    # grants and roles are readable from pg_catalog
    has_pg_catalog: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self.name = name

    def percentile(self, value: exp.Expr, q: float, discrete: bool) -> exp.Expr:
        """The `q` quantile of `value`: PERCENTILE_DISC/CONT(q) WITHIN GROUP (ORDER BY value)."""
        from sqlglot import exp

        klass = exp.PercentileDisc if discrete else exp.PercentileCont
        return exp.WithinGroup(
            this=klass(this=exp.Literal.number(q)),
            expression=exp.Order(expressions=[exp.Ordered(this=value)]),
        )

    def distinct_values(self, value: exp.Expr) -> exp.Expr:
        """An array of the distinct values."""
        from sqlglot import exp

        return exp.ArrayAgg(this=exp.Distinct(expressions=[value]))

    def collect_list(self, value: exp.Expr) -> exp.Expr:
        """An array of every value."""
        from sqlglot import exp

        return exp.ArrayAgg(this=value)

    def strptime_fails(self, text: exp.Expr, fmt: str) -> exp.Expr | None:
        """TRUE where `text` does not parse with strftime format `fmt`; None where it cannot be said."""
        return None

    def json_invalid(self, text: exp.Expr) -> exp.Expr | None:
        """TRUE where `text` is not a JSON document; None where it cannot be said."""
        return None

    def key_hash(self, values: list[exp.Expr]) -> exp.Expr | None:
        """A 64-bit hash of a row's key `values`, equal wherever GROUP BY sees equal keys (NULLs
        included), when sorting it beats grouping by the key; None where the key is grouped as it is."""
        return None

    def smallest_by(self, value: exp.Expr, key: exp.Expr, n: int) -> exp.Expr | None:
        """An aggregate: the list of `value` of the `n` rows with the smallest `key`, in `key` order
        (it takes a FILTER clause); None where the engine has none (the caller queries them apart)."""
        return None

    def full_match(self, value: exp.Expr, pattern: str) -> exp.Expr:
        """`value` matches the (case-sensitive) regex `pattern` of a match_regex expectation."""
        from sqlglot import exp

        return exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))

    def regex_match(self, value: exp.Expr, pattern: str, case_insensitive: bool) -> exp.RegexpLike:
        """`value` matches `pattern`: regexp_matches / ~ (~*) / rlike, as sqlglot renders them."""
        from sqlglot import exp

        match = exp.RegexpLike(this=value, expression=exp.Literal.string(pattern))
        if case_insensitive:
            match.set("flag", exp.Literal.string("i"))
        return match


_GLOB_LITERALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-:/@")
_GLOB_CLASS_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
GLOB_MAX_CHARS = 16  # longer patterns stay regexes: per value, GLOB costs more than RE2 past ~13 characters


def _same_kind(a: str, b: str) -> bool:
    return (a.isdigit() and b.isdigit()) or (a.islower() and b.islower()) or (a.isupper() and b.isupper())


def _glob_class(body: str) -> str | None:
    """`[body]` of a regex as the same GLOB class: single ASCII letters and digits and ranges between
    two of the same kind (`0-9`, `a-f`, `A-F`); None for anything else (negation, escapes, `-`)."""
    k, out = 0, []
    while k < len(body):
        a = body[k]
        if a not in _GLOB_CLASS_CHARS:
            return None
        if k + 1 < len(body) and body[k + 1] == "-":
            if k + 2 >= len(body):
                return None
            b = body[k + 2]
            if b not in _GLOB_CLASS_CHARS or not _same_kind(a, b) or a > b:
                return None
            out.append(f"{a}-{b}")
            k += 3
        else:
            out.append(a)
            k += 1
    return f"[{''.join(out)}]" if out else None


def fixed_glob(pattern: str) -> str | None:
    """The GLOB pattern matching exactly the strings the RE2 regex `pattern` matches (case-sensitive, `$`
    the end of the text), when `pattern` is `^…$` over at most GLOB_MAX_CHARS characters, each an ASCII
    letter, digit or one of `_-:/@`, or a class of such letters, digits and ranges, optionally repeated
    `{n}` times; else None. Both then match one ASCII character per atom, the whole value: a NUL, a
    newline or a non-ASCII character (whose UTF-8 bytes are all >= 0x80) matches no atom of either."""
    if len(pattern) < 2 or pattern[0] != "^" or pattern[-1] != "$":
        return None
    body, i, atoms = pattern[1:-1], 0, []
    while i < len(body):
        c = body[i]
        if c == "[":
            end = body.find("]", i + 1)
            atom = _glob_class(body[i + 1 : end]) if end > i else None
            i = end + 1
        else:
            atom = c if c in _GLOB_LITERALS else None
            i += 1
        if atom is None:
            return None
        times = 1
        if i < len(body) and body[i] == "{":
            end = body.find("}", i + 1)
            count = body[i + 1 : end] if end > i else ""
            if not (count.isascii() and count.isdigit() and len(count) <= 2 and count[0] != "0"):
                return None
            times, i = int(count), end + 1
        atoms += [atom] * times
        if len(atoms) > GLOB_MAX_CHARS:
            return None
    return "".join(atoms)


class DuckDB(Dialect):
    names = ("duckdb",)
    carries_ordered_offenders = True
    sums_integers_exactly = True  # HUGEINT
    rescans_cheaply = True

    def percentile(self, value: exp.Expr, q: float, discrete: bool) -> exp.Expr:
        from sqlglot import exp

        return _fn("QUANTILE_DISC" if discrete else "QUANTILE_CONT", value, exp.Literal.number(q))

    def smallest_by(self, value: exp.Expr, key: exp.Expr, n: int) -> exp.Expr | None:
        from sqlglot import exp

        return exp.ArgMin(this=value, expression=key, count=exp.Literal.number(n))

    def strptime_fails(self, text: exp.Expr, fmt: str) -> exp.Expr | None:
        from sqlglot import exp

        return _fn("TRY_STRPTIME", text, exp.Literal.string(fmt)).is_(exp.null())

    def json_invalid(self, text: exp.Expr) -> exp.Expr | None:
        from sqlglot import exp

        return exp.Not(this=_fn("JSON_VALID", text))

    def full_match(self, value: exp.Expr, pattern: str) -> exp.Expr:
        """A short fixed-width pattern (`^DEV-[0-9]{5}$`) as the GLOB that matches the same strings
        (`fixed_glob`): DuckDB evaluates GLOB once per dictionary entry of a dictionary-encoded Parquet
        column, RE2 once per row at ~40 ns a call (32 M telemetry rows: 1.26 → 0.11 s of CPU)."""
        from sqlglot import exp

        glob = fixed_glob(pattern)
        if glob is None:
            return super().full_match(value, pattern)
        return exp.Glob(this=value, expression=exp.Literal.string(glob))

    def key_hash(self, values: list[exp.Expr]) -> exp.Expr | None:
        """HASH(…), the function DuckDB's own GROUP BY hashes with. Sorting 64-bit integers costs
        DuckDB a third to a half of a hash aggregate over tens of millions of distinct wide keys
        (docs/quality.md, "Exact uniqueness")."""
        return _fn("HASH", *values)


class Postgres(Dialect):
    names = ("postgres",)
    carries_ordered_offenders = True
    sums_integers_exactly = True  # NUMERIC
    grants_name_the_table_kind = True
    has_pg_catalog = True


class SparkSQL(Dialect):
    """The Spark SQL family as sqlglot names it (Databricks, Hive, Spark 2): Java regexes, and a shared
    CTE is recomputed per reference."""

    names: ClassVar[tuple[str, ...]] = ("spark2", "databricks", "hive")
    recomputes_shared_ctes = True

    def regex_match(self, value: exp.Expr, pattern: str, case_insensitive: bool) -> exp.RegexpLike:
        """RLIKE has no flag argument: a case-insensitive match is an inline (?i)."""
        from sqlglot import exp

        inline = ("(?i)" if case_insensitive else "") + pattern
        return exp.RegexpLike(this=value, expression=exp.Literal.string(inline))


class Spark(SparkSQL):
    """The Spark engine the tool runs (local or Spark Connect)."""

    names = ("spark",)
    carries_ordered_offenders = True  # the rendered ORDER BY says NULLS LAST; COLLECT_LIST takes FILTER

    def percentile(self, value: exp.Expr, q: float, discrete: bool) -> exp.Expr:
        from sqlglot import exp

        if discrete:
            return super().percentile(value, q, discrete)
        return _fn("PERCENTILE", value, exp.Literal.number(q))

    def distinct_values(self, value: exp.Expr) -> exp.Expr:
        return _fn("COLLECT_SET", value)

    def collect_list(self, value: exp.Expr) -> exp.Expr:
        return _fn("COLLECT_LIST", value)

    def json_invalid(self, text: exp.Expr) -> exp.Expr | None:
        from sqlglot import exp

        # a JSON document parses to a non-null variant; malformed text does not
        return _fn("TRY_PARSE_JSON", text).is_(exp.null())


class SQLite(Dialect):
    names = ("sqlite",)
    has_schemas = False


_CLASSES: tuple[type[Dialect], ...] = (DuckDB, Postgres, SparkSQL, Spark, SQLite)
_BY_NAME = {name: cls for cls in _CLASSES for name in cls.names}


@cache
def dialect_for(name: str) -> Dialect:
    """The class of sqlglot dialect `name` (the base class when it has none of its own)."""
    return _BY_NAME.get(name, Dialect)(name)


_SQLA_DIALECTS = {
    "postgresql": "postgres",
    "mssql": "tsql",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "snowflake": "snowflake",
    "oracle": "oracle",
    "databricks": "databricks",
}


def sqla_dialect(name: str) -> str:
    """The sqlglot dialect of a SQLAlchemy dialect name (postgresql → postgres, mssql → tsql, …)."""
    return _SQLA_DIALECTS.get(name, name)


def sqlalchemy_traits(engine: Any) -> Dialect:
    """The dialect class of a SQLAlchemy engine or connection."""
    return dialect_for(sqla_dialect(engine.dialect.name))
