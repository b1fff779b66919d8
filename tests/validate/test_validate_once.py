"""The nightly validates its project once per mode (its validate step and each catalog step's input check
used to run every cross-file check again): inside `remembered()` the first answer is reused, and outside
it every call checks the project as it is now."""

from __future__ import annotations

from pathlib import Path

from helpers import copy_project

from governance.project import load_project
from governance.validation import remembered, validate_project


def test_a_project_is_validated_once_inside_the_block_and_afresh_outside(tmp_path: Path) -> None:
    project = load_project(copy_project(tmp_path))
    assert validate_project(project, check_data=False) == []
    suite = project.suites[0]
    with remembered():
        assert validate_project(project, check_data=False) == []
        suite.dataset = "silver.nowhere"  # (nothing edits a project during a nightly)
        assert validate_project(project, check_data=False) == []  # the first answer of this block
    problems = validate_project(project, check_data=False)
    assert any("silver.nowhere" in p.message for p in problems)
    with remembered():
        assert validate_project(project, check_data=False) == problems
