"""Fixtures of the quality tests: a tiny lake of our own (tests/quality/tiny_lake.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tiny_lake import CLASSIFICATIONS, CONFIG, DAYS, SUITE, write_lake


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    """Config path of a fresh tiny project (writable)."""
    (tmp_path / "expectations").mkdir()
    (tmp_path / "classifications").mkdir()
    (tmp_path / "smartflow.yaml").write_text(textwrap.dedent(CONFIG))
    (tmp_path / "classifications/pii.yaml").write_text(CLASSIFICATIONS)
    (tmp_path / "expectations/orders.yaml").write_text(SUITE)
    write_lake(tmp_path, DAYS)
    return tmp_path / "smartflow.yaml"
