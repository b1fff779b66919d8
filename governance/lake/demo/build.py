"""`demo init`: bronze from the generator, then silver and gold by running the manifests' SQL."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.errors import InputError
from governance.lake import resolve
from governance.lake.demo import vocab
from governance.lake.demo.calendar import Calendar, iso_z
from governance.lake.demo.generate import DayBatch, Generator
from governance.lake.demo.progress import Progress
from governance.lake.demo.schema import arrow_schema
from governance.lake.demo.writer import TableWriter

if TYPE_CHECKING:
    from governance.project import Project

DEMO_DIR = "_demo"
DEFECTS_FILE = "defects.json"
BRONZE: dict[str, Callable[[Generator], Iterator[DayBatch]]] = {
    "bronze.crm_customers": Generator.crm_customers,
    "bronze.sqlserver_transactions": Generator.transactions,
    "bronze.iot_telemetry": Generator.telemetry,
    "bronze.mobile_events": Generator.mobile_events,
    "bronze.support_tickets": Generator.support_tickets,
}
MISSING_DAY_DATASET = "bronze.sqlserver_transactions"
LATE_DAY_DATASET = "bronze.sqlserver_transactions"


def lake_datasets(project: Project) -> list[str]:
    return [n for n, d in project.config.datasets.items() if d.format in ("delta", "parquet")]


def existing(project: Project) -> list[str]:
    """Datasets of the project that already have a table in the lake."""
    return [n for n in lake_datasets(project) if resolve.exists(resolve.locate(project, n))]


def defects_path(project: Project) -> Path:
    """lake/_demo/defects.json for a local lake; the state dir for a remote one."""
    if "://" in project.lake_root:
        return project.state_dir / "demo" / DEFECTS_FILE
    return Path(project.lake_root) / DEMO_DIR / DEFECTS_FILE


def _clear_local(project: Project) -> None:
    for name in lake_datasets(project):
        loc = resolve.locate(project, name)
        if loc.uri and not loc.is_remote and Path(loc.uri).exists():
            shutil.rmtree(loc.uri)
    shutil.rmtree(defects_path(project).parent, ignore_errors=True)


def init(
    project: Project,
    scale: float = 1.0,
    seed: int = 42,
    as_of: datetime | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    from governance.lake.demo.calendar import default_as_of
    from governance.lake.demo.derive import Deriver, sql_manifests

    if scale <= 0:
        raise InputError(f"--scale must be positive, got {scale}")
    present = existing(project)
    if present and not force:
        raise InputError(
            f"a lake already exists at {project.lake_root} ({len(present)} tables, e.g. {present[0]}); "
            "use --force to rebuild it"
        )
    remote = "://" in project.lake_root
    if force and not remote:
        _clear_local(project)
    progress = progress or Progress(quiet=True)
    started = time.monotonic()
    cal = Calendar(as_of or default_as_of())
    gen = Generator(cal, scale, seed)
    results: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    missing: dict[str, Any] = {}
    late: dict[str, Any] = {}

    for name, produce in BRONZE.items():
        if name not in project.config.datasets:
            continue
        spec = project.dataset(name)
        writer = TableWriter(
            resolve.locate(project, name), arrow_schema(name, spec), replace=force and remote
        )
        progress.start(name, cal.days)
        for batch in produce(gen):
            if name == MISSING_DAY_DATASET and batch.day == cal.missing_day():
                missing = {
                    "dataset": name,
                    "partition": batch.day,
                    "rows_not_delivered": batch.table.num_rows,
                }
                progress.advance(name, writer.rows)
                continue
            writer.write(batch.table, batch.arrived_at)
            if name == LATE_DAY_DATASET and batch.day == cal.late_day():
                late = _late(project, name, batch)
            if name in ("bronze.sqlserver_transactions", "bronze.support_tickets"):
                for k, v in batch.counts.items():
                    if k != "rows":
                        counts[k] = counts.get(k, 0) + v
            counts[f"{name}.rows"] = writer.rows
            progress.advance(name, writer.rows)
        results[name] = _result(name, spec.layer, writer)
        progress.done(name, writer.rows, len(writer.partitions))

    deriver = Deriver(project, cal, replace=force and remote)
    try:
        for m in sql_manifests(project, set(results)):
            out = m.outputs[0]
            progress.start(out, None)
            writer, steps = deriver.run(m)
            for rows in steps:
                progress.advance(out, rows)
            results[out] = _result(out, project.dataset(out).layer, writer, job=m.job)
            progress.done(out, writer.rows, len(writer.partitions))
    finally:
        deriver.close()

    defects = _defects(gen, counts, missing, late)
    payload = {
        "lake": project.lake_root,
        "seed": seed,
        "scale": scale,
        "as_of": iso_z(cal.as_of),
        "calendar": {"first_day": cal.first_day, "last_day": cal.last_day, "days": cal.days},
        "datasets": list(results.values()),
        "defects": defects,
        "defects_file": str(defects_path(project)),
        "duration_seconds": round(time.monotonic() - started, 2),
    }
    path = defects_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {k: payload[k] for k in ("seed", "scale", "as_of", "calendar", "defects")}
    path.write_text(json.dumps(record, indent=2, default=_jsonable) + "\n")
    return payload


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _result(name: str, layer: str, writer: TableWriter, job: str | None = None) -> dict[str, Any]:
    return {
        "dataset": name,
        "layer": layer,
        "job": job,
        "path": writer.loc.uri,
        "rows": writer.rows,
        "partitions": len(writer.partitions),
        "partitioning": writer.loc.spec.partitioning,
        "commits": writer.commits,
    }


def _late(project: Project, name: str, batch: DayBatch) -> dict[str, Any]:
    from governance.durations import parse_duration

    spec = project.dataset(name)
    tolerance = (
        parse_duration(spec.freshness.late_tolerance)
        if spec.freshness and spec.freshness.late_tolerance
        else None
    )
    due = datetime.combine(batch.day, datetime.min.time()) + tolerance if tolerance else None
    return {
        "dataset": name,
        "partition": batch.day,
        "arrived_at": batch.arrived_at,
        "due_by": due,
        "late_by_minutes": round((batch.arrived_at - due).total_seconds() / 60, 1) if due else None,
    }


def _defects(
    gen: Generator, counts: dict[str, int], missing: dict[str, Any], late: dict[str, Any]
) -> dict[str, Any]:
    txn_rows = counts.get("bronze.sqlserver_transactions.rows", 0)
    tickets = counts.get("bronze.support_tickets.rows", 0)
    customers = gen.customers
    out: dict[str, Any] = {}
    for key in (
        "duplicate_transactions",
        "null_customer_ids",
        "orphan_customer_ids",
        "negative_amounts",
        "extreme_amounts",
        "unknown_payment_methods",
    ):
        out[key] = {
            "dataset": "bronze.sqlserver_transactions",
            "count": counts.get(key, 0),
            "rows": txn_rows,
            "rate": vocab.RATES[key],
        }
    out["malformed_emails"] = {
        "dataset": "bronze.crm_customers",
        "count": int(customers.malformed.sum()),
        "rows": customers.n,
        "rate": vocab.RATES["malformed_emails"],
        "unit": "customers",
    }
    for key in ("ticket_email_in_body", "ticket_phone_in_body", "ticket_email_in_subject"):
        out[key] = {
            "dataset": "bronze.support_tickets",
            "count": counts.get(key, 0),
            "rows": tickets,
            "rate": vocab.RATES[key],
        }
    out["tickets_with_pii"] = {
        "dataset": "bronze.support_tickets",
        "count": counts.get("tickets_with_pii", 0),
        "rows": tickets,
    }
    out["missing_partition"] = missing
    out["late_partition"] = late
    out["telemetry_spikes"] = {
        "dataset": "bronze.iot_telemetry",
        "count": len(gen.spikes),
        "windows": gen.spikes,
    }
    return out
