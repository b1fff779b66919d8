"""A nightly costs what changed: on an unchanged lake the second nightly carries every verdict (same
payloads, no quality query, no PII scan); after one new day, incremental suites scan only that day."""

from __future__ import annotations

import shutil
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
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's small demo lake, built once (fixtures hand out copies: it stays as built)."""
    root = tmp_path_factory.mktemp("whole")
    config = copy_project(root)
    run_cli("--config", str(config), "demo", "init", "--scale", "0.05", "--seed", "11", check=0)
    return root


@pytest.fixture(scope="module")
def lake(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo lake of this module's own (it is appended to)."""
    root = tmp_path_factory.mktemp("carry") / "p"
    shutil.copytree(built, root)
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
    assert any("partition" in s["incremental"] for s in quality), "the demo declares incremental suites"
    for suite in quality:  # every suite, incremental or not: nothing it reads changed
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
        if "partition" not in suite.get("incremental", {}):
            continue
        inc = suite["incremental"]
        before = next(s for s in quality if s["suite_name"] == suite["suite_name"])["incremental"]
        assert inc["partitions_scanned"] == len(inc["changed"]) == 1, suite["suite_name"]
        assert inc["stored"] == before["stored"]  # every older partition came from its stored state
        assert suite["queries"] > 0


# ------------------------------------------------------------------ suites declared without `incremental:`
# They are carried whole: the key is the suite definition (+ engine, PII columns, sample size), the Delta
# log version and file list of the table, and those of every dataset a cross-source expectation reads.


@pytest.fixture()
def project(built: Path, tmp_path: Path) -> Path:
    """A writable copy of the small demo project and its lake (no state yet)."""
    shutil.copytree(built, tmp_path / "p", ignore=shutil.ignore_patterns(".smartflow", "reports"))
    return tmp_path / "p"


def _quality(project: Path) -> dict[str, Any]:
    from governance.project import load_project
    from governance.quality.service import run

    payload = run(load_project(project / "smartflow.yaml")).payload
    payload["by_suite"] = {s["suite_name"]: s for s in payload["suites"]}
    return payload


def _whole_table_suites(project: Path) -> set[str]:
    from governance.project import load_project

    return {s.suite for s in load_project(project / "smartflow.yaml").suites if s.incremental is None}


def _carried(run: dict[str, Any], suite: str, source: dict[str, Any]) -> bool:
    got = run["by_suite"][suite]
    if got.get("incremental") == {"partitions_scanned": 0, "carried_from": source["run_id"]}:
        assert got["queries"] == 0, suite
        return True
    assert got["queries"] > 0 and "incremental" not in got, suite  # evaluated in full, as before
    return False


def _touch(project: Path, dataset: str) -> None:
    """A new Delta version that rewrites one row unchanged (the data is the same, the log moved on)."""
    from deltalake import DeltaTable

    from governance.project import load_project

    p = load_project(project / "smartflow.yaml")
    spec = p.dataset(dataset)
    table = DeltaTable(f"{p.lake_root}/{spec.path}")
    key = spec.key[0]
    first = table.to_pyarrow_table(columns=[key]).column(key)[0].as_py()
    literal = f"'{first}'" if isinstance(first, str) else str(first)
    table.update(predicate=f"{key} = {literal}", updates={key: key})


def test_an_unchanged_table_carries_whole_table_suites_and_a_failed_one_stays_failed(project: Path) -> None:
    whole = _whole_table_suites(project)
    assert {"silver_customers", "gold_customer360_view", "gold_anomaly_alerts_view"} <= whole
    first = _quality(project)
    second = _quality(project)
    assert not first["by_suite"]["silver_customers"]["success"], "the demo's customers have defects"
    for name in whole:
        assert _carried(second, name, first), name
        assert _stable(second["by_suite"][name]) == _stable(first["by_suite"][name]), name
    assert second["success"] == first["success"] is False


def test_a_new_version_of_the_table_or_of_a_dataset_it_reads_is_evaluated_again(project: Path) -> None:
    first = _quality(project)
    _touch(project, "silver.customers")  # read by gold_customer360_view's expect_column_values_to_exist_in
    second = _quality(project)
    assert not _carried(second, "silver_customers", first)  # its own table has a new version
    assert not _carried(second, "gold_customer360_view", first)  # a dataset it reads has one
    assert _carried(second, "gold_anomaly_alerts_view", first)
    for name in ("silver_customers", "gold_customer360_view"):  # same data, same verdicts
        assert _stable(second["by_suite"][name]) == _stable(first["by_suite"][name]), name
    third = _quality(project)
    assert _carried(third, "gold_customer360_view", second)


def test_an_edited_suite_is_evaluated_again(project: Path) -> None:
    first = _quality(project)
    path = project / "expectations/gold/gold_anomaly_alerts_view.yaml"
    path.write_text(
        path.read_text().replace("value_set: [north, south, east, west, central]", "value_set: [north]")
    )
    second = _quality(project)
    assert not _carried(second, "gold_anomaly_alerts_view", first)
    assert _carried(second, "gold_customer360_view", first)


def test_a_run_the_engine_could_not_complete_is_not_carried(project: Path) -> None:
    from deltalake import DeltaTable

    table = DeltaTable(str(project / "lake/gold/anomaly_alerts_view"))
    data_file = Path(table.file_uris()[0].removeprefix("file://"))
    aside = project / "aside.parquet"
    data_file.rename(aside)  # a data file the log lists is gone: the engine fails
    broken = _quality(project)
    suite = broken["by_suite"]["gold_anomaly_alerts_view"]
    assert all(r["exception_info"].get("infrastructure") for r in suite["results"])
    aside.rename(data_file)
    repaired = _quality(project)
    assert not _carried(repaired, "gold_anomaly_alerts_view", broken)
    assert repaired["by_suite"]["gold_anomaly_alerts_view"]["statistics"]["errored_expectations"] == 0
    assert _carried(_quality(project), "gold_anomaly_alerts_view", repaired)


def test_a_verdict_that_moves_with_the_clock_is_evaluated_every_run(project: Path) -> None:
    path = project / "expectations/gold/gold_anomaly_alerts_view.yaml"
    recent = "  - type: expect_column_max_to_be_recent\n    kwargs: {column: window_end, max_lag: P3650D}\n"
    path.write_text(path.read_text() + recent)
    _quality(project)
    second = _quality(project)["by_suite"]["gold_anomaly_alerts_view"]
    assert second["queries"] == 1 and "incremental" not in second  # that check alone, on today's clock
    assert second["statistics"]["unsuccessful_expectations"] == 0


def test_every_expectation_that_reads_the_clock_is_never_carried() -> None:
    """An implementation reading `ctx.now` must be listed in CLOCK, or its stored verdict would be stale."""
    import inspect

    from governance.quality.expectations import implementation
    from governance.quality.expectations.vocabulary import VOCABULARY
    from governance.quality.incremental import CLOCK

    reads_clock = {
        name
        for name in VOCABULARY
        if (klass := implementation(name)) is not None
        and any(
            "ctx.now" in inspect.getsource(k) for k in klass.__mro__ if k.__module__.startswith("governance")
        )
    }
    assert reads_clock and reads_clock <= CLOCK
