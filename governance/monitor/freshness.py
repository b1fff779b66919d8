"""`freshness check`: per dataset SLA — lag of the freshness column, missing partitions, late arrivals.

Everything is pushed down or read from metadata: the column's max comes from Delta file statistics when
every file has them (else one `max()` query through DuckDB over the Arrow dataset, or SQLAlchemy for a
warehouse table); partitions, row counts and arrivals come from the Delta log (add actions and commit
history), never from a scan of the data.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from governance import metrics
from governance.durations import parse_duration
from governance.errors import ExitCode, GovernanceError, InfraError, InputError
from governance.monitor import partitions as parts
from governance.results import StepResult, worst

if TYPE_CHECKING:
    from governance.config import Dataset
    from governance.lake.resolve import DatasetLocation
    from governance.monitor.delta_facts import Facts, FactsCache
    from governance.project import Project

log = logging.getLogger(__name__)
LATE_SHOWN = 10  # late partitions listed per dataset in the text output


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z") if dt else None


def _as_utc(value: Any) -> datetime | None:
    """A column max (timestamp, date or ISO text) as an aware UTC datetime; dates count from midnight."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def partition_column(spec: Dataset) -> str | None:
    if spec.freshness and spec.freshness.partition_column:
        return spec.freshness.partition_column
    return spec.partitioning[0] if spec.partitioning else None


# --- column max, pushed down -------------------------------------------------------------------------
def _max_from_stats(table: Any, column: str, part_col: str | None) -> tuple[bool, Any]:
    """(known, value) from Delta add-action statistics: no data file is opened."""

    from governance.lake.resolve import add_actions

    actions = add_actions(table)
    if actions.num_rows == 0:
        return True, None
    if column == part_col and f"partition.{column}" in actions.column_names:
        return True, max(
            (v for v in actions.column(f"partition.{column}").to_pylist() if v is not None), default=None
        )
    key = f"max.{column}"
    if key not in actions.column_names:
        return False, None
    maxes = actions.column(key).to_pylist()
    nulls = (
        actions.column(f"null_count.{column}").to_pylist()
        if f"null_count.{column}" in actions.column_names
        else [None] * len(maxes)
    )
    rows = actions.column("num_records").to_pylist()
    for value, n_null, n_rows in zip(maxes, nulls, rows, strict=True):
        if value is None and not (n_null is not None and n_rows is not None and n_null >= n_rows):
            return False, None  # a file without a usable statistic: ask the engine
    if isinstance(maxes[0] if maxes else None, str):
        return False, None  # string statistics may be truncated
    return True, max((v for v in maxes if v is not None), default=None)


def _max_duckdb(loc: DatasetLocation, column: str) -> Any:
    """max(column) over the dataset's Arrow scan, on the DuckDB engine."""
    import sqlglot.expressions as exp

    from governance.lake.engines import DuckDBEngine
    from governance.lake.resolve import arrow_dataset

    engine = DuckDBEngine()
    try:
        engine.register_arrow(loc.name, arrow_dataset(loc))
        query = exp.select(exp.func("max", exp.column(column, quoted=True))).from_(engine.relation(loc.name))
        _, rows = engine.execute(query)
    finally:
        engine.close()
    return rows[0][0] if rows else None


def _sql_facts(project: Project, name: str, column: str, part_col: str | None) -> tuple[Any, list[Any]]:
    """max(column) and the distinct partition values, both computed by the warehouse (on the sql
    engine, as quality and PII discovery run there). A table without a schema is looked up in the
    connection's `schema` when it has one."""
    from sqlglot import exp

    from governance.lake.engines import SQLEngine

    spec = project.dataset(name)
    assert spec.connection and spec.table
    conn_spec = project.config.connections[spec.connection]
    table = spec.table if "." in spec.table or not conn_spec.schema_ else f"{conn_spec.schema_}.{spec.table}"
    engine = SQLEngine(conn_spec.resolved_url(), {name: table}, conn_spec.where)
    try:
        relation = engine.relation(name)
        _, rows = engine.execute(exp.select(exp.func("max", exp.column(column, quoted=True))).from_(relation))
        top = rows[0][0] if rows else None
        values: list[Any] = []
        if part_col:
            distinct = exp.select(exp.column(part_col, quoted=True)).distinct().from_(relation.copy())
            values = [r[0] for r in engine.execute(distinct)[1]]
    finally:
        engine.close()
    return top, values


def _parquet_partitions(loc: DatasetLocation, column: str, grain: parts.Grain) -> list[parts.Partition]:
    import pyarrow.dataset as ds

    from governance.lake.resolve import arrow_dataset

    data = arrow_dataset(loc)
    found: dict[datetime, parts.Partition] = {}
    for frag in data.get_fragments():
        keys = ds.get_partition_keys(frag.partition_expression)
        start = parts.parse_partition_value(keys.get(column), grain)
        if start is not None:
            p = found.setdefault(start, parts.Partition(start, parts.label(start, grain)))
            p.files += 1
    return sorted(found.values(), key=lambda p: p.start)


# --- one dataset --------------------------------------------------------------------------------------
def check_dataset(
    project: Project, name: str, now: datetime, facts_cache: FactsCache | None = None
) -> tuple[dict[str, Any], list[parts.Partition]]:
    from governance.lake.resolve import exists, locate

    spec = project.dataset(name)
    assert spec.freshness is not None
    fr = spec.freshness
    grain: parts.Grain = spec.partition_grain or "day"
    part_col = partition_column(spec)
    max_lag = parse_duration(fr.max_lag)
    entry: dict[str, Any] = {
        "dataset": name,
        "layer": spec.layer,
        "column": fr.column,
        "max_value": None,
        "lag_minutes": None,
        "max_lag_minutes": round(max_lag.total_seconds() / 60, 1),
        "stale": True,
        "partition_column": part_col,
        "partition_grain": grain,
        "partitions": 0,
        "rows": None,
        "missing_partitions": [],
        "late_partitions": [],
    }
    found: list[parts.Partition] = []
    top: Any = None
    if spec.format in ("delta", "parquet"):
        loc = locate(project, name)
        if not exists(loc):
            raise InfraError(f"dataset {name}: no data at {loc.uri}")
        if spec.format == "delta":
            facts = _delta_facts(loc, fr.column, part_col, grain, facts_cache)
            top, found = facts.max_value, facts.partitions
            if facts.note:
                entry["note"] = facts.note
        else:
            top = _max_duckdb(loc, fr.column)
            if part_col:
                found = _parquet_partitions(loc, part_col, grain)
    elif spec.format == "sql":
        top, values = _sql_facts(project, name, fr.column, part_col)
        starts = {parts.parse_partition_value(v, grain) for v in values}
        found = [parts.Partition(s, parts.label(s, grain)) for s in sorted(x for x in starts if x)]
    else:
        raise InfraError(f"dataset {name}: freshness of {spec.format} datasets needs a Spark session")
    max_value = _as_utc(top)
    entry["max_value"] = _iso(max_value)
    if max_value is not None:
        lag = max(now - max_value, timedelta(0))
        entry["lag_minutes"] = round(lag.total_seconds() / 60, 1)
        entry["stale"] = lag > max_lag
    entry["partitions"] = len(found)
    if found and spec.format == "delta":
        entry["rows"] = sum(p.rows for p in found)
    entry["missing_partitions"] = parts.missing([p.start for p in found], grain)
    if fr.late_tolerance and spec.format == "delta":
        entry["late_tolerance_minutes"] = round(parse_duration(fr.late_tolerance).total_seconds() / 60, 1)
        entry["late_partitions"], entry["unjudged_partitions"] = parts.late(
            found, parse_duration(fr.late_tolerance)
        )
    return entry, found


def _delta_facts(
    loc: DatasetLocation, column: str, part_col: str | None, grain: parts.Grain, cache: FactsCache | None
) -> Facts:
    """The freshness column's max and the partitions of a Delta table's newest snapshot (kept per
    snapshot, see governance.monitor.delta_facts)."""
    from governance.lake.resolve import delta_table, snapshot_key
    from governance.monitor.delta_facts import Facts

    ask = cache.ask(snapshot_key(loc), column, part_col, grain) if cache is not None else None
    if cache is not None and (kept := cache.get(loc.name, ask)) is not None:
        return kept
    table = delta_table(loc)
    known, top = _max_from_stats(table, column, part_col)
    if not known:
        top = _max_duckdb(loc, column)
    facts = Facts(_as_utc(top), [])
    if part_col:
        try:
            facts.partitions = parts.delta_partitions(table, part_col, grain)
        except KeyError:
            facts.note = f"{part_col} is not a partition column of the Delta table"
    if cache is not None:
        cache.remember(loc.name, ask, facts)
    return facts


def _metrics(
    project: Project,
    entries: list[dict[str, Any]],
    found: dict[str, list[parts.Partition]],
    now: datetime,
    run_id: str,
) -> list[metrics.Metric]:
    out: list[metrics.Metric] = []
    for e in entries:
        if "error" in e:
            continue
        dims = {"dataset": e["dataset"], "layer": e["layer"]}
        if e["lag_minutes"] is not None:
            out.append(metrics.Metric("freshness_lag_minutes", e["lag_minutes"], dims, now, run_id))
        out.append(metrics.Metric("missing_partitions", len(e["missing_partitions"]), dims, now, run_id))
        if "late_tolerance_minutes" in e:
            out.append(metrics.Metric("late_partitions", len(e["late_partitions"]), dims, now, run_id))
        out += _row_counts(project, e["dataset"], e["layer"], found.get(e["dataset"], []), run_id)
    return out


def _row_counts(
    project: Project, dataset: str, layer: str, found: list[parts.Partition], run_id: str
) -> list[metrics.Metric]:
    """Rows per partition (from the log's file statistics), timed at the partition's start so anomaly
    detection sees one series per dataset over the calendar. Only new or changed counts are recorded."""
    if not any(p.rows for p in found):
        return []
    seen: dict[str, float] = {}
    for m in metrics.query(project.state_dir, "row_count", {"dataset": dataset}):
        seen[m.dimensions.get("partition", "")] = m.value
    return [
        metrics.Metric(
            "row_count", p.rows, {"dataset": dataset, "layer": layer, "partition": p.label}, p.start, run_id
        )
        for p in found
        if seen.get(p.label) != p.rows
    ]


def _text(payload: dict[str, Any]) -> str:
    lines = [f"freshness at {payload['checked_at']} ({payload.get('source', 'lake')})"]
    for e in payload["datasets"]:
        if "error" in e:
            lines.append(f"  ERROR  {e['dataset']}: {e['error']}")
            continue
        state = "STALE" if e["stale"] else "ok   "
        lag = "n/a" if e["lag_minutes"] is None else f"{e['lag_minutes']:.0f}m"
        line = f"  {state}  {e['dataset']}: lag {lag} (max {e['max_lag_minutes']:.0f}m)"
        if e.get("partitions"):
            line += f", {e['partitions']} partitions"
        lines.append(line)
        if e["missing_partitions"]:
            lines.append(f"         missing: {', '.join(e['missing_partitions'])}")
        late = e["late_partitions"]
        for lp in late[:LATE_SHOWN]:
            lines.append(f"         late: {lp['partition']} by {lp['late_by_minutes']:.0f}m")
        if len(late) > LATE_SHOWN:
            lines.append(
                f"         … and {len(late) - LATE_SHOWN} more late partitions (--output json lists all)"
            )
    s = payload["summary"]
    lines.append(
        f"{s['checked']} checked: {s['stale']} stale, {s['missing_partitions']} missing partitions, "
        f"{s['late_partitions']} late, {s['errors']} errors"
    )
    return "\n".join(lines)


def check(
    project: Project,
    source: str = "lake",
    datasets: list[str] | None = None,
    as_of: datetime | None = None,
    record: bool = True,
) -> StepResult:
    """Check every dataset that declares `freshness:` (or the selected ones). Exit 1 when one is stale or
    misses a partition; 3 when a dataset could not be read (the others are still checked)."""
    import uuid

    from governance.specs.freshness_check import FreshnessCheck, FreshnessEntry, FreshnessSummary

    now = (as_of or datetime.now(UTC).replace(microsecond=0)).astimezone(UTC)
    if source == "log-analytics":
        from governance.monitor.logs_query import freshness_from_logs

        return freshness_from_logs(project, now, datasets)
    names = datasets or [n for n, d in project.config.datasets.items() if d.freshness]
    for n in names:
        if project.dataset(n).freshness is None:
            raise InputError(f"dataset {n} declares no freshness SLA", project.locate(project.dataset(n)))
    from governance.monitor.delta_facts import FactsCache

    facts = FactsCache(project.state_dir)
    entries, found, codes = [], {}, [ExitCode.OK]
    for name in names:
        try:
            entry, found[name] = check_dataset(project, name, now, facts)
        except InputError:
            raise  # bad input (an unset ${VAR}, a bad declaration) is exit 2 for the command, not a dataset fault
        except GovernanceError as exc:
            spec = project.dataset(name)
            entry = {
                "dataset": name,
                "layer": spec.layer,
                "error": str(exc),
                "stale": None,
                "missing_partitions": [],
                "late_partitions": [],
            }
            codes.append(ExitCode.INFRA)
        except Exception as exc:  # an engine fault on one dataset must not stop the others
            log.debug("freshness of %s failed", name, exc_info=True)
            spec = project.dataset(name)
            entry = {
                "dataset": name,
                "layer": spec.layer,
                "error": f"{exc.__class__.__name__}: {exc}",
                "stale": None,
                "missing_partitions": [],
                "late_partitions": [],
            }
            codes.append(ExitCode.INFRA)
        if entry.get("stale") or entry["missing_partitions"]:
            codes.append(ExitCode.CHECK_FAILED)
        entries.append(entry)
    facts.save()
    result = FreshnessCheck(
        checked_at=_iso(now),
        source="lake",
        datasets=[FreshnessEntry(**e) for e in entries],
        summary=FreshnessSummary(
            checked=len(entries),
            stale=sum(1 for e in entries if e.get("stale")),
            missing_partitions=sum(len(e["missing_partitions"]) for e in entries),
            late_partitions=sum(len(e["late_partitions"]) for e in entries),
            errors=sum(1 for e in entries if "error" in e),
        ),
    )
    run_id = f"freshness-{uuid.uuid4().hex[:12]}"
    if record:
        result.metrics_recorded = metrics.record(
            project.state_dir, _metrics(project, entries, found, now, run_id)
        )
    payload = result.dump()
    return StepResult(payload, worst(*codes), _text(payload))
