"""`lineage push`: the built graph goes to the catalog (embedded backend) through the catalog capability."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_project, run_cli


def test_push_creates_processes_then_is_a_no_op(tmp_path: Path) -> None:
    config = str(copy_project(tmp_path / "p"))
    first = run_cli("--config", config, "--output", "json", "lineage", "push", check=0)
    payload = json.loads(first.stdout)
    processes = [c for c in payload["changes"] if c["kind"] == "process"]
    assert {c["name"] for c in processes if c["action"] == "create"} >= {
        "gold_daily_revenue",
        "ml_customer_features",
    }
    assert payload["requests"]["write"] > 0
    second = json.loads(run_cli("--config", config, "--output", "json", "lineage", "push", check=0).stdout)
    assert second["requests"]["write"] == 0
    assert all(c["action"] == "noop" for c in second["changes"])


def test_push_of_a_broken_graph_exits_1(tmp_path: Path) -> None:
    root = tmp_path / "p"
    config = copy_project(root)
    manifest = root / "manifests" / "gold_daily_revenue.yaml"
    manifest.write_text(
        manifest.read_text().replace("count(*) AS transaction_count", "count(*) AS transaction_cnt")
    )
    proc = run_cli("--config", str(config), "lineage", "push")
    assert proc.returncode == 1
