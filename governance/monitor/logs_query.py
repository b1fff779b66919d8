"""`freshness check --source log-analytics`: freshness from the workspace, with the shipped KQL.

Production pipelines report to Log Analytics (ADF / Synapse diagnostic tables); a dataset is as fresh as
the last successful run of the job that writes it (its manifest's job, pipeline or activity name). The
latest SmartflowFreshness_CL row adds the partition facts our own checks sent. A partial result (one table
missing, a query timeout on part of the data) is used for what it holds and reported as a warning.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from governance.durations import parse_duration
from governance.errors import ExitCode, InfraError, InputError
from governance.monitor import azure_auth
from governance.results import StepResult, worst

if TYPE_CHECKING:
    from governance.project import Project

TIMESPAN = timedelta(days=7)


def kql(name: str) -> str:
    return resources.files("governance.monitor").joinpath("kql", f"{name}.kql").read_text(encoding="utf-8")


def _rows(result: Any, warnings: list[str]) -> list[dict[str, Any]]:
    from azure.monitor.query import LogsQueryPartialResult

    if isinstance(result, LogsQueryPartialResult):
        err = result.partial_error
        warnings.append(f"partial result: {getattr(err, 'message', err)}")
        tables = result.partial_data or []
    else:
        tables = result.tables or []
    out = []
    for table in tables[:1]:
        for row in table.rows:
            out.append(dict(zip(table.columns, list(row), strict=False)))
    return out


def _query(
    client: Any, workspace: str, name: str, warnings: list[str], enforce: bool
) -> list[dict[str, Any]]:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError

    try:
        result = client.query_workspace(workspace, kql(name), timespan=TIMESPAN, enforce_https=enforce)
    except HttpResponseError as exc:
        message = exc.error.message if exc.error is not None else str(exc).splitlines()[0]
        raise InfraError(f"Log Analytics query {name} failed: HTTP {exc.status_code}: {message}") from exc
    except ServiceRequestError as exc:
        raise InfraError(f"Log Analytics unreachable ({exc.__class__.__name__})") from exc
    return _rows(result, warnings)


def _as_dt(value: Any) -> datetime | None:
    from datetime import UTC

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def freshness_from_logs(
    project: Project, now: datetime, datasets: list[str] | None = None, credential: Any = None
) -> StepResult:
    from azure.monitor.query import LogsQueryClient

    azure = project.config.monitor.azure
    if azure is None or not azure.log_analytics_workspace_id:
        raise InputError(
            "--source log-analytics needs monitor.azure.log_analytics_workspace_id",
            project.locate(project.config.monitor),
        )
    endpoint = azure.logs_query_endpoint or "https://api.loganalytics.io"
    client = LogsQueryClient(
        credential or azure_auth.credential(),
        endpoint=endpoint,
        audience=azure_auth.LOGS_QUERY_AUDIENCE,
        retry_total=azure.max_retries,
        retry_backoff_factor=0.2,
    )
    enforce = azure_auth.enforce_https(endpoint)
    warnings: list[str] = []
    with client:
        runs = {
            str(r.get("Name", "")).lower(): r
            for r in _query(
                client, azure.log_analytics_workspace_id, "pipeline_last_success", warnings, enforce
            )
        }
        facts = {
            str(r.get("Dataset", "")): r
            for r in _query(client, azure.log_analytics_workspace_id, "freshness_latest", warnings, enforce)
        }
    names = datasets or [n for n, d in project.config.datasets.items() if d.freshness]
    entries, codes = [], [ExitCode.OK]
    for name in names:
        spec = project.dataset(name)
        if spec.freshness is None:
            raise InputError(f"dataset {name} declares no freshness SLA", project.locate(spec))
        max_lag = parse_duration(spec.freshness.max_lag)
        sources = sorted(
            {
                str(x)
                for m in project.manifests
                if name in m.outputs
                for x in (m.job, m.properties.get("pipeline"), m.properties.get("activity"))
                if x
            }
        )
        matched = [runs[s.lower()] for s in sources if s.lower() in runs]
        successes = [t for t in (_as_dt(r.get("LastSuccess")) for r in matched) if t is not None]
        last = max(successes, default=None)
        entry: dict[str, Any] = {
            "dataset": name,
            "layer": spec.layer,
            "column": None,
            "pipelines": sources,
            "max_value": last.isoformat().replace("+00:00", "Z") if last else None,
            "lag_minutes": round(max((now - last).total_seconds(), 0) / 60, 1) if last else None,
            "max_lag_minutes": round(max_lag.total_seconds() / 60, 1),
            "stale": last is None or now - last > max_lag,
            "failed_runs": sum(int(r.get("FailedRuns") or 0) for r in matched),
            "partition_column": spec.freshness.partition_column,
            "missing_partitions": [],
            "late_partitions": [],
        }
        if not sources:
            entry["stale"] = None
            entry["note"] = "no manifest writes this dataset"
        elif not matched:
            entry["note"] = f"no run of {', '.join(sources)} in the last {TIMESPAN.days} days"
        if name in facts:
            entry["missing_partition_count"] = int(facts[name].get("MissingPartitions") or 0)
            entry["late_partition_count"] = int(facts[name].get("LatePartitions") or 0)
        if entry["stale"] or entry.get("missing_partition_count"):
            codes.append(ExitCode.CHECK_FAILED)
        entries.append(entry)
    payload = {
        "checked_at": now.isoformat().replace("+00:00", "Z"),
        "source": "log-analytics",
        "datasets": entries,
        "warnings": warnings,
        "summary": {
            "checked": len(entries),
            "stale": sum(1 for e in entries if e["stale"]),
            "missing_partitions": sum(e.get("missing_partition_count", 0) for e in entries),
            "late_partitions": sum(e.get("late_partition_count", 0) for e in entries),
            "errors": 0,
        },
    }
    lines = [f"freshness at {payload['checked_at']} (log-analytics)"]
    for e in entries:
        lag = "n/a" if e["lag_minutes"] is None else f"{e['lag_minutes']:.0f}m"
        state = "STALE" if e["stale"] else "ok   "
        line = f"  {state}  {e['dataset']}: last success {lag} ago (max {e['max_lag_minutes']:.0f}m)"
        if e.get("missing_partition_count"):
            line += f", {e['missing_partition_count']} missing partitions"
        if e.get("note"):
            line += f" — {e['note']}"
        lines.append(line)
    lines += [f"warning: {w}" for w in warnings]
    return StepResult(payload, worst(*codes), "\n".join(lines))
