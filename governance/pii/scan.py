"""The pushed-down scan of one dataset: a reproducible sample, one counting query, validated candidates.

1. The sample is materialised on the engine (DuckDB `USING SAMPLE reservoir(N ROWS) REPEATABLE(seed)`,
   PostgreSQL and other warehouses `TABLESAMPLE BERNOULLI(p) REPEATABLE(seed)`, Spark `sample(seed=)`),
   every scanned column cast to text under a neutral alias (c0, c1, …).
2. ONE aggregate query counts, per column, the non-null values and for every rule the values its
   pushdown pattern matches as a whole and (free-text rules) inside text.
3. One detail query, for the (column, rule) pairs that matched: where a rule needs confirmation (a
   validator, or a pattern the engine ran widened) a bounded number of distinct matching values with
   their row counts (chosen by md5, so the choice is reproducible) and the distinct total; otherwise
   the distinct count only. Python confirms the values, counts, and drops them. Nothing is kept,
   logged or returned but counts.

On an engine with a top-N aggregate (DuckDB's `arg_min(value, key, n)`), 2 and 3 are one query: each
column's values are grouped first, every pattern runs once per distinct value (weighted by its row
count), and the same pass takes the distinct counts and the md5-chosen candidates
(`queries.grouped_query`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from governance.errors import InfraError
from governance.pii.queries import (
    SAMPLE_TABLE,
    Probe,
    count_query,
    detail_query,
    grouped_query,
    probe_kinds,
    probes_for,
)
from governance.pii.rules import DetectionRule

if TYPE_CHECKING:
    from sqlglot import exp

    from governance.lake.engines import Engine

log = logging.getLogger("governance.pii.scan")

# column types worth scanning: text, dates and whole numbers (card numbers, ids stored as numbers)
_TEXT_TYPES = ("char", "text", "string", "uuid", "clob", "json")
_KEEP_TYPES = ("date", "int", "long", "short", "byte", "numeric", "decimal", "number")
_SKIP_TYPES = ("timestamp", "time ", "interval", "float", "double", "real", "bool", "binary", "blob",
               "bytea", "[]", "list", "struct", "map", "array", "datetime")  # fmt: skip


@dataclass
class Evidence:
    """What the scan measured for one column and one rule (counts only, never values)."""

    column: str
    rule: DetectionRule
    non_null: int
    value_rows: int = 0  # rows whose whole value is this kind of data (confirmed)
    value_distinct: int = 0
    text_rows: int = 0  # rows that hold it inside longer text (confirmed; free-text rules)
    text_distinct: int = 0
    candidates_checked: int = 0
    value_matches: int = 0  # rows the engine's whole-value pattern matched (before confirmation)
    text_matches: int = 0  # rows the engine's free-text pattern matched (before confirmation)
    estimated: bool = False  # more candidates than the cap: confirmed share extrapolated
    column_evidence: bool = True  # the validator's column-level check (e.g. birth years span decades)

    def percent(self, rows: int) -> float:
        return round(100.0 * rows / self.non_null, 2) if self.non_null else 0.0


@dataclass
class DatasetScan:
    dataset: str
    layer: str
    engine: str
    sample_size: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # scanned column -> engine type
    skipped_columns: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    queries: int = 0
    seconds: float = 0.0
    error: str | None = None
    carried_from: str | None = None  # run id of the scan whose measurements were carried (data unchanged)
    extended_from: str | None = None  # run id of the scan extended by the rows added since (appends only)
    rows_scanned: int = 0  # rows the counting query read: the sample, or only the added rows
    # the data files the sample was drawn from, when not all of them (governance.lake.file_sample)
    sampled_from: dict[str, int] | None = None
    complete: bool | None = None  # False: a sample, even when it holds more rows than asked (extended)

    def summary(self) -> dict[str, Any]:
        extra = {} if self.sampled_from is None else {"sampled_from": self.sampled_from}
        return {
            "dataset": self.dataset,
            "layer": self.layer,
            "engine": self.engine,
            "sample_size": self.sample_size,
            "columns_scanned": len(self.columns),
            "columns_skipped": len(self.skipped_columns),
            "queries": self.queries,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_scanned / self.seconds, 1) if self.seconds else None,
            "error": self.error,
            "carried_from": self.carried_from,
            "extended_from": self.extended_from,
            "rows_scanned": self.rows_scanned,
        } | extra


# ------------------------------------------------------------------------------------------- columns
def scannable(type_name: str) -> bool:
    t = type_name.lower()
    if any(k in t for k in _TEXT_TYPES):
        return True
    if any(k in t for k in _SKIP_TYPES):
        return False
    if "decimal" in t or "numeric" in t:
        return t.replace(" ", "").endswith(",0)") or "(" not in t
    return any(k in t for k in _KEEP_TYPES)


def column_types(engine: Engine, dataset: str) -> dict[str, str]:
    """Column name → type name as the engine sees the dataset (from metadata)."""
    return engine.columns(dataset)


# ------------------------------------------------------------------------------------------- sampling
def _text_cast(column: str, dialect: str) -> exp.Expression:
    from sqlglot import exp

    return exp.cast(exp.column(column, quoted=True), "text", dialect=dialect, copy=False)


def _projection(columns: list[str], dialect: str) -> list[Any]:
    from sqlglot import exp

    return [exp.alias_(_text_cast(c, dialect), f"c{i}", copy=False) for i, c in enumerate(columns)]


def materialise_sample(
    engine: Engine, dataset: str, columns: list[str], size: int | None, seed: int
) -> tuple[int, str]:
    """Create the sample on the engine; returns its row count and what it is ("TABLE" or "VIEW").

    A real sample is materialised (a temporary table, a cached Spark view) so both queries read the
    same rows; when every row is read (`--sample 0`, or a table smaller than the sample) it is only a
    view, so a full scan never copies the table (see `Engine.create_sample`)."""
    from sqlglot import exp

    kind = engine.create_sample(SAMPLE_TABLE, dataset, _projection(columns, engine.dialect), size, seed)
    return _row_count(engine, exp.to_table(SAMPLE_TABLE)), kind


def _row_count(engine: Engine, table: exp.Table) -> int:
    from sqlglot import exp

    _, rows = engine.execute(exp.select(exp.func("count", exp.Star())).from_(table))
    return int(rows[0][0] or 0)


def drop_sample(engine: Engine, kind: str) -> None:
    engine.drop_temp(SAMPLE_TABLE, kind)


# ------------------------------------------------------------------------------------------- confirm
def _confirm(probe: Probe, values: Iterable[tuple[Any, Any]]) -> tuple[int, int, int, int, bool]:
    """(confirmed rows, confirmed distinct, fetched rows, fetched distinct, column evidence) for a probe."""
    rule = probe.rule
    rows = distinct = fetched_rows = fetched_distinct = 0
    seen: list[str] = []
    for raw, n in values:
        text = str(raw)
        fetched_rows += int(n)
        fetched_distinct += 1
        if probe.mode == "value":
            ok = rule.value_match(text)
            seen.append(text.strip())
        else:
            ok = rule.text_match(text) and not rule.value_match(text)
        if ok:
            rows += int(n)
            distinct += 1
    evidence = True
    if probe.mode == "value" and rule.validator and rule.validator.column_evidence and seen:
        evidence = rule.validator.column_evidence(seen)
    seen.clear()
    return rows, distinct, fetched_rows, fetched_distinct, evidence


@dataclass
class Counts:
    """What the counting query measured: rows, non-null values per column, matched rows per probe."""

    rows: int
    non_null: list[int]
    matched: dict[int, int]
    # what the detail query would give, when the counting query measured it too (`grouped_query`):
    # matched distinct values per probe, and the md5-chosen candidates (value, rows) of those to confirm
    distinct: dict[int, int] | None = None
    candidates: dict[int, list[tuple[Any, Any]]] | None = None

    def plus(self, other: Counts) -> Counts:
        return Counts(
            self.rows + other.rows,
            [a + b for a, b in zip(self.non_null, other.non_null, strict=True)],
            {k: m + other.matched[k] for k, m in self.matched.items()},
        )


@dataclass
class Prior:
    """A completed scan of every row of an earlier version of the dataset, and the name under which the
    engine knows the rows added since (only `add` actions in between: nothing was removed or rewritten)."""

    scan: DatasetScan
    run_id: str
    added: str
    complete: bool = True  # the stored scan read every row (else it measured a sample)
    files: int = 0  # how many data files were added


def _count(
    engine: Engine,
    source: str,
    columns: list[str],
    probes: list[Probe],
    size: int | None,
    seed: int,
    cap: int | None,
) -> tuple[Counts, str]:
    """Materialise the sample of `source` and run the counting query on it (the sample is left in place
    for the detail query; the caller drops it). Returns the counts and the sample's kind; with `cap`
    None, no candidate is taken (the caller's detail query reads other rows)."""
    rows, kind = materialise_sample(engine, source, columns, size, seed)
    grouped = grouped_query(columns, probes, engine.dialect, cap)
    if grouped is not None:
        names, result = engine.execute(grouped)
        return _grouped_counts(rows, columns, probes, names, result, cap is not None), kind
    names, result = engine.execute(count_query(columns, probes, engine.dialect))
    counts = dict(zip(names, result[0], strict=True))
    non_null = [int(counts[f"nn{i}"] or 0) for i in range(len(columns))]
    return Counts(rows, non_null, {p.index: int(counts[f"m{p.index}"] or 0) for p in probes}), kind


def _grouped_counts(
    rows: int,
    columns: list[str],
    probes: list[Probe],
    names: list[str],
    result: list[tuple[Any, ...]],
    took: bool,
) -> Counts:
    """The counts, distinct counts and (when it took them) candidates of `grouped_query`'s rows, one
    per column."""
    kind_of = {(rule.name, mode): j for j, (rule, mode) in enumerate(probe_kinds(probes))}
    by_column = {int(r[0]): dict(zip(names, r, strict=True)) for r in result}
    non_null = [int(by_column[i]["nn"] or 0) for i in range(len(columns))]
    matched: dict[int, int] = {}
    distinct: dict[int, int] = {}
    candidates: dict[int, list[tuple[Any, Any]]] = {}
    for p in probes:
        row, j = by_column[p.column], kind_of[(p.rule.name, p.mode)]
        matched[p.index], distinct[p.index] = int(row[f"m{j}"] or 0), int(row[f"d{j}"] or 0)
        if matched[p.index] and p.rule.needs_candidates and f"v{j}" in row:
            candidates[p.index] = [(c["v"], c["n"]) for c in row[f"v{j}"] or []]
    return Counts(rows, non_null, matched, distinct if took else None, candidates if took else None)


def _stored_counts(prior: DatasetScan, columns: list[str], probes: list[Probe]) -> Counts | None:
    """The counts a prior scan of the same columns and rules measured, or None when they differ."""
    by_key = {(ev.column, ev.rule.name): ev for ev in prior.evidence}
    non_null = [0] * len(columns)
    matched: dict[int, int] = {}
    for p in probes:
        ev = by_key.get((columns[p.column], p.rule.name))
        if ev is None:
            return None
        non_null[p.column] = ev.non_null
        matched[p.index] = ev.value_matches if p.mode == "value" else ev.text_matches
    return Counts(prior.sample_size, non_null, matched)


def _evidence(
    engine: Engine, columns: list[str], probes: list[Probe], counts: Counts, cap: int
) -> list[Evidence]:
    """Evidence per (column, rule) of `probes` over the sample in place: the detail query for the probes
    that matched, values confirmed in Python and dropped."""
    confirm = [p for p in probes if p.rule.needs_candidates and counts.matched[p.index] > 0]
    exact = [p for p in probes if not p.rule.needs_candidates and counts.matched[p.index] > 0]
    fetched: dict[int, list[tuple[Any, Any]]] = {}
    distinct: dict[int, int] = {}
    if counts.distinct is not None and counts.candidates is not None:  # measured by the counting query
        distinct = counts.distinct
        fetched = {p.index: counts.candidates.pop(p.index) for p in confirm}
    elif confirm or exact:
        _, detail = engine.execute(detail_query(confirm, exact, engine.dialect, cap))
        for k, v, n, dn in detail:
            distinct[int(k)] = int(dn or 0)
            if v is not None:
                fetched.setdefault(int(k), []).append((v, n))
        del detail
    by_key: dict[tuple[int, str], Evidence] = {}
    for p in probes:
        ev = by_key.get((p.column, p.rule.name))
        if ev is None:
            ev = by_key[(p.column, p.rule.name)] = Evidence(
                columns[p.column], p.rule, counts.non_null[p.column]
            )
        m_rows, m_distinct = counts.matched[p.index], distinct.get(p.index, 0)
        if p.index in fetched:
            rows_ok, distinct_ok, f_rows, f_distinct, col_ok = _confirm(p, fetched.pop(p.index))
            ev.candidates_checked += f_distinct
            if f_rows < m_rows and f_rows:  # capped: extrapolate the confirmed share
                ev.estimated = True
                rows_ok = round(m_rows * rows_ok / f_rows)
                distinct_ok = round(m_distinct * distinct_ok / max(f_distinct, 1))
            if p.mode == "value":
                ev.column_evidence = col_ok
        elif p.rule.needs_candidates:
            rows_ok = distinct_ok = 0
        elif p.mode == "text":  # exact on the engine: text hits include the whole-value ones
            rows_ok, distinct_ok = max(0, m_rows - ev.value_rows), max(0, m_distinct - ev.value_distinct)
        else:
            rows_ok, distinct_ok = m_rows, m_distinct
        if p.mode == "value":
            ev.value_rows, ev.value_distinct, ev.value_matches = rows_ok, distinct_ok, m_rows
        else:
            ev.text_rows, ev.text_distinct, ev.text_matches = rows_ok, distinct_ok, m_rows
    fetched.clear()
    return list(by_key.values())


def _extend(
    engine: Engine,
    dataset: str,
    result: DatasetScan,
    prior: Prior,
    probes: list[Probe],
    sample: int | None,
    cap: int,
) -> str | None:
    """Extend `prior` by the added rows into `result`, equal to a fresh scan of every row; the kind of the
    sample left in place, or None (nothing changed in `result`) when only a fresh scan can answer:
    other columns or rules, or more rows than a sample would take (a sample of the whole table is not
    the sample of the old rows plus every new one).

    The counting query (every rule on every column) reads only the added rows; counts add up. A
    (column, rule) pair with no match among them keeps its stored evidence as is: the matching values,
    hence the distinct counts, the candidates and their confirmation, are the same. The pairs that did
    match get the detail query over every row, since distinct counts and validator checks over a
    union cannot be merged from counts (and no value is kept to merge them with)."""
    columns = list(result.columns)
    if prior.scan.columns != result.columns:
        return None
    stored = _stored_counts(prior.scan, columns, probes)
    if stored is None:
        return None
    added, kind = _count(engine, prior.added, columns, probes, None, 0, None)  # counts only
    drop_sample(engine, kind)
    total = stored.plus(added)
    if sample is not None and total.rows > sample:
        return None
    changed = {(p.column, p.rule.name) for p in probes if added.matched[p.index]}
    redo = [p for p in probes if (p.column, p.rule.name) in changed]
    kind = "VIEW"
    fresh: dict[tuple[str, str], Evidence] = {}
    if redo:
        _, kind = materialise_sample(engine, dataset, columns, None, 0)
        fresh = {(ev.column, ev.rule.name): ev for ev in _evidence(engine, columns, redo, total, cap)}
    for ev in prior.scan.evidence:
        key = (ev.column, ev.rule.name)
        if key in fresh:
            result.evidence.append(fresh[key])
        else:
            ev.non_null = total.non_null[columns.index(ev.column)]
            result.evidence.append(ev)
    result.sample_size, result.rows_scanned = total.rows, added.rows
    result.extended_from = prior.run_id
    return kind


def _merge(old: Evidence, new: Evidence) -> Evidence:
    """The evidence of two disjoint samples of one column (counts add up; see `_extend_sample`)."""
    merged = Evidence(old.column, old.rule, old.non_null + new.non_null)
    for name in ("value_rows", "value_distinct", "text_rows", "text_distinct", "candidates_checked",
                 "value_matches", "text_matches"):  # fmt: skip
        setattr(merged, name, getattr(old, name) + getattr(new, name))
    merged.estimated = old.estimated or new.estimated
    # a column-level check weighs every matched value; the larger, older part decides, unless it had none
    merged.column_evidence = old.column_evidence if old.value_matches else new.column_evidence
    return merged


def _extend_sample(
    engine: Engine,
    dataset: str,
    result: DatasetScan,
    prior: Prior,
    probes: list[Probe],
    sample: int | None,
    seed: int,
    cap: int,
) -> str | None:
    """Extend a prior *sample* by a sample of the added rows at the same rate, into `result`; the kind of
    the sample left in place, or None when only a fresh scan can answer (other columns or rules, no
    sample size, or an extended sample over twice the sample size: then the table is sampled afresh).

    The stored sample measured n of the N rows the table had; the rows added since (only `add` actions
    in between) get a reservoir sample of round(n × added / N) rows of their own, scanned with the same
    queries. Together the two are a stratified sample with one sampling rate, so every match share is an
    unbiased estimate of the table's, as a fresh sample's is. Row counts add up; a distinct count is the
    sum of the two parts' (an upper bound: a value may be in both), and a column-level validator check
    is the older part's. A fresh sample of the whole table would draw other rows, so the findings may
    differ from a fresh scan's within sampling error; once the extended sample reaches twice the sample
    size (the table has about doubled), the next change samples the whole table again."""
    if sample is None or prior.scan.columns != result.columns:
        return None
    if _stored_counts(prior.scan, list(result.columns), probes) is None:  # other columns or rules
        return None
    added_rows = _row_count(engine, engine.relation(prior.added))
    old_rows = _row_count(engine, engine.relation(dataset)) - added_rows  # only rows were added since
    if old_rows <= 0:
        return None
    take = round(prior.scan.sample_size * added_rows / old_rows)
    if prior.scan.sample_size + take > 2 * sample:
        return None
    columns = list(result.columns)
    kind = "VIEW"
    fresh: dict[tuple[str, str], Evidence] = {}
    rows = 0
    if take:
        counts, kind = _count(engine, prior.added, columns, probes, take, seed, cap)
        rows = counts.rows
        fresh = {(ev.column, ev.rule.name): ev for ev in _evidence(engine, columns, probes, counts, cap)}
    for ev in prior.scan.evidence:
        new = fresh.get((ev.column, ev.rule.name))
        result.evidence.append(ev if new is None else _merge(ev, new))
    result.sample_size, result.rows_scanned = prior.scan.sample_size + rows, rows
    if prior.scan.sampled_from is not None:
        was, files = prior.scan.sampled_from, prior.files
        result.sampled_from = {
            "files": was["files"] + files, "of_files": was["of_files"] + files,
            "rows": was["rows"] + added_rows, "of_rows": was["of_rows"] + added_rows,
        }  # fmt: skip
    result.extended_from = prior.run_id
    result.complete = False
    return kind


def scan_dataset(
    engine: Engine,
    dataset: str,
    layer: str,
    rules: list[DetectionRule],
    sample: int | None,
    seed: int,
    cap: int,
    prior: Prior | None = None,
) -> DatasetScan:
    """Measure one dataset (see the module docstring); with `prior`, extend that scan by the added rows
    where it can (`_extend` for a scan of every row, equal to a fresh one; `_extend_sample` for a
    sample), else scan afresh."""
    result = DatasetScan(dataset, layer, engine.kind)
    started = time.perf_counter()
    queries_before = engine.queries
    sample_kind = "TABLE"
    try:
        types = column_types(engine, dataset)
        columns = [c for c, t in types.items() if scannable(t)]
        result.columns = {c: types[c] for c in columns}
        result.skipped_columns = [c for c in types if c not in result.columns]
        if not columns:
            return result
        probes = probes_for(columns, rules)
        extended = None
        if prior is not None and prior.complete:
            extended = _extend(engine, dataset, result, prior, probes, sample, cap)
        elif prior is not None:
            extended = _extend_sample(engine, dataset, result, prior, probes, sample, seed, cap)
        if extended is not None:
            sample_kind = extended
        else:
            counts, sample_kind = _count(engine, dataset, columns, probes, sample, seed, cap)
            result.sample_size = result.rows_scanned = counts.rows
            subset = engine.sampled_files.get(dataset)
            result.sampled_from = subset.summary() if subset is not None else None
            result.evidence = _evidence(engine, columns, probes, counts, cap)
    except InfraError as exc:
        result.error = str(exc)
    except Exception as exc:  # an engine's own error types (Spark analysis errors, driver errors), or a
        # validator fault: only the type is kept, since such a message could quote a sampled value
        result.error = f"{engine.kind} scan failed: {type(exc).__name__}"
    finally:
        try:
            drop_sample(engine, sample_kind)
        except Exception as exc:  # the engine may already be gone; the temp table dies with it
            log.debug("could not drop the sample table: %s", type(exc).__name__)
        result.queries = engine.queries - queries_before
        result.seconds = time.perf_counter() - started
    return result
