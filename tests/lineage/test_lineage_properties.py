"""Property test: for generated queries, analysis never raises, and each projection's edge kind is the one
its shape implies (bare column → identity, function → transformation, aggregate → aggregation, hash →
masking), whatever CTE nesting and aliasing wrap it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.lineage.sql import analyze

SCHEMA = {"s.t": {"a": "INT", "b": "INT", "c": "VARCHAR", "d": "DATE"}, "s.u": {"a": "INT", "e": "VARCHAR"}}
SHAPES = {
    "identity": "{c}",
    "transformation": "coalesce({c}, NULL)",
    "aggregation": "max({c})",
    "masking": "sha256(CAST({c} AS VARCHAR))",
}


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, dict[str, tuple[str, str]]]:
    picks = draw(
        st.lists(st.tuples(st.sampled_from(list(SHAPES)), st.sampled_from("abcd")), min_size=1, max_size=5)
    )
    depth = draw(st.integers(0, 3))
    agg = any(kind == "aggregation" for kind, _ in picks)
    expected: dict[str, tuple[str, str]] = {}
    select = []
    for i, (kind, col) in enumerate(picks):
        if agg and kind != "aggregation":
            kind = "aggregation"  # every output of an aggregate query is aggregated (no GROUP BY here)
        select.append(f"{SHAPES[kind].format(c='x.' + col)} AS o{i}")
        expected[f"o{i}"] = (col, kind)
    inner = "SELECT * FROM s.t"
    for level in range(depth):
        inner = f"SELECT * FROM ({inner}) AS l{level}"
    sql = f"WITH x AS ({inner}) SELECT {', '.join(select)} FROM x"
    if draw(st.booleans()):
        sql += " WHERE x.b > 0"
    return sql, expected


@settings(max_examples=60, deadline=None)
@given(queries())
def test_generated_queries(case: tuple[str, dict[str, tuple[str, str]]]) -> None:
    sql, expected = case
    result = analyze(sql, SCHEMA, "out.r")
    assert result.problems == []
    direct = {
        (e.target_column): (e.source_column, e.transformation)
        for e in result.edges
        if e.transformation != "filter"
    }
    assert direct == expected
    for e in result.edges:
        assert e.source == "s.t" and e.source_column in SCHEMA["s.t"]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "SELECT",
                "a",
                "b",
                ",",
                "FROM",
                "s.t",
                "s.u",
                "x",
                "(",
                ")",
                "WHERE",
                "=",
                "1",
                "JOIN",
                "ON",
                "*",
                "GROUP BY",
                "UNION",
                "WITH",
                "AS",
                "'q'",
                ";",
                "sum(",
                "OVER",
                "MERGE",
                "INSERT INTO",
                "VALUES",
            ]
        ),
        max_size=14,
    )
)
def test_any_token_soup_is_a_problem_not_a_crash(tokens: list[str]) -> None:
    result = analyze(" ".join(tokens), SCHEMA, "out.r")
    for p in result.problems:
        assert p.kind in ("unparsed_sql", "unknown_column", "unsupported_sql", "unknown_dataset")
        assert p.message and p.line >= 0
