"""The expectation vocabulary: every implemented type (GX 1.x names, plus our two extensions) with the
kwargs it requires and accepts, and the JSON Schema of each kwarg's value.

The one source of what a suite may say: `validate` checks kwargs against `KWARG_SCHEMAS` and the
generated JSON Schema (`smartflow-gov schema export`) embeds the same fragments, so the editor and the
validator cannot disagree. `VOCABULARY` holds only the types the registry implements (a test pins that
the two name the same types); what a given engine cannot run is found by compiling the expectation for
that engine (`governance/quality/validate.py`), so the engines' own `Unsupported` is the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from governance.durations import DURATION_PATTERN

COMMON = frozenset(
    {
        "result_format",
        "catch_exceptions",
        "meta",
        "include_config",
        "row_condition",
        "condition_parser",
        "description",
        "notes",
    }
)
RANGE = frozenset({"min_value", "max_value", "strict_min", "strict_max"})
MAP = frozenset({"mostly"})
# kwargs whose value must be true/false, and kwargs whose value must be a number (validate, schema export)
BOOLEAN_KWARGS = (
    "strict_min",
    "strict_max",
    "or_equal",
    "double_sided",
    "exact_match",
    "ties_okay",
    "strictly",
)
NUMBER_KWARGS = ("threshold", "sum_total")


@dataclass(frozen=True)
class ExpectationType:
    family: str  # column_map | column_aggregate | table | multicolumn | extension
    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    column_kwargs: tuple[str, ...] = ("column",)  # kwargs holding one column name
    column_list_kwargs: tuple[str, ...] = ()  # kwargs holding a list of column names

    @property
    def allowed(self) -> frozenset[str]:
        return self.required | self.optional | COMMON


def _map(*required: str, optional: frozenset[str] = frozenset()) -> ExpectationType:
    return ExpectationType("column_map", frozenset({"column", *required}), MAP | optional)


def _agg(*required: str, optional: frozenset[str] = frozenset()) -> ExpectationType:
    return ExpectationType("column_aggregate", frozenset({"column", *required}), optional)


_PAIR = ("column_A", "column_B")

# GX types we do not implement (what validate says instead of "unknown")
NOT_IMPLEMENTED = frozenset(
    {
        "expect_column_values_to_be_dateutil_parseable",
        "expect_column_values_to_match_json_schema",
        "expect_table_row_count_to_equal_other_table",
    }
)

_GX_TYPES: dict[str, ExpectationType] = {
    # column map
    "expect_column_values_to_not_be_null": _map(),
    "expect_column_values_to_be_null": _map(),
    "expect_column_values_to_be_unique": _map(),
    "expect_column_values_to_be_between": _map(
        optional=RANGE
        | {"parse_strings_as_datetimes", "output_strftime_format", "allow_cross_type_comparisons"}
    ),
    "expect_column_values_to_be_in_set": _map(
        "value_set", optional=frozenset({"parse_strings_as_datetimes"})
    ),
    "expect_column_values_to_not_be_in_set": _map(
        "value_set", optional=frozenset({"parse_strings_as_datetimes"})
    ),
    "expect_column_values_to_match_regex": _map("regex"),
    "expect_column_values_to_not_match_regex": _map("regex"),
    "expect_column_values_to_match_regex_list": _map("regex_list", optional=frozenset({"match_on"})),
    "expect_column_values_to_not_match_regex_list": _map("regex_list"),
    "expect_column_values_to_match_like_pattern": _map("like_pattern"),
    "expect_column_values_to_not_match_like_pattern": _map("like_pattern"),
    "expect_column_values_to_match_like_pattern_list": _map(
        "like_pattern_list", optional=frozenset({"match_on"})
    ),
    "expect_column_values_to_not_match_like_pattern_list": _map("like_pattern_list"),
    "expect_column_value_lengths_to_be_between": _map(optional=RANGE),
    "expect_column_value_lengths_to_equal": _map("value"),
    "expect_column_values_to_be_of_type": _map("type_"),
    "expect_column_values_to_be_in_type_list": _map(optional=frozenset({"type_list"})),
    "expect_column_values_to_be_increasing": _map(
        optional=frozenset({"strictly", "parse_strings_as_datetimes"})
    ),
    "expect_column_values_to_be_decreasing": _map(
        optional=frozenset({"strictly", "parse_strings_as_datetimes"})
    ),
    "expect_column_values_to_match_strftime_format": _map("strftime_format"),
    "expect_column_values_to_be_json_parseable": _map(),
    "expect_column_values_to_be_dateutil_parseable": _map(),
    "expect_column_value_z_scores_to_be_less_than": _map("threshold", optional=frozenset({"double_sided"})),
    "expect_column_values_to_match_json_schema": _map("json_schema"),
    # column aggregate
    "expect_column_min_to_be_between": _agg(
        optional=RANGE | {"parse_strings_as_datetimes", "output_strftime_format"}
    ),
    "expect_column_max_to_be_between": _agg(
        optional=RANGE | {"parse_strings_as_datetimes", "output_strftime_format"}
    ),
    "expect_column_mean_to_be_between": _agg(optional=RANGE),
    "expect_column_median_to_be_between": _agg(optional=RANGE),
    "expect_column_sum_to_be_between": _agg(optional=RANGE),
    "expect_column_stdev_to_be_between": _agg(optional=RANGE),
    "expect_column_quantile_values_to_be_between": _agg(
        "quantile_ranges", optional=frozenset({"allow_relative_error"})
    ),
    "expect_column_unique_value_count_to_be_between": _agg(optional=RANGE),
    "expect_column_proportion_of_unique_values_to_be_between": _agg(optional=RANGE),
    "expect_column_distinct_values_to_be_in_set": _agg(
        "value_set", optional=frozenset({"parse_strings_as_datetimes"})
    ),
    "expect_column_distinct_values_to_contain_set": _agg(
        "value_set", optional=frozenset({"parse_strings_as_datetimes"})
    ),
    "expect_column_distinct_values_to_equal_set": _agg(
        "value_set", optional=frozenset({"parse_strings_as_datetimes"})
    ),
    "expect_column_most_common_value_to_be_in_set": _agg("value_set", optional=frozenset({"ties_okay"})),
    # table
    "expect_table_row_count_to_be_between": ExpectationType(
        "table", frozenset(), frozenset({"min_value", "max_value", "strict_min", "strict_max"}), ()
    ),
    "expect_table_row_count_to_equal": ExpectationType("table", frozenset({"value"}), frozenset(), ()),
    "expect_table_column_count_to_be_between": ExpectationType(
        "table", frozenset(), frozenset({"min_value", "max_value", "strict_min", "strict_max"}), ()
    ),
    "expect_table_column_count_to_equal": ExpectationType("table", frozenset({"value"}), frozenset(), ()),
    "expect_table_columns_to_match_set": ExpectationType(
        "table", frozenset({"column_set"}), frozenset({"exact_match"}), ()
    ),
    "expect_table_columns_to_match_ordered_list": ExpectationType(
        "table", frozenset({"column_list"}), frozenset(), ()
    ),
    "expect_column_to_exist": ExpectationType(
        "table", frozenset({"column"}), frozenset({"column_index"}), ()
    ),
    "expect_table_row_count_to_equal_other_table": ExpectationType(
        "table", frozenset({"other_table_name"}), frozenset(), ()
    ),
    # multi-column
    "expect_compound_columns_to_be_unique": ExpectationType(
        "multicolumn", frozenset({"column_list"}), MAP | {"ignore_row_if"}, (), ("column_list",)
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": ExpectationType(
        "multicolumn",
        frozenset(_PAIR),
        MAP | {"or_equal", "ignore_row_if", "parse_strings_as_datetimes", "allow_cross_type_comparisons"},
        _PAIR,
    ),
    "expect_column_pair_values_to_be_equal": ExpectationType(
        "multicolumn", frozenset(_PAIR), MAP | {"ignore_row_if"}, _PAIR
    ),
    "expect_column_pair_values_to_be_in_set": ExpectationType(
        "multicolumn", frozenset({*_PAIR, "value_pairs_set"}), MAP | {"ignore_row_if"}, _PAIR
    ),
    "expect_multicolumn_sum_to_equal": ExpectationType(
        "multicolumn", frozenset({"column_list", "sum_total"}), MAP | {"ignore_row_if"}, (), ("column_list",)
    ),
    "expect_select_column_values_to_be_unique_within_record": ExpectationType(
        "multicolumn", frozenset({"column_list"}), MAP | {"ignore_row_if"}, (), ("column_list",)
    ),
    # extensions
    "expect_column_values_to_exist_in": ExpectationType(
        "extension", frozenset({"column", "dataset", "other_column"}), MAP
    ),
    "expect_column_max_to_be_recent": ExpectationType(
        "extension", frozenset({"column", "max_lag"}), frozenset()
    ),
}

VOCABULARY: dict[str, ExpectationType] = {k: v for k, v in _GX_TYPES.items() if k not in NOT_IMPLEMENTED}

ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
_STRING: dict[str, Any] = {"type": "string"}
_BOUND: dict[str, Any] = {
    "anyOf": [{"type": "number"}, {"type": "null"}, {"type": "string", "pattern": ISO_DATE_PATTERN}],
    "description": "a number, an ISO-8601 date or date-time, or null",
}


def kwarg_schema(name: str) -> dict[str, Any]:
    """JSON Schema of one kwarg's value (empty: any value)."""
    if name in ("column", "column_A", "column_B", "other_column", "type_", "strftime_format", "like_pattern"):
        return dict(_STRING)
    if name == "regex":
        return {"type": "string", "format": "regex"}
    if name == "dataset":
        return {"type": "string", "description": "a dataset declared in smartflow.yaml"}
    if name == "max_lag":
        return {"type": "string", "pattern": DURATION_PATTERN, "description": "ISO-8601 duration"}
    if name in ("column_list", "column_set", "regex_list", "like_pattern_list", "type_list"):
        return {"type": "array", "items": dict(_STRING)}
    if name == "value_set":
        return {"type": "array"}
    if name == "mostly":
        return {"type": "number", "minimum": 0, "maximum": 1}
    if name in ("min_value", "max_value"):
        return {**_BOUND, "anyOf": [dict(x) for x in _BOUND["anyOf"]]}
    if name in BOOLEAN_KWARGS:
        return {"type": "boolean"}
    if name in NUMBER_KWARGS:
        return {"type": "number"}
    if name == "value":
        return {"type": ["number", "string"]}
    if name == "match_on":
        return {"enum": ["any", "all"]}
    if name == "ignore_row_if":
        return {"enum": sorted(IGNORE_ROW_IF)}
    if name == "column_index":
        return {"type": "integer", "minimum": 0}
    return {}


IGNORE_ROW_IF = frozenset(
    {
        "both_values_are_missing",
        "either_value_is_missing",
        "neither",
        "all_values_are_missing",
        "any_value_is_missing",
        "never",
    }
)
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def matches(value: Any, schema: dict[str, Any]) -> bool:
    """Whether `value` (as loaded from YAML) satisfies a `kwarg_schema` fragment."""
    if "anyOf" in schema:
        return any(matches(value, s) for s in schema["anyOf"])
    if "enum" in schema and value not in schema["enum"]:
        return False
    kinds = schema.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        ok = any(
            isinstance(value, _JSON_TYPES[n]) and not (n in ("number", "integer") and isinstance(value, bool))
            for n in names
        )
        if not ok:
            return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return False
        if "maximum" in schema and value > schema["maximum"]:
            return False
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        return False
    if isinstance(value, list) and "items" in schema:
        return all(matches(v, schema["items"]) for v in value)
    return True


def describe(schema: dict[str, Any]) -> str:
    """The expected value in words, for a validate message."""
    if "description" in schema and "anyOf" in schema:
        return str(schema["description"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kinds = schema.get("type")
    words = {"string": "a string", "number": "a number", "integer": "a whole number", "boolean": "true or false",
             "array": "a list", "null": "null", "object": "a mapping"}  # fmt: skip
    names = [kinds] if isinstance(kinds, str) else list(kinds or [])
    text = " or ".join(words.get(n, n) for n in names) or "a value"
    if "minimum" in schema and "maximum" in schema:
        text += f" between {schema['minimum']:g} and {schema['maximum']:g}"
    if "items" in schema:
        text += " of " + describe(schema["items"]).removeprefix("a ") + "s"
    return text
