"""Whole-table checks after appends (governance.quality.appended): when a Delta table was only appended
to since the last completed evaluation, uniqueness and referential integrity are evaluated on the added
rows against the old ones, and every field of every result (counts, percentages, samples and their
order, success) equals a full evaluation of the same suite on a fresh state dir. Anything else than an
append is evaluated in full."""

from __future__ import annotations

import datetime as dt
import json
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
  - {type: expect_column_values_to_be_unique, kwargs: {column: email}}
  - {type: expect_compound_columns_to_be_unique, kwargs: {column_list: [person_id, amount]}}
  - type: expect_column_values_to_exist_in
    kwargs: {column: person_id, dataset: silver.people, other_column: person_id}
"""
APPENDABLE = 4  # the uniqueness and referential checks above
NEW_DAY = dt.date(2026, 11, 4)


def _project(root: Path, lake: Path, incremental: bool) -> Path:
    return suite_project(root, lake, incremental, EXPECTATIONS)


def _text(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True)


def _suite(config: Path) -> dict[str, Any]:
    payload = run(load_project(config)).payload
    return dict(payload["suites"][0])


class Lake:
    def __init__(self, tmp: Path, incremental: bool) -> None:
        self.tmp, self.lake, self.incremental = tmp, tmp / "lake", incremental
        write_lake(tmp, DAYS)  # day one: order O11010001 twice, an orphan person 99, …
        self.config = _project(tmp / "kept", self.lake, incremental)
        self.fresh = 0

    def full(self) -> dict[str, Any]:
        """A full evaluation: the same suite on the same lake with a fresh state dir."""
        self.fresh += 1
        return _suite(_project(self.tmp / f"fresh{self.fresh}", self.lake, self.incremental))

    def check(self, appended: int | None) -> dict[str, Any]:
        """Run the kept project, compare every result field by field with a full evaluation, and check
        how many whole-table checks read only the appended rows."""
        got, want = _suite(self.config), self.full()
        assert got["success"] == want["success"]
        assert len(got["results"]) == len(want["results"])
        for mine, full in zip(got["results"], want["results"], strict=True):
            label = mine["expectation_config"]["type"], mine["expectation_config"]["kwargs"]
            assert mine["success"] == full["success"], label
            assert _text(mine["result"]) == _text(full["result"]), label  # (NaN != NaN as a float)
            assert mine["exception_info"] == full["exception_info"], label
        assert (got.get("incremental") or {}).get("appended_checks") == appended
        return got

    def append(self, rows: dict[str, list[Any]]) -> None:
        write_deltalake(
            str(self.lake / "silver/orders"), pa.table(rows), partition_by=["order_date"], mode="append"
        )


def _rows(
    ids: list[str], persons: list[int] | None = None, amounts: list[float] | None = None
) -> dict[str, Any]:
    rows = orders([NEW_DAY], bad=False)
    n = len(ids)
    rows = {k: v[:n] for k, v in rows.items()}
    rows["order_id"] = ids
    rows["email"] = [f"new.{i}@example.com" for i in ids]
    rows["person_id"] = persons or [1] * n
    rows["amount"] = amounts or [500.0 + i for i in range(n)]
    return rows


def _result(suite: dict[str, Any], kind: str, column: str) -> dict[str, Any]:
    for r in suite["results"]:
        cfg = r["expectation_config"]
        if cfg["type"] == kind and column in (
            cfg["kwargs"].get("column"),
            *(cfg["kwargs"].get("column_list") or []),
        ):
            return dict(r["result"])
    raise AssertionError(f"no {kind}({column})")


@pytest.fixture(params=[True, False], ids=["incremental", "whole-table"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    return Lake(tmp_path, request.param)


def test_appends_read_only_the_added_rows_and_answer_as_a_full_run(lake: Lake) -> None:
    first = lake.check(None)
    assert _result(first, "expect_column_values_to_be_unique", "order_id")["unexpected_count"] == 2

    # a duplicate across old and new rows (day two's first order, unique until now; its key sorts
    # among day one's samples), and an e-mail (a PII column: samples masked) taken from day three
    old = orders(DAYS)
    rows = _rows(["O11010001a", "O11020011", "Z1"])
    rows["email"][2] = old["email"][25]
    lake.append(rows)
    got = lake.check(APPENDABLE)
    assert _result(got, "expect_column_values_to_be_unique", "order_id")["unexpected_count"] == 4
    assert _result(got, "expect_column_values_to_be_unique", "email")["unexpected_count"] == 2

    # duplicates only within the new rows, an id that was already duplicated, and a compound key
    # (person, amount) repeated within the new rows and with an old row
    lake.append(
        _rows(["N1", "N1", "O11010001", "N2"], persons=[2, 2, 3, 2], amounts=[11.0, 700.0, 700.0, 11.0])
    )
    got = lake.check(APPENDABLE)
    assert _result(got, "expect_column_values_to_be_unique", "order_id")["unexpected_count"] == 7
    compound = _result(got, "expect_compound_columns_to_be_unique", "person_id")
    assert compound["unexpected_count"] > 0 and compound["partial_unexpected_list"]

    # keys that compare awkwardly: -0.0 repeats 0.0 and NaN repeats NaN, across two appends
    lake.append(_rows(["F1", "F2"], persons=[4, 4], amounts=[0.0, float("nan")]))
    lake.check(APPENDABLE)
    lake.append(_rows(["F3", "F4"], persons=[4, 4], amounts=[-0.0, float("nan")]))
    got = lake.check(APPENDABLE)
    assert (
        _result(got, "expect_compound_columns_to_be_unique", "person_id")["unexpected_count"]
        == compound["unexpected_count"] + 4
    )

    # an append with no duplicate and no orphan: the failures stay as they were
    lake.append(_rows(["P1", "P2"]))
    lake.check(APPENDABLE)

    # a new orphan among the added rows
    lake.append(_rows(["Q1", "Q2"], persons=[77, 1]))
    got = lake.check(APPENDABLE)
    assert _result(got, "expect_column_values_to_exist_in", "person_id")["unexpected_count"] == 2


def test_a_parent_append_is_checked_against_the_old_orphans(lake: Lake) -> None:
    lake.check(None)
    people = str(lake.lake / "silver/people")
    # the parent gains a person the new rows reference: no old orphan is resolved
    write_deltalake(people, pa.table({"person_id": [6], "name": ["f"]}), mode="append")
    lake.append(_rows(["R1", "R2"], persons=[6, 88]))
    got = lake.check(APPENDABLE)
    assert _result(got, "expect_column_values_to_exist_in", "person_id")["unexpected_count"] == 2

    # the parent gains the old orphan 99: that orphan is resolved; the rows it leaves (88) are the
    # samples of a full run, which is what runs for that check
    write_deltalake(people, pa.table({"person_id": [99], "name": ["g"]}), mode="append")
    lake.append(_rows(["R3"]))
    got = lake.check(APPENDABLE - 1)
    assert _result(got, "expect_column_values_to_exist_in", "person_id")["unexpected_count"] == 1

    # the parent gains the last orphan: none left, no sample to find
    write_deltalake(people, pa.table({"person_id": [88], "name": ["h"]}), mode="append")
    lake.append(_rows(["R4"]))
    got = lake.check(APPENDABLE)
    assert _result(got, "expect_column_values_to_exist_in", "person_id")["unexpected_count"] == 0

    # the parent loses rows (an overwrite): referential integrity is evaluated in full
    write_deltalake(people, pa.table({"person_id": [1, 2, 3, 4, 5], "name": list("abcde")}), mode="overwrite")
    lake.append(_rows(["R5"]))
    lake.check(APPENDABLE - 1)


@pytest.mark.parametrize("change", ["delete", "overwrite", "optimize", "new column"])
def test_anything_but_an_append_is_a_full_evaluation(lake: Lake, change: str) -> None:
    lake.check(None)
    lake.append(_rows(["S1", "O11020011"]))
    lake.check(APPENDABLE)
    table = DeltaTable(str(lake.lake / "silver/orders"))
    if change == "delete":
        table.delete("order_id = 'O11010001'")
    elif change == "overwrite":
        write_deltalake(
            str(lake.lake / "silver/orders"),
            pa.table(orders(DAYS[:2])),
            partition_by=["order_date"],
            mode="overwrite",
        )
    elif change == "optimize":
        table.optimize.compact()
    else:  # an append that also adds a column: a schema change, not only an append
        rows = _rows(["V1", "O11020012"])
        rows["note"] = ["x", "y"]
        write_deltalake(
            str(lake.lake / "silver/orders"),
            pa.table(rows),
            partition_by=["order_date"],
            mode="append",
            schema_mode="merge",
        )
    lake.check(None)
    after = _rows(["T1", "O11010002"])  # an append after it is read incrementally again
    if change == "new column":
        after["note"] = ["p", "q"]
    lake.append(after)
    lake.check(APPENDABLE)


def test_a_commit_that_cannot_be_read_means_the_whole_table(lake: Lake) -> None:
    lake.check(None)
    lake.append(_rows(["U1", "U1"]))
    lake.append(_rows(["U2"]))
    table = DeltaTable(str(lake.lake / "silver/orders"))
    table.create_checkpoint()
    # the first commit since the stored evaluation is cleaned up (the checkpoint stands for it): no
    # proof remains that it only appended
    (lake.lake / f"silver/orders/_delta_log/{table.version() - 1:020d}.json").unlink()
    lake.check(None)
