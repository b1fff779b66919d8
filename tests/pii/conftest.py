"""Fixtures for PII discovery tests (helpers live in pii_fixtures.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def eval_table() -> Any:
    from harness import pii_evalset as evalset

    return evalset.generate(rows=600, seed=7)
