"""freshness --source log-analytics: the shipped KQL through LogsQueryClient against a local workspace."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure_monitor_server import AzureMonitorServer
from helpers import copy_project, run_cli

from governance.monitor import freshness
from governance.monitor.logs_query import kql
from governance.project import load_project

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _project(tmp_path: Path, srv: AzureMonitorServer) -> Path:
    config = copy_project(tmp_path)
    text = config.read_text().replace(
        "monitor:\n  sinks: [local]\n",
        "monitor:\n  sinks: [local]\n  azure:\n"
        "    resource_id: /subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sf\n"
        "    log_analytics_workspace_id: 11111111-2222-3333-4444-555555555555\n"
        f"    logs_query_endpoint: {srv.url}\n    max_retries: 0\n",
    )
    assert "log_analytics_workspace_id" in text
    config.write_text(text)
    return config


def _table(columns: list[tuple[str, str]], rows: list[list[object]]) -> dict[str, object]:
    return {"name": "PrimaryResult", "columns": [{"name": n, "type": t} for n, t in columns], "rows": rows}


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def test_pipeline_runs_and_partition_facts(
    tmp_path: Path, monitor_server: AzureMonitorServer, azure_token: str
) -> None:
    project = load_project(_project(tmp_path, monitor_server))
    st = monitor_server.state
    runs = [
        ["CopySalesTransactions", _iso(NOW - timedelta(hours=2)), _iso(NOW - timedelta(hours=1)), 1],
        ["silver_transactions", _iso(NOW - timedelta(hours=30)), _iso(NOW - timedelta(hours=1)), 3],
    ]
    st.query_tables = {
        "ADFPipelineRun": [
            _table(
                [
                    ("Name", "string"),
                    ("LastSuccess", "datetime"),
                    ("LastRun", "datetime"),
                    ("FailedRuns", "long"),
                ],
                runs,
            )
        ],
        "SmartflowFreshness_CL": [
            _table(
                [
                    ("Dataset", "string"),
                    ("Layer", "string"),
                    ("TimeGenerated", "datetime"),
                    ("FreshnessLagMinutes", "real"),
                    ("MissingPartitions", "long"),
                    ("LatePartitions", "long"),
                ],
                [["bronze.sqlserver_transactions", "bronze", _iso(NOW), 64.0, 1, 1]],
            )
        ],
    }
    result = freshness.check(project, source="log-analytics", as_of=NOW)
    found = {e["dataset"]: e for e in result.payload["datasets"]}
    bronze = found["bronze.sqlserver_transactions"]
    assert bronze["lag_minutes"] == 120.0 and bronze["stale"] is False
    assert bronze["missing_partition_count"] == 1 and bronze["failed_runs"] == 1
    silver = found["silver.transactions"]
    assert silver["lag_minutes"] == 1800.0 and silver["stale"] is True  # max_lag P1DT2H
    assert (
        found["silver.device_telemetry"]["stale"] is True
        and "no run of" in found["silver.device_telemetry"]["note"]
    )
    assert result.exit_code == 1
    # the shipped KQL went to the configured workspace
    assert [q["workspace"] for q in st.queries] == ["11111111-2222-3333-4444-555555555555"] * 2
    assert st.queries[0]["query"] == kql("pipeline_last_success")
    assert "timespan" in st.queries[0]


def test_partial_result_is_used_and_reported(
    tmp_path: Path, monitor_server: AzureMonitorServer, azure_token: str
) -> None:
    config = _project(tmp_path, monitor_server)
    st = monitor_server.state
    st.query_tables = {
        "ADFPipelineRun": [
            _table(
                [("Name", "string"), ("LastSuccess", "datetime")],
                [["CopySalesTransactions", _iso(datetime.now(UTC))]],
            )
        ]
    }
    st.query_partial = "SynapseIntegrationActivityRuns: query exceeded the time limit"
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "freshness",
        "check",
        "--source",
        "log-analytics",
        "--dataset",
        "bronze.sqlserver_transactions",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["datasets"][0]["stale"] is False
    assert any("partial result" in w for w in out["warnings"])


def test_needs_workspace(tmp_path: Path) -> None:
    config = copy_project(tmp_path)
    proc = run_cli("--config", str(config), "freshness", "check", "--source", "log-analytics")
    assert proc.returncode == 2 and "log_analytics_workspace_id" in proc.stderr
