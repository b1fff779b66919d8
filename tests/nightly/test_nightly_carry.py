"""A nightly costs what changed: on an unchanged lake the second nightly carries every verdict (same
payloads, no quality query, no PII scan); after one new day, incremental suites scan only that day."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, copy_project, run_cli

from governance.runs import latest_run

sys.path.insert(0, str(REPO / "bench"))
from nightly import add_one_day  # noqa: E402 - the bench's "one new day" is the load this test replays

# what legitimately differs between two runs over the same data: ids, clocks, durations, and how a
# verdict was obtained (queries run, the run it was carried from)
VOLATILE = {
    "run_id",
    "started_at",
    "finished_at",
    "checked_at",
    "evaluated_at",
    "seconds",
    "duration_seconds",
    "rows_per_second",
    "queries",
    "rows_scanned",  # what this run read: none for a carried PII scan
    "carried_from",
    "incremental",
    "lag_minutes",  # the clock moved on; `stale` is compared
    "transition",  # alert state changes (fired → still firing) are the alert store's own history
    "points",
    "generated_at",
    "metrics_recorded",  # metric points written: the history already holds the first run's
}
SYNC_STEPS = ("sync-glossary", "sync-classifications", "sync-domains", "lineage-push")


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _nightly(project: Path) -> dict[str, Any]:
    proc = run_cli("--config", str(project / "smartflow.yaml"), "--output", "json", "nightly")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    run = latest_run(project / ".smartflow")
    assert run is not None
    return run


def _desired(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """A sync's desired state: every object it compared, whatever the action."""
    return sorted((c["kind"], c["name"]) for c in payload["changes"])


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo lake of this module's own (it is appended to)."""
    root = tmp_path_factory.mktemp("carry")
    config = copy_project(root)
    run_cli("--config", str(config), "demo", "init", "--scale", "0.05", "--seed", "11", check=0)
    return root


@pytest.mark.slow
def test_an_unchanged_lake_gets_the_same_verdicts_with_no_scan_and_a_new_day_scans_only_that_day(
    lake: Path,
) -> None:
    project = lake
    first = _nightly(project)
    second = _nightly(project)

    assert [s["status"] for s in second["steps"]] == [s["status"] for s in first["steps"]]
    assert second["exit_code"] == first["exit_code"]
    for name, payload in first["results"].items():
        again = second["results"][name]
        if name in SYNC_STEPS:  # the first run created what the second finds in place
            assert _desired(again) == _desired(payload), name
            assert {c["action"] for c in again["changes"]} <= {"noop"}, name
        elif name == "alerts-evaluate":  # a rule on the job's own duration has data from the 2nd run on
            judged = {r["rule"]: r["status"] for r in payload["rules"] if r["status"] != "no_data"}
            assert {r["rule"]: r["status"] for r in again["rules"] if r["rule"] in judged} == judged
        else:
            assert _stable(again) == _stable(payload), name

    quality = second["results"]["quality"]["suites"]
    incremental = [s for s in quality if "incremental" in s]
    assert incremental, "the demo declares incremental suites"
    for suite in incremental:
        assert suite["queries"] == 0, suite["suite_name"]
        assert suite["incremental"]["partitions_scanned"] == 0
        assert suite["incremental"]["carried_from"] == first["results"]["quality"]["run_id"]
    pii = second["results"]["pii"]["datasets"]
    delta = [d for d in pii if d["error"] is None]
    assert delta and all(d["queries"] == 0 and d["carried_from"] for d in delta)

    # one new day lands in every date-partitioned table: incremental suites scan that day alone
    assert add_one_day(project) > 0
    third = _nightly(project)
    for suite in third["results"]["quality"]["suites"]:
        if "incremental" not in suite:
            continue
        inc = suite["incremental"]
        before = next(s for s in quality if s["suite_name"] == suite["suite_name"])["incremental"]
        assert inc["partitions_scanned"] == len(inc["changed"]) == 1, suite["suite_name"]
        assert inc["stored"] == before["stored"]  # every older partition came from its stored state
        assert suite["queries"] > 0
