"""Fixtures of the access and posture tests: the local ARM server filled with a small estate."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "servers"))

from arm_estate import fill  # noqa: E402
from arm_server import ArmServer  # noqa: E402


@pytest.fixture
def arm() -> Iterator[ArmServer]:
    with ArmServer() as srv:
        fill(srv.state)
        yield srv
    assert srv.state.invalid == [], srv.state.invalid  # every request and response matched the contracts
