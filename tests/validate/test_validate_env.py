"""`${VAR}` in smartflow.yaml: expanded once at load in every string of every section; a missing variable
is FILE:LINE and exit 2; credentials are read only when the command opens that connection; and no value
a user can write there makes a command show a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import copy_project, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "servers"))

from azure_monitor_server import AzureMonitorServer  # noqa: E402

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-smartflow"


def _with_alerts(tmp_path: Path, arm: str) -> Path:
    config = copy_project(tmp_path)
    text = re.sub(r"\nalerts:\n(  .*\n)*", "\n", config.read_text())
    text += f"""
monitor:
  sinks: ["${{SFG_SINK}}"]
  azure:
    resource_id: /subscriptions/${{SFG_SUB}}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/sf
alerts:
  subscription_id: "${{SFG_SUB}}"
  resource_group: {RG}
  arm_endpoint: {arm}
  workspace_resource_id: /subscriptions/${{SFG_SUB}}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/w
  max_retries: ${{SFG_RETRIES}}
"""
    config.write_text(re.sub(r"\nmonitor:\n(  .*\n)*", "\n", text, count=1))
    return config


ENV = {
    "SFG_SINK": "local",
    "SFG_SUB": SUB,
    "SFG_RETRIES": "0",
    "SMARTFLOW_AZURE_TOKEN": "test-token-not-a-secret",
    "SMARTFLOW_TEAMS_WEBHOOK": "https://example.webhook.office.com/hook/abc",
}


def test_arm_endpoint_from_the_environment_plans_against_that_server(tmp_path: Path) -> None:
    config = _with_alerts(tmp_path, "${SFG_ARM}")
    with AzureMonitorServer() as srv:
        proc = run_cli(
            "--config", str(config), "--output", "json", "alerts", "plan", env={**ENV, "SFG_ARM": srv.url}
        )
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        assert plan["summary"]["create"] > 0
        assert srv.state.invalid == []
        # every request went to the expanded endpoint, under the expanded subscription
        assert srv.state.requests and all(SUB in path for _, path in srv.state.requests), srv.state.requests[
            :3
        ]


def test_a_missing_variable_is_file_line_and_exit_2_in_any_section(tmp_path: Path) -> None:
    config = _with_alerts(tmp_path, "${SFG_ARM}")
    line = next(
        i for i, t in enumerate(config.read_text().splitlines(), 1) if t.strip().startswith("arm_endpoint")
    )
    env = {k: v for k, v in ENV.items() if k != "SFG_SINK"}
    for args in (("alerts", "plan"), ("validate", "--no-data"), ("quality", "run")):
        proc = run_cli("--config", str(config), *args, env=env)
        assert proc.returncode == 2, (args, proc.stderr)
        assert f"smartflow.yaml:{line}: environment variable SFG_ARM is not set" in proc.stderr
        assert "environment variable SFG_SINK is not set" in proc.stderr  # inside a list
        assert "Traceback" not in proc.stderr


def test_an_expanded_value_is_type_checked_and_the_message_shows_the_text_as_written(tmp_path: Path) -> None:
    config = _with_alerts(tmp_path, "${SFG_ARM}")
    secret = "sig=s3cr3t-value"
    for env, expect in (
        ({"SFG_ARM": f"http://arm.example.com/?{secret}"}, "loopback"),
        ({"SFG_ARM": "not a url", "SFG_RETRIES": "lots"}, "expected an integer"),
    ):
        proc = run_cli("--config", str(config), "alerts", "plan", env={**ENV, **env})
        assert proc.returncode == 2, proc.stderr
        assert expect in proc.stderr and "${SFG_" in proc.stderr, proc.stderr
        assert secret not in proc.stderr and "Traceback" not in proc.stderr


def test_a_connection_variable_is_read_only_when_that_connection_is_opened(
    tmp_path: Path, pg_url: str
) -> None:
    """The demo declares `warehouse: ${SMARTFLOW_WAREHOUSE_URL}` and uses no sql dataset: commands run
    without it; a sql dataset on that connection reports the variable at its line when opened."""
    config = copy_project(tmp_path)
    env = {"SMARTFLOW_WAREHOUSE_URL": ""}
    run_cli("--config", str(config), "validate", "--no-data", env=env, check=0)
    text = config.read_text().replace(
        "\nconnections:",
        "\n  gold.wh:\n    format: sql\n    layer: gold\n"
        "    connection: warehouse\n    table: public.t\n\nconnections:",
    )
    config.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "SMARTFLOW_WAREHOUSE_URL" in t)
    (tmp_path / "expectations" / "gold" / "wh.yaml").write_text(
        "suite: wh\ndataset: gold.wh\nexpectations:\n"
        "  - {type: expect_table_row_count_to_be_between, kwargs: {min_value: 1}}\n"
    )
    clean = {k: v for k, v in os.environ.items() if k != "SMARTFLOW_WAREHOUSE_URL"}
    exe = Path(sys.executable).with_name("smartflow-gov")
    proc = subprocess.run(
        [str(exe), "--config", str(config), "quality", "run", "--suite", "wh"],
        capture_output=True,
        text=True,
        env=clean,
        timeout=600,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"smartflow.yaml:{line}: environment variable SMARTFLOW_WAREHOUSE_URL is not set" in proc.stderr


_CONFIG_KEYS = [
    ("alerts", "arm_endpoint"),
    ("alerts", "subscription_id"),
    ("alerts", "max_retries"),
    ("alerts", "metric_scopes"),
    ("monitor", "sinks"),
    ("monitor", "azure"),
    ("catalog", "backend"),
    ("catalog", "purview"),
    ("notify", "smtp"),
    ("lake", "storage_options"),
    ("connections", "wh"),
    ("quality", "sample_size"),
    ("state_dir", None),
]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.sampled_from(
        [
            "${SFG_FUZZ}",
            "http://10.0.0.1/",
            "https://",
            "ftp://x",
            "::",
            "http://[::1",
            "https://a/?${SFG_FUZZ}",
            "${SFG_UNSET_FUZZ}",
            "lots",
            "",
            "azure",
            "purview",
            "{}",
            "-1",
        ]
    ),
    st.lists(st.sampled_from(["local", "azure", "${SFG_FUZZ}", "x"]), max_size=2),
    st.dictionaries(
        st.sampled_from(["url", "endpoint", "resource_id", "host", "x"]),
        st.sampled_from(["${SFG_FUZZ}", "https://h", 3, None]),
        max_size=2,
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(_CONFIG_KEYS), value=_VALUES, fuzz=st.sampled_from(["http://127.0.0.1:1/", "x", ""])
)
def test_no_config_value_makes_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: tuple[str, str | None], value: object, fuzz: str
) -> None:
    from ruamel.yaml import YAML

    from governance.cli import main

    root = tmp_path / "fuzz"
    root.mkdir(exist_ok=True)
    (root / "alerts").mkdir(exist_ok=True)
    (root / "alerts" / "a.yaml").write_text(
        "action_groups:\n  - {name: g, short_name: g}\nrules:\n"
        "  - {name: r, kind: metric, metric: quality_failed_expectations, operator: GreaterThan,"
        " threshold: 0, aggregation: Total, window: PT1H, frequency: PT5M, severity: 2, action_groups: [g]}\n"
    )
    doc: dict[str, object] = {
        "version": 1,
        "alerts": {
            "subscription_id": SUB,
            "resource_group": RG,
            "arm_endpoint": "http://127.0.0.1:1/",
            "max_retries": 0,
        },
    }
    section, name = key
    if name is None:
        doc[section] = value
    else:
        sub = doc.setdefault(section, {})
        assert isinstance(sub, dict)
        sub[name] = value
    with (root / "smartflow.yaml").open("w") as fh:
        YAML().dump(doc, fh)
    monkeypatch.setenv("SFG_FUZZ", fuzz)
    monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", "t")
    monkeypatch.delenv("SFG_UNSET_FUZZ", raising=False)
    for args in (["validate", "--no-data"], ["alerts", "plan"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["--config", str(root / "smartflow.yaml"), *args])
        assert exit_info.value.code in (0, 1, 2, 3), (args, exit_info.value.code)
