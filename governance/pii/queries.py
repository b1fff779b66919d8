"""The SQL of the pushed-down scan (`governance.pii.scan`), built as sqlglot trees over the sample
table: which (column, rule, mode) combinations are probed, the counting query (flat, or grouped by
value where the engine has a top-N aggregate), and the detail query that fetches candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from governance.pii.rules import DetectionRule, Pushdown

if TYPE_CHECKING:
    from sqlglot import exp

SAMPLE_TABLE = "sfg_pii_sample"


def regex_match(column: exp.Expression, pd: Pushdown, dialect: str) -> exp.Expression:
    """`column` matches `pd` on the engine (see governance.lake.dialects)."""
    from governance.lake.dialects import dialect_for

    return dialect_for(dialect).regex_match(column, pd.pattern, pd.case_insensitive)


def _widened(pd: Pushdown) -> Pushdown:
    """Whole-value pushdown that tolerates surrounding blanks (Python trims before matching)."""
    inner = pd.pattern[1:-1] if pd.pattern.startswith("^") and pd.pattern.endswith("$") else pd.pattern
    return Pushdown(f"^\\s*{inner}\\s*$", pd.case_insensitive, pd.exact)


@dataclass(frozen=True)
class Probe:
    """One counted (column, rule, mode) combination; `mode` is "value" or "text"."""

    index: int
    column: int
    rule: DetectionRule
    mode: str

    @property
    def pushdown(self) -> Pushdown:
        return _widened(self.rule.value_pushdown) if self.mode == "value" else self.rule.text_pushdown


def probes_for(columns: list[str], rules: list[DetectionRule]) -> list[Probe]:
    out: list[Probe] = []
    for ci in range(len(columns)):
        for rule in rules:
            if rule.data_regex is None:
                continue
            out.append(Probe(len(out), ci, rule, "value"))
            if rule.text_regex is not None:
                out.append(Probe(len(out), ci, rule, "text"))
    return out


def count_query(columns: list[str], probes: list[Probe], dialect: str) -> exp.Select:
    """The one aggregate query: non-null counts and, per probe, the rows its pattern matches.

    Each regex runs once per row, in an inner projection of booleans that the outer query sums. Distinct
    counts are left to the detail query, for the few probes that matched (hundreds of COUNT(DISTINCT …)
    in one query cost far more than the regexes).
    """
    from sqlglot import exp

    inner: list[Any] = [exp.column(f"c{i}") for i in range(len(columns))]
    inner += [
        exp.alias_(regex_match(exp.column(f"c{p.column}"), p.pushdown, dialect), f"b{p.index}", copy=False)
        for p in probes
    ]
    flags = exp.select(*inner).from_(exp.to_table(SAMPLE_TABLE), copy=False).subquery("flags", copy=False)
    select: list[Any] = [exp.alias_(exp.func("count", exp.Star()), "n", copy=False)]
    select += [
        exp.alias_(exp.func("count", exp.column(f"c{i}")), f"nn{i}", copy=False) for i in range(len(columns))
    ]
    for p in probes:
        hit = exp.column(f"b{p.index}")
        ones = exp.Case(ifs=[exp.If(this=hit, true=exp.Literal.number(1))], default=exp.Literal.number(0))
        select.append(exp.alias_(exp.func("sum", ones), f"m{p.index}", copy=False))
    return exp.select(*select).from_(flags, copy=False)


def probe_kinds(probes: list[Probe]) -> list[tuple[DetectionRule, str]]:
    """The distinct (rule, mode) pairs of `probes`, in order: every column is probed with the same ones."""
    kinds: dict[tuple[str, str], tuple[DetectionRule, str]] = {}
    for p in probes:
        kinds.setdefault((p.rule.name, p.mode), (p.rule, p.mode))
    return list(kinds.values())


def grouped_query(
    columns: list[str], probes: list[Probe], dialect: str, cap: int | None
) -> exp.Expression | None:
    """Counting and detail in one query, one row per column (each is probed with the same `probe_kinds`):
    ci, nn, and per probe kind j: m{j} matched rows, d{j} matched distinct values, and where the rule
    needs confirmation v{j}: up to `cap` of those values with their row counts, smallest md5 first (the
    detail query's choice; none when `cap` is None). None when the engine has no top-N aggregate.

    Each column's values are grouped before any pattern runs, so a pattern runs once per distinct value
    and its matches are weighted by the row count: a repeated value (a country, a status, a name) costs
    one evaluation. Each column is its own GROUP BY (a per-column hash table on the value alone costs
    less than grouping an unpivoted (column, value) relation), its branches joined by UNION ALL."""
    from sqlglot import exp

    from governance.lake.dialects import dialect_for

    traits = dialect_for(dialect)
    kinds = probe_kinds(probes)
    if traits.smallest_by(exp.column("v"), exp.column("v"), 1) is None:
        return None
    branches: list[exp.Select] = []
    for ci in range(len(columns)):
        c = f"c{ci}"
        grouped = (
            exp.select(
                exp.alias_(exp.column(c), "v", copy=False),
                exp.alias_(exp.func("count", exp.Star()), "n", copy=False),
                copy=False,
            )
            .from_(exp.to_table(SAMPLE_TABLE), copy=False)
            .where(exp.not_(exp.Is(this=exp.column(c), expression=exp.null())), copy=False)
            .group_by(exp.column(c), copy=False)
            .subquery("g", copy=False)
        )
        pair = exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=exp.column("v")),
            exp.PropertyEQ(this=exp.to_identifier("n"), expression=exp.column("n")),
        ])  # fmt: skip
        flags: list[Any] = [exp.column("n")]
        if cap is not None:
            flags += [
                exp.alias_(pair, "p", copy=False),
                exp.alias_(exp.MD5(this=exp.column("v")), "h", copy=False),
            ]
        select: list[Any] = [
            exp.alias_(exp.Literal.number(ci), "ci", copy=False),
            exp.alias_(exp.func("sum", exp.column("n")), "nn", copy=False),
        ]
        for j, (rule, mode) in enumerate(kinds):
            pushdown = Probe(0, ci, rule, mode).pushdown
            flags.append(exp.alias_(regex_match(exp.column("v"), pushdown, dialect), f"b{j}", copy=False))
            hit = exp.column(f"b{j}")
            ones = exp.Case(
                ifs=[exp.If(this=hit.copy(), true=exp.column("n"))], default=exp.Literal.number(0)
            )
            select.append(exp.alias_(exp.func("sum", ones), f"m{j}", copy=False))
            count = exp.Filter(this=exp.func("count", exp.Star()), expression=exp.Where(this=hit.copy()))
            select.append(exp.alias_(count, f"d{j}", copy=False))
            if cap is not None and rule.needs_candidates:
                top = traits.smallest_by(exp.column("p"), exp.column("h"), cap)
                select.append(
                    exp.alias_(
                        exp.Filter(this=top, expression=exp.Where(this=hit.copy())), f"v{j}", copy=False
                    )
                )
        flagged = exp.select(*flags, copy=False).from_(grouped, copy=False).subquery("f", copy=False)
        branches.append(exp.select(*select, copy=False).from_(flagged, copy=False))
    query: exp.Expression = branches[0]
    for branch in branches[1:]:
        query = exp.union(query, branch, distinct=False, copy=False)
    return query


def detail_query(confirm: list[Probe], exact: list[Probe], dialect: str, cap: int) -> exp.Expression:
    """Rows (k, v, n, dn) for the probes that matched: for each probe to confirm, up to `cap` distinct
    matching values with their row counts (chosen by md5, so reproducible) and the total distinct count;
    for each exact probe, only its distinct count (v is NULL: no value leaves the engine).

    Values are grouped before the pattern runs, so it runs once per distinct value, not once per row."""
    from sqlglot import exp

    parts: list[exp.Select] = []
    for p in confirm:
        total = exp.Window(this=exp.func("count", exp.Star()))
        inner = (
            exp.select("v", "n", exp.alias_(total, "dn", copy=False))
            .from_(_distinct_values(p), copy=False)
            .where(regex_match(exp.column("v"), p.pushdown, dialect), copy=False)
            .order_by(exp.MD5(this=exp.column("v")), copy=False)
            .limit(cap, copy=False)
        )
        key = exp.alias_(exp.Literal.number(p.index), "k", copy=False)
        parts.append(
            exp.select(key, "v", "n", "dn").from_(inner.subquery(f"q{p.index}", copy=False), copy=False)
        )
    for p in exact:
        parts.append(
            exp.select(
                exp.alias_(exp.Literal.number(p.index), "k", copy=False),
                exp.alias_(exp.cast(exp.null(), "text", dialect=dialect), "v", copy=False),
                exp.alias_(exp.func("sum", exp.column("n")), "n", copy=False),
                exp.alias_(exp.func("count", exp.Star()), "dn", copy=False),
            )
            .from_(_distinct_values(p), copy=False)
            .where(regex_match(exp.column("v"), p.pushdown, dialect), copy=False)
        )
    query: exp.Expression = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False, copy=False)
    return query


def _distinct_values(p: Probe) -> exp.Subquery:
    """(v, n): the distinct non-null values of the probe's column and their row counts."""
    from sqlglot import exp

    c = exp.column(f"c{p.column}")
    return (
        exp.select(
            exp.alias_(c.copy(), "v", copy=False), exp.alias_(exp.func("count", exp.Star()), "n", copy=False)
        )
        .from_(exp.to_table(SAMPLE_TABLE), copy=False)
        .where(exp.not_(exp.Is(this=c.copy(), expression=exp.null())), copy=False)
        .group_by(c.copy(), copy=False)
        .subquery(f"g{p.index}", copy=False)
    )
