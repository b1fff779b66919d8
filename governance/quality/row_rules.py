"""Row-level expectations as one SQL predicate per row: what a table format (Delta CHECK constraints) or a
pipeline (Delta Live Tables expectations) can enforce at write time.

A predicate is TRUE for a valid row and never NULL: a NULL value passes (as in GX, where map
expectations ignore nulls), except for not-null itself. Expectations over several rows (unique,
aggregates, row counts, referential integrity) have no row predicate; neither has a `row_condition`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlglot import exp

_PAIR_IGNORE = "either_value_is_missing"


def _col(name: Any) -> exp.Column:
    if not isinstance(name, str) or not name:
        raise ValueError("needs a column name")
    return exp.column(name)


def _lit(value: Any) -> exp.Expr:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"literal {value!r} is not a number or a string")
    return exp.convert(value)


def _nullable(column: exp.Column, check: exp.Expr) -> exp.Expr:
    return exp.or_(column.is_(exp.null()), exp.paren(check) if isinstance(check, exp.Connector) else check)


def _range(value: exp.Expr, kw: dict[str, Any]) -> exp.Expr:
    parts: list[exp.Expr] = []
    if kw.get("min_value") is not None:
        lo = _lit(kw["min_value"])
        parts.append(
            exp.GT(this=value, expression=lo) if kw.get("strict_min") else exp.GTE(this=value, expression=lo)
        )
    if kw.get("max_value") is not None:
        hi = _lit(kw["max_value"])
        parts.append(
            exp.LT(this=value, expression=hi) if kw.get("strict_max") else exp.LTE(this=value, expression=hi)
        )
    if not parts:
        raise ValueError("needs min_value or max_value")
    return exp.and_(*parts) if len(parts) > 1 else parts[0]


def predicate(type_: str, kwargs: dict[str, Any]) -> exp.Expr:
    """The row predicate of an expectation; ValueError (with the reason) when it has none."""
    kw = kwargs
    if kw.get("row_condition"):
        raise ValueError("a row_condition is not enforceable as a constraint")
    if kw.get("mostly") is not None and float(kw["mostly"]) < 1:
        raise ValueError(f"mostly {kw['mostly']} tolerates failing rows; a constraint cannot")
    short = type_.removeprefix("expect_")
    if short == "column_values_to_not_be_null":
        return _col(kw.get("column")).is_(exp.null()).not_()
    if short == "column_values_to_be_null":
        return _col(kw.get("column")).is_(exp.null())
    c = _col(kw.get("column")) if short.startswith("column_value") else None
    if c is not None:
        if short == "column_values_to_be_between":
            return _nullable(c, _range(c, kw))
        if short in ("column_values_to_be_in_set", "column_values_to_not_be_in_set"):
            values = [_lit(v) for v in kw.get("value_set") or [] if v is not None]
            if not values:
                raise ValueError("needs a non-empty value_set")
            member = c.isin(*values)
            return _nullable(c, member.not_() if "not_be_in_set" in short else member)
        if short in ("column_values_to_match_regex", "column_values_to_not_match_regex"):
            match = exp.RegexpLike(this=c, expression=_lit(kw.get("regex")))
            return _nullable(c, match if "not_match" not in short else exp.Not(this=match))
        if short == "column_value_lengths_to_be_between":
            return _nullable(c, _range(exp.Length(this=c), kw))
        if short == "column_value_lengths_to_equal":
            return _nullable(c, exp.EQ(this=exp.Length(this=c), expression=_lit(kw.get("value"))))
    if short in ("column_pair_values_a_to_be_greater_than_b", "column_pair_values_to_be_equal"):
        if kw.get("ignore_row_if") != _PAIR_IGNORE:
            raise ValueError(f"a column pair is enforceable only with ignore_row_if: {_PAIR_IGNORE}")
        a, b = _col(kw.get("column_A")), _col(kw.get("column_B"))
        if short.endswith("equal"):
            cmp: exp.Expr = exp.EQ(this=a, expression=b)
        else:
            cmp = exp.GTE(this=a, expression=b) if kw.get("or_equal") else exp.GT(this=a, expression=b)
        return exp.or_(a.is_(exp.null()), b.is_(exp.null()), cmp)
    raise ValueError("not a row-level rule (it looks at several rows, another table or the whole table)")


def rule_name(type_: str, kwargs: dict[str, Any], sql: str, prefix: str = "") -> str:
    """A stable, readable name: prefix, subject column, the rule, and a hash of the expression (an edited
    rule gets a new name, so a changed constraint is replaced, never silently kept)."""
    subject = kwargs.get("column") or kwargs.get("column_A") or "row"
    short = type_.removeprefix("expect_").replace("column_values_to_", "").replace("column_", "")
    slug = re.sub(r"[^a-z0-9_]+", "_", f"{subject}_{short}".lower()).strip("_")[:48]
    digest = hashlib.sha1(sql.encode()).hexdigest()[:8]
    return f"{prefix}{slug}_{digest}"


def base_name(name: str) -> str:
    """A managed name without its expression hash (the same rule, whatever its bounds)."""
    return name.rsplit("_", 1)[0]
