"""The expectation vocabulary we accept: GX 1.x names and kwargs, plus our two extensions.

Used by `validate` to report unknown types and kwargs at FILE:LINE, and by the quality engine as the
list of what it implements. Each entry: required kwargs, optional kwargs, and which kwargs name columns.
"""

from __future__ import annotations

from dataclasses import dataclass

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

EXPECTATION_TYPES: dict[str, ExpectationType] = {
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
