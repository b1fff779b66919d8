"""Alert rules as code over real HTTP: every PUT is validated against the Microsoft.Insights swagger by the
local server; plan → apply → plan is a no-op; prune removes only managed resources."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from azure_monitor_server import AzureMonitorServer
from helpers import copy_project, run_cli

from governance.errors import InputError
from governance.monitor.alerts.apply import apply
from governance.monitor.alerts.plan import plan
from governance.project import load_project

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-smartflow"
WEBHOOK = "https://smartflow.webhook.office.example/webhookb2/secret-part"


def _project(tmp_path: Path, srv: AzureMonitorServer) -> Path:
    config = copy_project(tmp_path)
    text = config.read_text()
    text = re.sub(r"\nmonitor:\n(  .*\n)*", "\n", text)
    text = re.sub(r"\nalerts:\n(  .*\n)*", "\n", text)
    text += f"""
monitor:
  sinks: [local]
  azure:
    resource_id: /subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/sflake
alerts:
  subscription_id: "{SUB}"
  resource_group: {RG}
  location: westeurope
  arm_endpoint: "{srv.url}"
  workspace_resource_id: /subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/sf-logs
  max_retries: 0
"""
    config.write_text(text)
    return config


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, azure_token: str) -> None:
    monkeypatch.setenv("SMARTFLOW_TEAMS_WEBHOOK", WEBHOOK)


def test_plan_apply_plan_is_noop(tmp_path: Path, monitor_server: AzureMonitorServer, env: None) -> None:
    project = load_project(_project(tmp_path, monitor_server))
    st = monitor_server.state
    first = plan(project)
    n = len(project.action_groups) + len(project.alert_rules)
    assert first.payload["summary"] == {"create": n, "update": 0, "delete": 0, "noop": 0}
    assert st.writes == 0

    done = apply(project)
    assert st.invalid == [], st.invalid[:1]  # every body valid against the published schemas
    assert st.writes == n and done.payload["requests"]["write"] == n
    types = {r["type"] for r in st.resources.values()}
    assert types == {
        "Microsoft.Insights/actionGroups",
        "Microsoft.Insights/metricAlerts",
        "Microsoft.Insights/scheduledQueryRules",
    }
    alert = st.resources[
        f"/subscriptions/{SUB}/resourcegroups/{RG}/providers/microsoft.insights/metricalerts/"
        "silver-transactions-quality".lower()
    ]
    crit = alert["properties"]["criteria"]
    assert crit["odata.type"] == "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
    c = crit["allOf"][0]
    assert c["metricNamespace"] == "smartflow/governance" and c["skipMetricValidation"] is True
    assert c["dimensions"] == [{"name": "dataset", "operator": "Include", "values": ["silver.transactions"]}]
    assert alert["tags"] == {"managed-by": "smartflow-gov"}
    assert alert["properties"]["actions"][0]["actionGroupId"].endswith("/actionGroups/data-platform-oncall")

    again = plan(project, detailed_exitcode=True)
    assert again.payload["summary"]["noop"] == n and again.exit_code == 0
    assert st.writes == n  # a plan never writes
    assert apply(project).payload["requests"]["write"] == 0  # nor does a second apply


def test_plan_json_shape_and_secret_webhook(
    tmp_path: Path, monitor_server: AzureMonitorServer, env: None
) -> None:
    config = _project(tmp_path, monitor_server)
    proc = run_cli("--config", str(config), "--output", "json", "alerts", "plan")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for r in out["resources"]:
        assert set(r) >= {"id", "type", "api_version", "action", "body"}
        assert (
            r["api_version"]
            == {
                "Microsoft.Insights/metricAlerts": "2018-03-01",
                "Microsoft.Insights/scheduledQueryRules": "2023-12-01",
                "Microsoft.Insights/actionGroups": "2023-01-01",
            }[r["type"]]
        )
    assert WEBHOOK not in proc.stdout and "***" in proc.stdout
    log_rule = next(r for r in out["resources"] if r["id"].endswith("/bronze-missing-partition"))
    props = log_rule["body"]["properties"]
    assert (
        log_rule["body"]["kind"] == "LogAlert" and props["criteria"]["allOf"][0]["timeAggregation"] == "Count"
    )
    assert props["windowSize"] == "PT1H" and props["evaluationFrequency"] == "PT15M"
    assert "SmartflowFreshness_CL" in props["criteria"]["allOf"][0]["query"]


def test_drift_update_and_prune_only_managed(
    tmp_path: Path, monitor_server: AzureMonitorServer, env: None
) -> None:
    config = _project(tmp_path, monitor_server)
    project = load_project(config)
    apply(project)
    st = monitor_server.state
    # somebody else's rule in the same resource group: never touched
    foreign = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Insights/metricAlerts/hand-made"
    st.resources[foreign.lower()] = {
        "id": foreign,
        "name": "hand-made",
        "type": "Microsoft.Insights/metricAlerts",
        "location": "global",
        "tags": {"owner": "ops"},
        "properties": {},
    }
    # drift: a threshold edited in the portal (and a tag added by a policy, which is not drift)
    key = next(k for k in st.resources if k.endswith("/silver-transactions-quality"))
    st.resources[key]["properties"]["criteria"]["allOf"][0]["threshold"] = 50
    st.resources[key]["tags"]["cost-center"] = "data-platform"
    # a rule removed from the files
    quality = tmp_path / "alerts/pii.yaml"
    quality.write_text("rules: []\n")
    project = load_project(config)
    p = plan(project, prune=True, detailed_exitcode=True)
    assert p.exit_code == 1
    by_action = {
        (r["action"], r["id"].rsplit("/", 1)[-1]) for r in p.payload["resources"] if r["action"] != "noop"
    }
    assert by_action == {("update", "silver-transactions-quality"), ("delete", "undeclared-pii")}
    upd = next(r for r in p.payload["resources"] if r["action"] == "update")
    assert upd["changed"] == ["properties.criteria.allOf[0].threshold"]
    plan_only = plan(project)  # without --prune nothing is deleted
    assert all(r["action"] != "delete" for r in plan_only.payload["resources"])

    apply(project, prune=True)
    assert foreign.lower() in st.resources
    assert not any(k.endswith("/undeclared-pii") for k in st.resources)
    assert st.resources[key]["properties"]["criteria"]["allOf"][0]["threshold"] == 99
    assert st.resources[key]["tags"] == {"cost-center": "data-platform", "managed-by": "smartflow-gov"}
    assert plan(project, prune=True, detailed_exitcode=True).exit_code == 0


def test_invalid_rules_are_file_line_errors_before_any_request(
    tmp_path: Path, monitor_server: AzureMonitorServer, env: None
) -> None:
    config = _project(tmp_path, monitor_server)
    (tmp_path / "alerts/zz_bad.yaml").write_text(
        """rules:
  - name: too-slow
    kind: metric
    metric: rows_validated
    dimensions: {expectation: x}
    operator: LessThan
    threshold: 1
    window: PT2H
    frequency: PT15M
    action_groups: [nobody]
  - name: log-average
    kind: log
    query: "T | count"
    operator: NotEquals
    threshold: 0
    aggregation: Average
"""
    )
    with pytest.raises(InputError) as err:
        plan(load_project(config))
    text = "\n".join(str(p) for p in err.value.problems)
    assert "alerts/zz_bad.yaml:5: rule too-slow: custom metrics carry the dimensions" in text
    assert "alerts/zz_bad.yaml:8: rule too-slow: a metric alert window is one of" in text
    assert "alerts/zz_bad.yaml:10: rule too-slow: unknown action group 'nobody'" in text
    assert "alerts/zz_bad.yaml:16: rule log-average: a log rule compares the row count" in text
    assert "alerts/zz_bad.yaml:14: rule log-average: log alerts do not support NotEquals" in text
    assert monitor_server.state.requests == []
    proc = run_cli("--config", str(config), "alerts", "plan")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_unreachable_arm_exits_3(tmp_path: Path, monitor_server: AzureMonitorServer, env: None) -> None:
    config = _project(tmp_path, monitor_server)
    monitor_server.stop()
    proc = run_cli("--config", str(config), "alerts", "apply")
    assert proc.returncode == 3 and "unreachable" in proc.stderr


def test_server_rejects_bodies_outside_the_contract(monitor_server: AzureMonitorServer) -> None:
    """The contract check is real: a body the swagger refuses gets ARM's 400 and is recorded."""
    import requests

    url = (
        f"{monitor_server.url}/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Insights/"
        "metricAlerts/broken?api-version=2018-03-01"
    )
    body = {
        "location": "global",
        "properties": {
            "severity": "high",
            "enabled": True,
            "scopes": [],
            "evaluationFrequency": "PT1M",
            "windowSize": "PT5M",
            "criteria": {"odata.type": "Nope"},
        },
    }
    resp = requests.put(url, json=body, headers={"Authorization": "Bearer t"}, timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidRequestContent"
    assert monitor_server.state.invalid and monitor_server.state.resources == {}
    wrong_version = url.replace("2018-03-01", "2024-01-01")
    assert (
        requests.put(wrong_version, json=body, headers={"Authorization": "Bearer t"}, timeout=10).status_code
        == 400
    )


def test_several_scopes_use_multiple_resource_criteria(
    tmp_path: Path, monitor_server: AzureMonitorServer, env: None
) -> None:
    config = _project(tmp_path, monitor_server)
    lakes = [
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/{n}"
        for n in ("sflakeweu", "sflakeweu2")
    ]
    config.write_text(
        config.read_text().replace(
            "  max_retries: 0\n",
            "  max_retries: 0\n  metric_scopes:\n" + "".join(f"    - {x}\n" for x in lakes),
        )
    )
    project = load_project(config)
    apply(project)
    st = monitor_server.state
    assert st.invalid == []
    alert = next(r for r in st.resources.values() if r["name"] == "silver-transactions-quality")
    props = alert["properties"]
    assert props["criteria"]["odata.type"] == "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria"
    assert props["scopes"] == lakes and props["targetResourceType"] == "Microsoft.Storage/storageAccounts"
    assert props["targetResourceRegion"] == "westeurope"
    assert plan(project, detailed_exitcode=True).exit_code == 0
