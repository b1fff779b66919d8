"""Suite expectations (GX vocabulary) ⇄ ODCS quality rules.

Only not-null, unique, in-set, regex, compound-unique and row count have an ODCS library metric
(`nullValues`, `duplicateValues`, `invalidValues` with `validValues` / `pattern`, `rowCount`); every other
expectation becomes `type: custom`, engine `greatExpectations`, carrying its type, kwargs and meta, so the
way back is exact. An expectation is exported as a library rule only when reading that rule back gives
the same expectation again (checked here, not assumed), which keeps export followed by import a no-op.

Thresholds: without `mostly` a library rule says `mustBe: 0` (rows); `mostly: m` says
`mustBeLessOrEqualTo: (1 - m) * 100, unit: percent`, rounded to 10 decimals to drop binary float noise.
Any other operator/unit still runs in `contract test` (the count or percent of the underlying expectation
is compared with the rule's threshold), but has no suite form for `contract import`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.contracts.odcs import ENGINE, GX_ENGINES, clean_number, severity_in, severity_out

OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE = "expect_column_values_to_be_unique"
IN_SET = "expect_column_values_to_be_in_set"
REGEX = "expect_column_values_to_match_regex"
COMPOUND = "expect_compound_columns_to_be_unique"
ROWS_BETWEEN = "expect_table_row_count_to_be_between"
ROWS_EQUAL = "expect_table_row_count_to_equal"
_DIMENSION = {
    "nullValues": "completeness",
    "missingValues": "completeness",
    "duplicateValues": "uniqueness",
    "invalidValues": "conformity",
    "rowCount": "completeness",
}


@dataclass
class Check:
    """A library rule's own threshold, applied to the underlying expectation's count/percent/value."""

    operator: str
    threshold: Any
    measure: str  # unexpected_count | unexpected_percent | observed_value

    def passes(self, value: Any) -> bool:
        if value is None:
            return False
        t = self.threshold
        match self.operator:
            case "mustBe":
                return bool(value == t)
            case "mustNotBe":
                return bool(value != t)
            case "mustBeGreaterThan":
                return bool(value > t)
            case "mustBeGreaterOrEqualTo":
                return bool(value >= t)
            case "mustBeLessThan":
                return bool(value < t)
            case "mustBeLessOrEqualTo":
                return bool(value <= t)
            case "mustBeBetween":  # inclusive bounds
                return bool(t[0] <= value <= t[1])
            case _:  # mustNotBeBetween
                return not bool(t[0] <= value <= t[1])


@dataclass
class Compiled:
    """One ODCS rule in our vocabulary: expectation dicts (type, kwargs, severity, notes, meta), a
    threshold that the suite form cannot carry (`check`), or why the rule cannot run (`problem`)."""

    expectations: list[dict[str, Any]] = field(default_factory=list)
    check: Check | None = None
    problem: str | None = None


# ---- ODCS -> GX -------------------------------------------------------------------------------------


def _operator(rule: dict[str, Any]) -> tuple[str, Any] | None:
    found = [(k, rule[k]) for k in OPERATORS if k in rule]
    return found[0] if len(found) == 1 else None


def _mostly(op: str, threshold: Any, unit: str) -> tuple[bool, float | None]:
    """(exact, mostly) of a 'how many unexpected' threshold: exact when the suite form says the same."""
    if op == "mustBe" and threshold == 0 and unit != "percent":
        return True, None
    if op == "mustBeLessOrEqualTo" and unit == "percent" and isinstance(threshold, int | float):
        return True, clean_number(1 - threshold / 100)
    return False, None


def _base(rule: dict[str, Any], type_: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_, "kwargs": kwargs, "severity": severity_in(rule.get("severity"))}
    if rule.get("description"):
        out["notes"] = rule["description"]
    meta = next(
        (p.get("value") for p in rule.get("customProperties") or [] if p.get("property") == "meta"), None
    )
    if isinstance(meta, dict) and meta:
        out["meta"] = meta
    return out


def from_odcs(rule: dict[str, Any], column: str | None) -> Compiled:
    """An ODCS quality rule (on property `column`, or on the schema object when None) in our vocabulary."""
    kind = rule.get("type", "library" if ("metric" in rule or "rule" in rule) else None)
    if kind == "custom":
        return _custom(rule, column)
    if kind in ("sql", "text") or kind is None:
        return Compiled(
            problem=f"a {kind or 'typeless'} rule is not evaluated (only library and custom rules)"
        )
    metric = rule.get("metric") or rule.get("rule")
    found = _operator(rule)
    if found is None:
        return Compiled(problem=f"{metric}: a library rule needs exactly one mustBe… operator")
    op, threshold = found
    unit = str(rule.get("unit") or "rows").lower()
    args = rule.get("arguments") or {}
    types: list[tuple[str, dict[str, Any]]] = []
    if metric == "rowCount":
        return _row_count(rule, op, threshold)
    if metric in ("nullValues", "missingValues"):
        missing = [v for v in args.get("missingValues") or [] if v is not None]
        if missing:
            return Compiled(problem="missingValues other than null are not evaluated")
        types = [(NOT_NULL, {"column": column})] if column else []
    elif metric == "duplicateValues":
        props = args.get("properties")
        if props and len(props) > 1:
            types = [(COMPOUND, {"column_list": list(props)})]
        else:
            col = props[0] if props else column
            types = [(UNIQUE, {"column": col})] if col else []
    elif metric == "invalidValues":
        if column and "validValues" in args:
            types.append(
                (IN_SET, {"column": column, "value_set": [v for v in args["validValues"] if v is not None]})
            )
        if column and "pattern" in args:
            types.append((REGEX, {"column": column, "regex": args["pattern"]}))
    else:
        return Compiled(problem=f"unknown library metric {metric!r}")
    if not types:
        return Compiled(problem=f"{metric}: no column or arguments to check")
    exact, mostly = _mostly(op, threshold, unit)
    out = []
    for type_, kwargs in types:
        if exact and mostly is not None:
            kwargs = {**kwargs, "mostly": mostly}
        out.append(_base(rule, type_, kwargs))
    if exact:
        return Compiled(out)
    measure = "unexpected_percent" if unit == "percent" else "unexpected_count"
    return Compiled(out, check=Check(op, threshold, measure))


def _row_count(rule: dict[str, Any], op: str, t: Any) -> Compiled:
    forms: dict[str, tuple[str, dict[str, Any]]] = {
        "mustBe": (ROWS_EQUAL, {"value": t}),
        "mustBeGreaterOrEqualTo": (ROWS_BETWEEN, {"min_value": t}),
        "mustBeGreaterThan": (ROWS_BETWEEN, {"min_value": t, "strict_min": True}),
        "mustBeLessOrEqualTo": (ROWS_BETWEEN, {"max_value": t}),
        "mustBeLessThan": (ROWS_BETWEEN, {"max_value": t, "strict_max": True}),
    }
    if op == "mustBeBetween":
        forms[op] = (ROWS_BETWEEN, {"min_value": t[0], "max_value": t[1]})
    if op in forms:
        type_, kwargs = forms[op]
        return Compiled([_base(rule, type_, kwargs)])
    return Compiled([_base(rule, ROWS_BETWEEN, {})], check=Check(op, t, "observed_value"))


def _custom(rule: dict[str, Any], column: str | None) -> Compiled:
    engine = str(rule.get("engine") or "")
    if engine not in GX_ENGINES:
        return Compiled(problem=f"custom rule for engine {engine!r} is not evaluated (only {ENGINE})")
    impl = rule.get("implementation")
    if isinstance(impl, str):
        from ruamel.yaml import YAML

        try:
            impl = YAML(typ="safe").load(impl)
        except Exception:  # a custom implementation we cannot read is reported, not fatal
            impl = None
    if not isinstance(impl, dict) or not isinstance(impl.get("type"), str):
        return Compiled(problem="a greatExpectations rule needs an implementation with 'type' and 'kwargs'")
    kwargs = dict(impl.get("kwargs") or {})
    if column and "column" not in kwargs and impl["type"].startswith("expect_column_"):
        kwargs["column"] = column
    out = _base(rule, impl["type"], kwargs)
    if isinstance(impl.get("meta"), dict) and impl["meta"]:
        out["meta"] = impl["meta"]
    return Compiled([out])


# ---- GX -> ODCS -------------------------------------------------------------------------------------


def _library_candidate(type_: str, kw: dict[str, Any]) -> tuple[str | None, dict[str, Any]] | None:
    mostly = kw.get("mostly")
    threshold: dict[str, Any] = (
        {"mustBe": 0}
        if mostly is None
        else {"mustBeLessOrEqualTo": clean_number((1 - float(mostly)) * 100), "unit": "percent"}
    )
    column = kw.get("column")
    if type_ == NOT_NULL:
        return column, {"metric": "nullValues", **threshold}
    if type_ == UNIQUE:
        return column, {"metric": "duplicateValues", **threshold}
    if type_ == IN_SET and isinstance(kw.get("value_set"), list):
        return column, {"metric": "invalidValues", **threshold, "arguments": {"validValues": kw["value_set"]}}
    if type_ == REGEX:
        return column, {"metric": "invalidValues", **threshold, "arguments": {"pattern": kw.get("regex")}}
    if type_ == COMPOUND and isinstance(kw.get("column_list"), list) and len(kw["column_list"]) > 1:
        return None, {
            "metric": "duplicateValues",
            **threshold,
            "arguments": {"properties": kw["column_list"]},
        }
    if type_ == ROWS_EQUAL:
        return None, {"metric": "rowCount", "mustBe": kw.get("value")}
    if type_ == ROWS_BETWEEN:
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None and hi is not None:
            if lo == hi:  # mustBeBetween needs two different numbers
                return None
            return None, {"metric": "rowCount", "mustBeBetween": [lo, hi]}
        if lo is not None:
            return None, {
                "metric": "rowCount",
                ("mustBeGreaterThan" if kw.get("strict_min") else "mustBeGreaterOrEqualTo"): lo,
            }
        if hi is not None:
            return None, {
                "metric": "rowCount",
                ("mustBeLessThan" if kw.get("strict_max") else "mustBeLessOrEqualTo"): hi,
            }
    return None


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("type", "kwargs", "severity", "notes", "meta")
    return all((a.get(k) or None) == (b.get(k) or None) for k in keys)


def to_odcs(
    expectation: dict[str, Any], rule_id: str, columns: set[str]
) -> tuple[str | None, dict[str, Any]]:
    """(property the rule sits on, or None for the schema object; the ODCS rule) of one expectation
    given as {type, kwargs, severity, notes, meta}."""
    type_, kw = expectation["type"], dict(expectation.get("kwargs") or {})
    common: dict[str, Any] = {"id": rule_id}
    if expectation.get("notes"):
        common["description"] = expectation["notes"]
    common["severity"] = severity_out(expectation.get("severity") or "error")
    candidate = _library_candidate(type_, kw)
    if candidate is not None:
        column, body = candidate
        if column is None or column in columns:
            rule = {**common, "type": "library", **body}
            metric = body["metric"]
            rule["dimension"] = _DIMENSION[metric]
            if expectation.get("meta"):
                rule["customProperties"] = [{"property": "meta", "value": expectation["meta"]}]
            back = from_odcs(rule, column)
            if (
                back.check is None
                and len(back.expectations) == 1
                and _same(back.expectations[0], expectation)
            ):
                return column, rule
    impl: dict[str, Any] = {"type": type_, "kwargs": kw}
    if expectation.get("meta"):
        impl["meta"] = expectation["meta"]
    column = kw.get("column") if isinstance(kw.get("column"), str) and kw["column"] in columns else None
    return column, {**common, "type": "custom", "engine": ENGINE, "implementation": impl}
