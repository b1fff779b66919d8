"""Incremental equals full (SPEC §6.1): on a real partitioned Delta table with defects in old and new
partitions, every expectation's `success` and `unexpected_count` of an incremental run equal those of a
full run of the same suite over the same table — after a first run, a second run with nothing changed,
a new partition, a suite edit, a changed referenced dataset and a removed partition; and states are not
saved after an evaluation the engine could not complete."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from tiny_lake import DAYS, orders, write_lake
from tiny_lake import project as suite_project

from governance.project import load_project
from governance.quality.service import run

EXPECTATIONS = """
expectations:
  - {type: expect_column_values_to_not_be_null, kwargs: {column: order_id}}
  - {type: expect_column_values_to_be_unique, kwargs: {column: order_id}}
  - {type: expect_column_values_to_be_between, kwargs: {column: amount, min_value: 0, max_value: 1000}}
  - {type: expect_column_values_to_be_in_set, kwargs: {column: status, value_set: [new, paid, shipped]}}
  - {type: expect_column_values_to_match_regex, kwargs: {column: email, regex: "^[^@]+@[^@]+[.][a-z]+$"}}
  - type: expect_column_values_to_exist_in
    kwargs: {column: person_id, dataset: silver.people, other_column: person_id}
  - {type: expect_column_mean_to_be_between, kwargs: {column: amount, min_value: 1, max_value: 500}}
  - {type: expect_table_row_count_to_be_between, kwargs: {min_value: 1, max_value: 45}}
  - {type: expect_column_max_to_be_between, kwargs: {column: amount, max_value: 98}}
  - {type: expect_column_min_to_be_between, kwargs: {column: amount, min_value: 0}}
  - {type: expect_column_median_to_be_between, kwargs: {column: amount, min_value: 40, max_value: 60}}
  - {type: expect_column_stdev_to_be_between, kwargs: {column: amount, max_value: 30}}
  - {type: expect_column_distinct_values_to_be_in_set, kwargs: {column: status, value_set: [paid, new]}}
  - {type: expect_column_unique_value_count_to_be_between, kwargs: {column: person_id, max_value: 5}}
  - {type: expect_compound_columns_to_be_unique, kwargs: {column_list: [order_id, person_id]}}
  - {type: expect_column_most_common_value_to_be_in_set, kwargs: {column: status, value_set: [paid]}}
"""


def _project(root: Path, lake: Path, incremental: bool) -> Path:
    return suite_project(root, lake, incremental, EXPECTATIONS)


def _verdicts(config: Path) -> tuple[dict[str, Any], list[tuple[str, bool, Any]]]:
    payload = run(load_project(config)).payload
    suite = {**payload["suites"][0], "run_id": payload["run_id"]}
    return suite, [
        (
            f"{r['expectation_config']['type']}({r['expectation_config']['kwargs'].get('column', '')})",
            r["success"],
            r["result"].get("unexpected_count"),
        )
        for r in suite["results"]
    ]


def _append(lake: Path, rows: dict[str, list[object]]) -> None:
    write_deltalake(str(lake / "silver/orders"), pa.table(rows), partition_by=["order_date"], mode="append")


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(incremental project, full project, lake): the same suite over the same lake."""
    lake = tmp_path / "lake"
    write_lake(tmp_path, DAYS)  # defects in the first day: a duplicate id, a negative amount, …
    return _project(tmp_path / "inc", lake, True), _project(tmp_path / "full", lake, False), lake


def test_incremental_equals_full_across_runs_edits_and_new_partitions(
    pair: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.lake import resolve

    inc, full, lake = pair

    first, got = _verdicts(inc)
    assert got == _verdicts(full)[1]
    assert first["incremental"]["partitions_scanned"] == 3
    assert not first["success"]

    # nothing changed: no query, the last verdicts carried (failed stays failed), and the table's
    # snapshot is not even opened (its partitions' fingerprints are kept per snapshot)
    with monkeypatch.context() as m:
        m.setattr(resolve, "delta_table", lambda *a, **k: pytest.fail("an unchanged snapshot was opened"))
        second, got = _verdicts(inc)
    assert got == _verdicts(full)[1]
    assert second["queries"] == 0
    assert second["incremental"]["partitions_scanned"] == 0
    assert second["incremental"]["carried_from"] == first["run_id"]
    assert [r["result"].get("partial_unexpected_list") for r in second["results"]] == [
        r["result"].get("partial_unexpected_list") for r in first["results"]
    ]

    # a new partition whose defects involve old rows: an id already used on day one, an orphan person,
    # a negative amount and a null id
    new_day = dt.date(2026, 11, 4)
    rows = orders([new_day], bad=False)
    rows["order_id"] = [f"N{i}" for i in range(10)]
    rows["order_id"][0] = "O11010001"  # duplicates a day-one order
    rows["order_id"][1] = None
    rows["person_id"][2] = 77
    rows["amount"][3] = -1.0
    rows["status"][4] = "new"
    _append(lake, rows)
    third, got = _verdicts(inc)
    assert got == _verdicts(full)[1]
    assert third["incremental"]["partitions_scanned"] == 1
    unique = next(r for r in third["results"] if r["expectation_config"]["type"].endswith("to_be_unique"))
    assert unique["result"]["unexpected_count"] == 3  # day one's duplicated id, now also on the new day

    # a suite edit: a new expectation sees the whole table, not only new partitions
    for project in (inc, full):
        suite = project.parent / "expectations/orders.yaml"
        suite.write_text(
            suite.read_text()
            + "  - {type: expect_column_values_to_be_between, kwargs: {column: amount, max_value: 15}}\n"
        )
    fourth, got = _verdicts(inc)
    assert got == _verdicts(full)[1]
    assert fourth["incremental"]["partitions_scanned"] == 4 and "carried_from" not in fourth["incremental"]
    assert got[-1][1] is False and got[-1][2] > 10  # amounts above 15 on every day

    # the referenced dataset changes, the table does not: referential integrity is evaluated again
    write_deltalake(
        str(lake / "silver/people"),
        pa.table({"person_id": [1, 2, 3, 4, 5, 77], "name": ["a", "b", "c", "d", "e", "f"]}),
        mode="overwrite",
    )
    fifth, got = _verdicts(inc)
    assert got == _verdicts(full)[1]
    assert fifth["incremental"]["partitions_scanned"] == 0 and fifth["queries"] >= 1

    # a partition removed: its states go, the whole-table checks run again
    DeltaTable(str(lake / "silver/orders")).delete("order_date = '2026-11-01'")
    sixth, got = _verdicts(inc)
    assert got == _verdicts(full)[1]
    assert sixth["incremental"]["removed"] == ["2026-11-01"]
    assert sixth["rows_validated"] == 30


def test_states_are_not_saved_after_an_evaluation_the_engine_could_not_complete(
    pair: tuple[Path, Path, Path],
) -> None:
    inc, full, lake = pair
    _verdicts(inc)
    state = load_project(inc).state_dir / "quality" / "partitions" / "orders.json"
    before = state.read_text()
    new_day = dt.date(2026, 11, 4)
    rows = orders([new_day], bad=False)
    rows["order_id"] = [f"N{i}" for i in range(10)]
    _append(lake, rows)
    # the new partition's data file vanishes (storage outage): every expectation is an error, exit 3
    vanished = next((lake / "silver/orders/order_date=2026-11-04").glob("*.parquet"))
    data = vanished.read_bytes()
    vanished.unlink()
    outage = run(load_project(inc))
    suite = outage.payload["suites"][0]
    assert outage.exit_code == 3
    assert suite["statistics"]["errored_expectations"] == len(suite["results"])
    assert suite["statistics"]["unsuccessful_expectations"] == 0
    assert suite["statistics"]["success_percent"] is None
    assert all(r["exception_info"]["raised_exception"] and r["result"] == {} for r in suite["results"])
    assert state.read_text() == before  # not advanced past the partition nobody evaluated
    # the file is back: the partition is evaluated, with the full run's verdicts
    vanished.write_bytes(data)
    after, got = _verdicts(inc)
    assert after["incremental"]["changed"] == ["2026-11-04"]
    assert got == _verdicts(full)[1]


def test_demo_lake_second_run_keeps_the_first_runs_verdicts(demo_project: Path, tmp_path: Path) -> None:
    """The reported symptom: `demo init`, then the quality step twice with no change to the lake; the second
    run went from "8 suites, 4 failed; 8/101 expectations unsuccessful" to "2 failed; 2/37"."""
    import shutil

    from helpers import copy_project

    config = copy_project(tmp_path / "demo")
    shutil.copytree(demo_project / "lake", tmp_path / "demo/lake")

    def verdicts(project: Any) -> dict[str, list[tuple[bool, Any]]]:
        payload = run(project).payload
        return {
            s["suite_name"]: [(r["success"], r["result"].get("unexpected_count")) for r in s["results"]]
            for s in payload["suites"]
        }

    first = verdicts(load_project(config))
    second = verdicts(load_project(config))
    full_project = load_project(config)
    for suite in full_project.suites:
        suite.incremental = None
    full = verdicts(full_project)
    assert any(s.incremental for s in load_project(config).suites)  # the demo has incremental suites
    assert first == second == full
    assert sum(1 for v in first.values() if not all(ok for ok, _ in v)) >= 3  # the demo's planted defects


def test_quarantine_of_an_incremental_suite_takes_each_partition_once(pair: tuple[Path, Path, Path]) -> None:
    inc, _, lake = pair
    first = run(load_project(inc), quarantine=True).extra["quarantined"]["silver.orders"]
    assert first > 0
    again = run(load_project(inc), quarantine=True).extra["quarantined"]["silver.orders"]
    assert again == 0  # nothing changed: the failing rows are already in quarantine
    rows = orders([dt.date(2026, 11, 4)], bad=False)
    rows["order_id"] = [f"N{i}" for i in range(10)]
    rows["amount"][0] = -3.0
    _append(lake, rows)
    third = run(load_project(inc), quarantine=True).extra["quarantined"]["silver.orders"]
    assert third == 1  # the new partition's one bad row, not the old ones again
    table = DeltaTable(
        str(load_project(inc).state_dir / "quality/quarantine/silver.orders")
    ).to_pyarrow_table()
    assert table.num_rows == first + third
