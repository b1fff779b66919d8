"""Declarative files kept parsed in state_dir/cache/yaml.json: a project loaded from the cache has the
same data and the same FILE:LINE for every key as one parsed afresh, and an edited file is parsed again."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import copy_project

from governance.errors import InputError
from governance.project import load_project
from governance.specs.yamlcache import all_lines
from governance.specs.yamlio import load_yaml


def _project(tmp_path: Path) -> Path:
    config = copy_project(tmp_path)
    (tmp_path / ".smartflow").mkdir()
    return config


def test_a_cached_project_has_the_same_data_and_lines(tmp_path: Path) -> None:
    config = _project(tmp_path)
    parsed = load_project(config)
    assert (tmp_path / ".smartflow/cache/yaml.json").is_file()
    cached = load_project(config)
    assert set(cached.docs) == set(parsed.docs) and len(parsed.docs) > 30
    for name, doc in parsed.docs.items():
        again = cached.docs[name]
        assert again.data == doc.data, name
        assert again.node is None, f"{name} was parsed again"
        for path, line in all_lines(doc).items():
            assert again.line(path) == doc.line(path) == max(line, 1), (name, path)
            assert again.line((*path, "no-such-key")) == doc.line((*path, "no-such-key")), (name, path)
    assert cached.suites == parsed.suites and cached.terms == parsed.terms
    suite = cached.suites[0]
    assert cached.locate(suite, "expectations", 1, "kwargs") == parsed.locate(
        suite, "expectations", 1, "kwargs"
    )


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    config = _project(tmp_path)
    load_project(config)
    path = tmp_path / "expectations/silver/silver_customers.yaml"
    path.write_text(path.read_text().replace("type: expect_column_values_to_not_be_null", "type: [oops", 1))
    try:
        load_project(config)
    except InputError as exc:
        assert any(p.where.file == "expectations/silver/silver_customers.yaml" for p in exc.problems)
    else:
        raise AssertionError("the edit was not seen")
    doc, problems = load_yaml(path, tmp_path)
    assert doc is None and problems


def test_no_cache_is_written_without_a_state_dir(tmp_path: Path) -> None:
    config = copy_project(tmp_path)
    load_project(config)
    assert not (tmp_path / ".smartflow").exists()


def test_smartflow_yaml_is_kept_as_written_and_an_edit_to_it_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """smartflow.yaml's entry is found through its `state_dir:` as written; `${VAR}` values are expanded
    after the cache, so none is ever stored, and a changed variable or edit takes effect."""
    config = _project(tmp_path)
    text = config.read_text()
    assert "${SMARTFLOW_WAREHOUSE_URL}" in text
    monkeypatch.setenv("SMARTFLOW_WAREHOUSE_URL", "postgresql://u:planted-secret@db.example/x")
    load_project(config)
    again = load_project(config)
    assert again.docs["smartflow.yaml"].node is None  # served from the cache
    assert "planted-secret" not in (tmp_path / ".smartflow/cache/yaml.json").read_text()
    config.write_text(text.replace("state_dir: .smartflow", "state_dir: .smartflow  # kept here", 1))
    edited = load_project(config)
    assert edited.docs["smartflow.yaml"].node is not None  # parsed again: its text changed


def test_the_first_state_writing_command_on_a_fresh_checkout_keeps_the_parsed_files(tmp_path: Path) -> None:
    """The project is loaded before the command creates the state dir; what was parsed is kept once it
    exists, so the second run does not parse everything again."""
    from helpers import run_cli

    config = copy_project(tmp_path)
    assert not (tmp_path / ".smartflow").exists()
    proc = run_cli("--config", str(config), "--output", "json", "lineage", "build")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / ".smartflow/cache/yaml.json").is_file()
    assert all(doc.node is None for doc in load_project(config).docs.values())  # all from the cache
