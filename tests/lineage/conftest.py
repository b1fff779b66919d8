"""Fixtures of the lineage tests: the SQL corpus, copies of the repo project, small broken projects."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the repo's project (declarative files only, no lake)."""
    from helpers import copy_project

    return copy_project(tmp_path / "project")


MINI_CONFIG = """\
version: 1
project: mini
lake: {root: lake}
state_dir: .smartflow
datasets:
  bronze.raw: {format: delta, path: bronze/raw, layer: bronze, columns: {id: BIGINT, email: VARCHAR, amount: DOUBLE}}
  silver.clean: {format: delta, path: silver/clean, layer: silver, columns: {id: BIGINT, email: VARCHAR, amount: DOUBLE}}
  gold.report: {format: delta, path: gold/report, layer: gold, columns: {id: BIGINT, total: DOUBLE}}
"""


@pytest.fixture
def mini_project(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: a tiny project with the given manifests ({file name: YAML text}); returns the config path."""

    def make(
        manifests: dict[str, str], config: str = MINI_CONFIG, extra: dict[str, str] | None = None
    ) -> Path:
        root = tmp_path / "mini"
        (root / "manifests").mkdir(parents=True, exist_ok=True)
        (root / "smartflow.yaml").write_text(config)
        for name, text in manifests.items():
            (root / "manifests" / name).write_text(textwrap.dedent(text))
        for rel, text in (extra or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(textwrap.dedent(text))
        return root / "smartflow.yaml"

    return make
