"""Azure Monitor sinks: headline metrics as custom metrics (REST), quality and freshness rows to Log
Analytics through the Logs Ingestion API (azure-monitor-ingestion, DCE + DCR + stream).

Custom metrics: one POST per metric name and minute to `{region endpoint}{resource_id}/metrics`, token
audience https://monitoring.azure.com/, at most 10 dimensions, each series pre-aggregated (min/max/sum/
count). Azure accepts times from 20 minutes in the past to 5 minutes in the future: a spooled point that
has aged beyond that is dropped with a warning (it stays in the local history and in Log Analytics).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from governance import metrics
from governance.errors import InfraError
from governance.monitor import azure_auth, spool

if TYPE_CHECKING:
    from governance.config import AzureMonitor
    from governance.project import Project

log = logging.getLogger(__name__)

METRICS_SINK = "azure-metrics"
LOGS_SINK = "azure-logs"
MAX_DIMENSIONS = 10
MAX_AGE = timedelta(minutes=20)
MAX_AHEAD = timedelta(minutes=5)
PER_ROW_DIMENSIONS = ("expectation", "partition")  # too fine-grained for custom metrics: Log Analytics only
FRESHNESS_METRICS = {"freshness_lag_minutes", "missing_partitions", "late_partitions"}


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


# --- custom metrics -------------------------------------------------------------------------------------
def metric_posts(rows: list[metrics.Metric]) -> list[dict[str, Any]]:
    """Custom-metric request bodies: one per (metric, minute, dimension names), one series per values."""
    groups: dict[tuple[str, datetime, tuple[str, ...]], dict[tuple[str, ...], list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for m in rows:
        if any(k in m.dimensions for k in PER_ROW_DIMENSIONS):
            continue
        dims = sorted(m.dimensions.items())
        if len(dims) > MAX_DIMENSIONS:
            log.warning(
                "metric %s has %d dimensions; keeping the first %d", m.name, len(dims), MAX_DIMENSIONS
            )
            dims = dims[:MAX_DIMENSIONS]
        minute = m.ts.astimezone(UTC).replace(second=0, microsecond=0)
        names = tuple(k for k, _ in dims)
        groups[(m.name, minute, names)][tuple(v for _, v in dims)].append(float(m.value))
    posts = []
    for (name, minute, names), series in sorted(groups.items()):
        base: dict[str, Any] = {"metric": name, "namespace": metrics.NAMESPACE}
        if names:
            base["dimNames"] = list(names)
        base["series"] = [
            ({"dimValues": list(values)} if names else {})
            | {"min": min(v), "max": max(v), "sum": sum(v), "count": len(v)}
            for values, v in sorted(series.items())
        ]
        posts.append({"time": _iso(minute), "data": {"baseData": base}})
    return posts


class _Http:
    """POSTs to the custom-metrics endpoint over the shared Azure transport (retries with Retry-After on
    429/5xx and dropped connections; a rejected batch or one out of retries raises InfraError)."""

    def __init__(self, cfg: AzureMonitor, credential: Any) -> None:
        from governance.azure.transport import AzureHttp

        self.http = AzureHttp(
            "custom metrics",
            scope=azure_auth.METRICS_SCOPE,
            credential=credential,
            max_retries=cfg.max_retries,
            backoff=0.2,
            timeout=cfg.timeout_seconds,
        )

    def post(self, url: str, body: Any) -> None:
        from azure.core.exceptions import ClientAuthenticationError

        from governance.azure.transport import AzureHttpError

        try:
            # a point re-sent after a lost answer is the same pre-aggregated series: safe to repeat
            self.http.send("POST", url, json_body=body, retry_write=True)
        except AzureHttpError as exc:  # the batch stays spooled
            if isinstance(exc.__cause__, ClientAuthenticationError):
                raise InfraError(
                    f"no Azure token for custom metrics: {exc.__cause__.__class__.__name__}"
                ) from exc
            raise

    def close(self) -> None:
        self.http.close()


def send_metrics(project: Project, credential: Any, now: datetime | None = None) -> dict[str, Any]:
    cfg = _azure(project)
    url = f"{cfg.metrics_url().rstrip('/')}/{cfg.resource_id.strip('/')}/metrics"
    http = _Http(cfg, credential)
    sent = points = dropped = 0
    oldest: str | None = None
    try:
        for batch in spool.pending(project.state_dir, METRICS_SINK):
            current = now or datetime.now(UTC)
            at = datetime.fromisoformat(batch.body["time"][:19]).replace(tzinfo=UTC)
            n = sum(int(s["count"]) for s in batch.body["data"]["baseData"]["series"])
            if at < current - MAX_AGE or at > current + MAX_AHEAD:
                dropped += n
                oldest = min(oldest or batch.body["time"], batch.body["time"])
                spool.done(batch)
                continue
            http.post(url, batch.body)  # InfraError leaves this and later batches spooled
            spool.done(batch)
            sent += 1
            points += n
    finally:
        http.close()
        _warn_dropped(dropped, oldest)
    return {"sent_batches": sent, "sent_points": points, "dropped_points": dropped}


def _warn_dropped(n: int, oldest: str | None) -> None:
    if n:
        log.warning(
            "dropped %d custom-metric point(s) from %s on: outside the accepted window (-20/+5 minutes); "
            "they stay in the local history and in Log Analytics",
            n,
            oldest,
        )


# --- Log Analytics rows ---------------------------------------------------------------------------------
def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def log_rows(rows: list[metrics.Metric], freshness_stream: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(stream kind, row): quality rows (one per run × dataset × suite × expectation, a column per metric)
    and freshness rows (one per run × dataset). Other headline metrics go to custom metrics only."""
    grouped: dict[tuple[str, str, str | None, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for m in rows:
        if m.name in FRESHNESS_METRICS and freshness_stream:
            kind = "freshness"
        elif "suite" in m.dimensions or "expectation" in m.dimensions:
            kind = "quality"
        else:
            continue
        ts = _iso(m.ts)
        dims = tuple(sorted(m.dimensions.items()))
        row = grouped.setdefault((kind, ts, m.run_id, dims), {"TimeGenerated": ts, "RunId": m.run_id or ""})
        for key, value in dims:
            row[_camel(key)] = value
        row[_camel(m.name)] = m.value
    return [(kind, row) for (kind, *_), row in grouped.items()]


def log_batches(project: Project, rows: list[metrics.Metric]) -> list[dict[str, Any]]:
    cfg = _azure(project).logs_ingestion
    assert cfg is not None
    streams = {"quality": cfg.stream, "freshness": cfg.freshness_stream or cfg.stream}
    by_stream: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kind, row in log_rows(rows, cfg.freshness_stream):
        by_stream[streams[kind]].append(row)
    out = []
    for stream, items in sorted(by_stream.items()):
        for i in range(0, len(items), cfg.batch_rows):
            out.append({"stream": stream, "rows": items[i : i + cfg.batch_rows]})
    return out


def send_logs(project: Project, credential: Any) -> dict[str, Any]:
    from azure.core.exceptions import AzureError
    from azure.monitor.ingestion import LogsIngestionClient

    from governance.azure.transport import AzureHttp

    azure = _azure(project)
    cfg = azure.logs_ingestion
    assert cfg is not None
    # the SDK's client on the shared transport's policies (retries with Retry-After, request budget,
    # one bearer-token policy for the ingestion audience); the SDK only chunks and gzips the rows
    http = AzureHttp(
        "logs ingestion",
        scope=azure_auth.INGESTION_SCOPE,
        credential=credential,
        max_retries=azure.max_retries,
        backoff=0.2,
        timeout=azure.timeout_seconds,
    )
    client = LogsIngestionClient(
        endpoint=cfg.endpoint,
        credential=credential,
        policies=http.policies(),
        connection_timeout=azure.timeout_seconds,
        read_timeout=azure.timeout_seconds,
    )
    sent = rows = 0
    with client:
        for batch in spool.pending(project.state_dir, LOGS_SINK):
            failed: list[Any] = []
            errors: list[str] = []

            def on_error(err: Any, failed: list[Any] = failed, errors: list[str] = errors) -> None:
                failed.extend(err.failed_logs)
                errors.append(f"{err.error.__class__.__name__}: {str(err.error).splitlines()[0][:200]}")

            try:
                client.upload(
                    rule_id=cfg.rule_id,
                    stream_name=batch.body["stream"],
                    logs=batch.body["rows"],
                    on_error=on_error,
                    enforce_https=azure_auth.enforce_https(cfg.endpoint),
                )
            except AzureError as exc:  # raised outside a chunk (auth, transport setup)
                raise InfraError(f"logs ingestion failed: {exc.__class__.__name__}") from exc
            if failed:
                spool.replace(batch, {"stream": batch.body["stream"], "rows": failed})
                rows += len(batch.body["rows"]) - len(failed)
                raise InfraError(f"logs ingestion endpoint {cfg.endpoint} failed: {errors[0]}")
            spool.done(batch)
            sent += 1
            rows += len(batch.body["rows"])
    return {"sent_batches": sent, "sent_rows": rows}


def _azure(project: Project) -> AzureMonitor:
    cfg = project.config.monitor.azure
    assert cfg is not None, "monitor.azure is required for the azure sink"
    return cfg
