"""`quality suggest`: profile a dataset, apply the rules, size the history bounds, write the suite."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from governance import metrics
from governance.errors import ExitCode, InputError
from governance.project import Project
from governance.quality.suggest import rules
from governance.quality.suggest.bounds import interval
from governance.quality.suggest.profile import ForeignKey, Profile, kind_of, profile
from governance.quality.suggest.writer import suite_yaml
from governance.results import StepResult

log = logging.getLogger("governance.quality.suggest")
FILE_FORMATS = ("delta", "parquet")


def _engine_kind(fmt: str) -> str:
    return {"sql": "sql", "spark": "spark"}.get(fmt, "duckdb")


def _fk_candidates(project: Project, dataset: str) -> list[tuple[str, str]]:
    """(column, dataset) pairs: another dataset on the same engine whose one-column key is that column."""
    me = project.dataset(dataset)
    out = []
    for name, spec in sorted(project.config.datasets.items()):
        if name == dataset or len(spec.key) != 1:
            continue
        same = (
            spec.format in FILE_FORMATS and me.format in FILE_FORMATS
            if me.format != "sql"
            else spec.format == "sql" and spec.connection == me.connection
        )
        if same:
            out.append((spec.key[0], name))
    return out


def _reachable(project: Project, name: str) -> bool:
    from governance.lake import resolve

    spec = project.dataset(name)
    if spec.format not in FILE_FORMATS:
        return True
    try:
        return resolve.exists(resolve.locate(project, name))
    except Exception:  # an unreadable referenced table only loses its candidate key
        return False


def _row_history(project: Project, prof: Profile) -> dict[str, float]:
    """Rows per partition: those recorded in the metric history (partitions since removed still count),
    overridden by the profile's own counts."""
    out = {
        m.dimensions["partition"]: m.value
        for m in metrics.query(project.state_dir, "row_count", {"dataset": prof.dataset})
        if "partition" in m.dimensions
    }
    out.update({str(p.value): float(p.rows) for p in prof.partitions})
    return out


def _table_rows_history(project: Project, dataset: str) -> list[float]:
    runs: dict[str, float] = {}
    for m in metrics.query(project.state_dir, "rows_validated", {"dataset": dataset}):
        runs[m.run_id or str(m.id)] = m.value
    return list(runs.values())


def suggest(
    project: Project, dataset: str, out: str | None = None, false_alarm_rate: float = 0.02
) -> StepResult:
    if not 0 < false_alarm_rate < 1:
        raise InputError(f"--false-alarm-rate must be between 0 and 1, got {false_alarm_rate}")
    from governance.lake.engines import open_engine

    spec = project.dataset(dataset)
    kind = _engine_kind(spec.format)
    pii = project.pii_columns(dataset)
    candidates = [(c, d) for c, d in _fk_candidates(project, dataset) if _reachable(project, d)]
    engine = open_engine(project, kind, [dataset, *sorted({d for _, d in candidates})])
    try:
        mine = {n: kind_of(t) for n, t in engine.columns(dataset).items()}
        fks = []
        for column, other in candidates:
            theirs = {n: kind_of(t) for n, t in engine.columns(other).items()}
            if column in mine and mine[column] == theirs.get(column) and mine[column] != "other":
                fks.append(ForeignKey(column, other, column))
        partition = spec.partitioning[0] if spec.partitioning and spec.partitioning[0] in mine else None
        prof = profile(engine, dataset, pii, partition, fks)
    finally:
        engine.close()
    facts = rules.Facts(
        prof,
        key=list(spec.key),
        row_history=_row_history(project, prof),
        table_rows_history=_table_rows_history(project, dataset),
    )
    proposals: list[rules.Proposal] = []
    for c in prof.columns.values():
        for column_rule in rules.COLUMN_RULES:
            proposals += column_rule(facts, c)
    for table_rule in rules.TABLE_RULES:
        proposals += table_rule(facts)
    sides = sum(p.sides for p in proposals if isinstance(p, rules.Pending))
    alpha = false_alarm_rate / sides if sides else false_alarm_rate
    chosen: list[rules.Suggestion] = []
    for p in proposals:
        if isinstance(p, rules.Pending):
            intervals = [
                interval(series, alpha, side in ("lower", "both"), side in ("upper", "both"), p.extreme)
                for series, side in p.series
            ]
            made = p.make(intervals)
            if made is not None:
                chosen.append(made)
        else:
            chosen.append(p)
    suite = dataset.replace(".", "_") + "_suggested"
    parts = f" over {len(prof.partitions)} partitions of {prof.partition}" if prof.partition else ""
    description = (
        f"Suggested from {prof.rows:,} rows{parts}; history bounds sized for a false-alarm rate of "
        f"{false_alarm_rate:g} per partition, split over {sides} bounded sides."
    )
    text = suite_yaml(suite, dataset, description, chosen)
    payload: dict[str, Any] = {
        "dataset": dataset,
        "suite": suite,
        "expectations": [{"type": s.type, "kwargs": s.kwargs, "evidence": s.evidence} for s in chosen],
        "rows": prof.rows,
        "partition": prof.partition,
        "partitions": len(prof.partitions),
        "false_alarm_rate": false_alarm_rate,
        "bounded_sides": sides,
        "queries": prof.queries,
    }
    if out:
        try:
            Path(out).write_text(text)
        except OSError as exc:
            raise InputError(f"{out}: cannot write the suite: {exc.strerror}") from exc
        payload["out"] = out
        summary = f"wrote {out}: {len(chosen)} suggested expectations for {dataset} ({prof.queries} queries)"
        return StepResult(payload, ExitCode.OK, summary)
    return StepResult(payload, ExitCode.OK, text)
