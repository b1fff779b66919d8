"""expectations/<layer>/<name>.yaml: quality suites in Great Expectations 1.x vocabulary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from governance.specs.base import Spec


class Incremental(Spec):
    partition: str


class Expectation(Spec):
    type: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    severity: Literal["error", "warn"] = "error"
    meta: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = None


class Suite(Spec):
    suite: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    dataset: str
    description: str | None = None
    incremental: Incremental | None = None
    expectations: list[Expectation] = Field(default_factory=list)
