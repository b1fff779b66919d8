"""Azure sinks over real HTTP: custom-metric body shape, Log Analytics rows, spool and resend under faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure_monitor_server import AzureMonitorServer
from helpers import run_cli

from governance import metrics
from governance.monitor import service, spool
from governance.monitor.azure_auth import StaticTokenCredential
from governance.project import load_project

RESOURCE = (
    "/subscriptions/0000/resourceGroups/rg-smartflow/providers/Microsoft.Storage/storageAccounts/sflake"
)


def _project(tmp_path: Path, srv: AzureMonitorServer, batch_rows: int = 500) -> Path:
    (tmp_path / "smartflow.yaml").write_text(
        f"""version: 1
datasets:
  silver.orders: {{format: delta, path: silver/orders, layer: silver}}
monitor:
  sinks: [local, azure]
  azure:
    resource_id: "{RESOURCE}"
    metrics_endpoint: "{srv.url}"
    max_retries: 1
    timeout_seconds: 5
    logs_ingestion: {{endpoint: "{srv.url}", rule_id: dcr-0123456789abcdef, batch_rows: {batch_rows}}}
"""
    )
    return tmp_path / "smartflow.yaml"


def _record(state: Path, n_datasets: int, ts: datetime | None = None, first: int = 0) -> None:
    ts = ts or datetime.now(UTC)
    rows = []
    for i in range(first, first + n_datasets):
        dims = {"dataset": f"silver.d{i:02d}", "layer": "silver"}
        rows += [
            metrics.Metric("freshness_lag_minutes", 10.0 + i, dims, ts, "run-1"),
            metrics.Metric("missing_partitions", i % 2, dims, ts, "run-1"),
            metrics.Metric("quality_success_percent", 90.0 + i, dims | {"suite": f"s{i}"}, ts, "run-1"),
            metrics.Metric(
                "quality_unexpected_count",
                i,
                dims | {"suite": f"s{i}", "expectation": "not_null(id)"},
                ts,
                "run-1",
            ),
        ]
    metrics.record(state, rows)


def _series_keys(posts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (p["data"]["baseData"]["metric"], p["time"], tuple(s.get("dimValues", ())))
        for p in posts
        for s in p["data"]["baseData"]["series"]
    )


def test_custom_metrics_and_rows_shape(
    tmp_path: Path, monitor_server: AzureMonitorServer, azure_token: str
) -> None:
    project = load_project(_project(tmp_path, monitor_server))
    _record(project.state_dir, 3)
    result = service.emit(project)
    assert result.exit_code == 0, result.text
    st = monitor_server.state
    assert st.metric_problems == []
    posts = st.custom_metrics
    # one POST per metric and minute; per-expectation points stay out of custom metrics
    assert sorted(p["data"]["baseData"]["metric"] for p in posts) == [
        "freshness_lag_minutes",
        "missing_partitions",
        "quality_success_percent",
    ]
    q = next(p for p in posts if p["data"]["baseData"]["metric"] == "quality_success_percent")
    assert q["data"]["baseData"]["namespace"] == "smartflow/governance"
    assert q["data"]["baseData"]["dimNames"] == ["dataset", "layer", "suite"]
    assert q["data"]["baseData"]["series"][0] == {
        "dimValues": ["silver.d00", "silver", "s0"],
        "min": 90.0,
        "max": 90.0,
        "sum": 90.0,
        "count": 1,
    }
    assert all(a == f"Bearer {azure_token}" for a in st.authorization)
    # Log Analytics: one quality row per expectation/suite point, one freshness row per dataset
    quality = st.logs["Custom-SmartflowQuality_CL"]
    freshness = st.logs["Custom-SmartflowFreshness_CL"]
    assert len(freshness) == 3 and {r["Dataset"] for r in freshness} == {
        "silver.d00",
        "silver.d01",
        "silver.d02",
    }
    row = next(r for r in freshness if r["Dataset"] == "silver.d01")
    assert row["MissingPartitions"] == 1 and row["FreshnessLagMinutes"] == 11.0 and row["RunId"] == "run-1"
    assert len(quality) == 6
    assert any(r.get("Expectation") == "not_null(id)" and r["QualityUnexpectedCount"] == 2 for r in quality)
    assert st.log_rules == ["dcr-0123456789abcdef"] * len(st.log_rules)
    # a second emit sends nothing again
    again = service.emit(project)
    assert (
        again.exit_code == 0
        and len(st.custom_metrics) == 3
        and len(st.logs["Custom-SmartflowQuality_CL"]) == 6
    )


def test_endpoint_killed_mid_batch_nothing_lost_nothing_twice(
    tmp_path: Path, monitor_server: AzureMonitorServer, azure_token: str
) -> None:
    project = load_project(_project(tmp_path, monitor_server, batch_rows=4))
    _record(project.state_dir, 6)  # 6 freshness rows + 12 quality rows -> 2 + 3 log batches
    st = monitor_server.state
    st.die_after = {"metrics": 1}
    first = service.emit(project)
    assert first.exit_code == 3
    sinks = {r["sink"]: r for r in first.payload["sinks"]}
    assert sinks["azure-metrics"]["status"] == "spooled" and sinks["azure-metrics"]["pending_batches"] == 2
    assert len(st.custom_metrics) == 1
    # the server is down: the logs sink could not deliver either, everything is on disk
    assert sinks["azure-logs"]["status"] == "spooled"
    assert spool.pending(project.state_dir, "azure-logs")

    monitor_server.restart()
    st.die_after = {"logs": 2}
    _record(project.state_dir, 1, first=6)  # more arrives meanwhile
    second = service.emit(project)
    assert second.exit_code == 3  # the logs endpoint died after two batches
    monitor_server.restart()
    third = service.emit(project)
    assert third.exit_code == 0, third.text
    assert spool.pending(project.state_dir, "azure-metrics") == []
    assert spool.pending(project.state_dir, "azure-logs") == []

    sent = _series_keys(st.custom_metrics)
    assert len(sent) == len(set(sent)) == 6 * 3 + 3  # every headline series once
    rows = [json.dumps(r, sort_keys=True) for rs in st.logs.values() for r in rs]
    assert len(rows) == len(set(rows)) == 6 * 3 + 3  # 6+1 freshness rows, 12+2 quality rows
    assert st.metric_problems == []


def test_points_too_old_for_custom_metrics_are_dropped_with_warning(
    tmp_path: Path, monitor_server: AzureMonitorServer, azure_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    project = load_project(_project(tmp_path, monitor_server))
    _record(project.state_dir, 1, datetime.now(UTC) - timedelta(hours=2))
    result = service.emit(project)
    assert result.exit_code == 0
    sink = next(r for r in result.payload["sinks"] if r["sink"] == "azure-metrics")
    assert sink["dropped_points"] == 3 and monitor_server.state.custom_metrics == []
    assert "dropped 3 custom-metric point(s)" in caplog.text and "outside the accepted window" in caplog.text
    assert len(monitor_server.state.logs["Custom-SmartflowFreshness_CL"]) == 1  # Log Analytics takes them


class _RecordingCredential(StaticTokenCredential):
    def __init__(self) -> None:
        super().__init__("recorded")
        self.scopes: set[str] = set()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.scopes.update(scopes)
        return super().get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        self.scopes.update(scopes)
        return super().get_token_info(*scopes, options=options)


def test_token_audiences(tmp_path: Path, monitor_server: AzureMonitorServer) -> None:
    project = load_project(_project(tmp_path, monitor_server))
    _record(project.state_dir, 1)
    cred = _RecordingCredential()
    assert service.emit(project, credential=cred).exit_code == 0
    assert cred.scopes == {"https://monitoring.azure.com/.default", "https://monitor.azure.com/.default"}


def test_cli_emit_and_show(tmp_path: Path, monitor_server: AzureMonitorServer, azure_token: str) -> None:
    config = _project(tmp_path, monitor_server)
    project = load_project(config)
    base = datetime.now(UTC) - timedelta(days=5)
    metrics.record(
        project.state_dir,
        [
            metrics.Metric("rows_validated", v, {"dataset": "silver.orders"}, base + timedelta(days=i))
            for i, v in enumerate([10, 20, 30, 40, 80])
        ],
    )
    emitted = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "metrics",
        "emit",
        env={"SMARTFLOW_AZURE_TOKEN": azure_token},
    )
    assert emitted.returncode == 0, emitted.stderr
    assert azure_token not in emitted.stdout + emitted.stderr
    shown = run_cli(
        "--config", str(config), "metrics", "show", "rows_validated", "--dataset", "silver.orders"
    )
    assert shown.returncode == 0 and "▁▂▃▄█" in shown.stdout and "latest 80" in shown.stdout
    js = json.loads(
        run_cli("--config", str(config), "--output", "json", "metrics", "show", "--last", "2").stdout
    )
    assert [p["value"] for p in js["series"][0]["points"]] == [40.0, 80.0]


def test_endpoints_region_default_and_loopback_only(tmp_path: Path) -> None:
    (tmp_path / "smartflow.yaml").write_text(
        f'version: 1\nmonitor:\n  sinks: [azure]\n  azure: {{region: northeurope, resource_id: "{RESOURCE}"}}\n'
    )
    azure = load_project(tmp_path / "smartflow.yaml").config.monitor.azure
    assert azure is not None and azure.metrics_url() == "https://northeurope.monitoring.azure.com"
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\nmonitor:\n  sinks: [azure]\n  azure:\n"
        f'    resource_id: "{RESOURCE}"\n    metrics_endpoint: http://metrics.example.com\n'
    )
    proc = run_cli("--config", str(tmp_path / "smartflow.yaml"), "metrics", "emit")
    assert proc.returncode == 2
    assert "smartflow.yaml:" in proc.stderr and "only accepted on a loopback address" in proc.stderr


def test_crash_between_spool_and_cursor_sends_once(
    tmp_path: Path, monitor_server: AzureMonitorServer, azure_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load_project(_project(tmp_path, monitor_server))
    _record(project.state_dir, 2)

    def crash(*args: object) -> None:
        raise KeyboardInterrupt("killed after the spool was written")

    with monkeypatch.context() as patched:
        patched.setattr(metrics, "advance_cursor", crash)
        with pytest.raises(KeyboardInterrupt):
            service.emit(project)
    assert spool.pending(project.state_dir, "azure-metrics") and monitor_server.state.custom_metrics == []
    _record(project.state_dir, 1, first=2)  # more history arrives before the next run
    assert service.emit(project).exit_code == 0
    sent = _series_keys(monitor_server.state.custom_metrics)
    assert len(sent) == len(set(sent)) == 3 * 3
