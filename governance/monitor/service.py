"""`metrics emit`: deliver the metric history to the configured sinks through the spool.

The `local` sink is the history itself (nothing to send). For `azure`, new rows are spooled first, then
every spooled batch is sent in order; an unreachable endpoint stops that sink with exit 3 and leaves the
rest on disk for the next `metrics emit` or nightly run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.errors import ExitCode, InfraError
from governance.monitor import spool
from governance.results import StepResult, worst

if TYPE_CHECKING:
    from governance.project import Project


def emit(project: Project, credential: Any = None) -> StepResult:
    from governance.monitor.sinks import azure

    cfg = project.config.monitor
    reports: list[dict[str, Any]] = []
    codes = [ExitCode.OK]
    if "local" in cfg.sinks:
        reports.append({"sink": "local", "status": "ok", "note": "the local history is the store"})
    if "azure" in cfg.sinks and cfg.azure is not None:
        if credential is None:
            from governance.monitor.azure_auth import credential as default_credential

            credential = default_credential()
        plans: list[tuple[str, Any, Any]] = [
            (azure.METRICS_SINK, azure.metric_posts, lambda: azure.send_metrics(project, credential))
        ]
        if cfg.azure.logs_ingestion is not None:
            plans.append(
                (
                    azure.LOGS_SINK,
                    lambda rows: azure.log_batches(project, rows),
                    lambda: azure.send_logs(project, credential),
                )
            )
        with spool.locked(project.state_dir):
            for sink, build, send in plans:
                rows, batches = spool.enqueue(project.state_dir, sink, build)
                report: dict[str, Any] = {"sink": sink, "new_rows": rows, "new_batches": batches}
                try:
                    report |= send()
                    report["status"] = "ok"
                except InfraError as exc:
                    report["status"] = "spooled"
                    report["error"] = str(exc)
                    codes.append(ExitCode.INFRA)
                report["pending_batches"] = len(spool.pending(project.state_dir, sink))
                reports.append(report)
    payload = {"sinks": reports}
    lines = []
    for r in reports:
        if r["sink"] == "local":
            lines.append("local: recorded in the history")
            continue
        line = (
            f"{r['sink']}: {r['status']}, {r['new_rows']} new rows, {r.get('sent_batches', 0)} batches sent"
        )
        if r.get("dropped_points"):
            line += f", {r['dropped_points']} points too old for custom metrics (dropped)"
        if r["pending_batches"]:
            line += f", {r['pending_batches']} still spooled"
        if "error" in r:
            line += f" — {r['error']}"
        lines.append(line)
    return StepResult(payload, worst(*codes), "\n".join(lines))
