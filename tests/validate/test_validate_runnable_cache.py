"""validate keeps what compiling each expectation taught it (state_dir/cache/runnable.json) and gives the
same answer from it: at the right line after the file moved, and compiled again when anything it depends
on changed (kwargs, the dataset's column types)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_project

from governance.validation import check

SUITE = """suite: checks
dataset: silver.transactions
expectations:
  - type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: "2024-01-01"}
"""
REL = "expectations/silver/checks.yaml"
CANNOT = (
    "expect_column_values_to_be_between: the duckdb engine cannot run this: cannot compare numeric column"
)


def _messages(config: Path) -> list[str]:
    return [str(p) for p in check(config, check_data=False)[1]]


def _cached(root: Path) -> dict[str, object]:
    entries: dict[str, object] = json.loads((root / ".smartflow/cache/runnable.json").read_text())["entries"]
    return entries


def test_a_cached_answer_is_the_same_answer_and_a_changed_input_is_compiled_again(tmp_path: Path) -> None:
    config = copy_project(tmp_path)
    (tmp_path / ".smartflow").mkdir()
    suite = tmp_path / REL
    suite.write_text(SUITE)

    first = _messages(config)
    assert [m for m in first if m.startswith(f"{REL}:5: {CANNOT}")], first
    stored = _cached(tmp_path)
    assert len(stored) > 50  # every expectation of the project, not only the broken one
    assert sum(1 for answer in stored.values() if answer is not None) == 1

    assert _messages(config) == first  # answered from the cache

    suite.write_text("# moved down two lines\n\n" + SUITE)
    assert [m for m in _messages(config) if m.startswith(f"{REL}:7: {CANNOT}")]

    # the same expectation on a column declared as a date: it runs, nothing is reported
    text = config.read_text()
    config.write_text(text.replace('amount: "DECIMAL(10,2)"', "amount: DATE", 1))
    assert not [m for m in _messages(config) if m.startswith(REL)]

    config.write_text(text)  # back to a number: the stored answer applies again
    suite.write_text(SUITE.replace('"2024-01-01"', "0"))
    assert not [m for m in _messages(config) if m.startswith(REL)]


def test_no_state_dir_no_cache_file(tmp_path: Path) -> None:
    config = copy_project(tmp_path)
    (tmp_path / REL).write_text(SUITE)
    assert [m for m in _messages(config) if m.startswith(f"{REL}:5: {CANNOT}")]
    assert not (tmp_path / ".smartflow").exists()


def test_an_unreadable_cache_is_compiled_again(tmp_path: Path) -> None:
    config = copy_project(tmp_path)
    (tmp_path / ".smartflow/cache").mkdir(parents=True)
    (tmp_path / ".smartflow/cache/runnable.json").write_text("{not json")
    (tmp_path / REL).write_text(SUITE)
    assert [m for m in _messages(config) if m.startswith(f"{REL}:5: {CANNOT}")]
    assert _cached(tmp_path)
