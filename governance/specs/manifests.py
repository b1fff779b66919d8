"""manifests/*.yaml: job manifests (pipelines), the source of lineage."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from governance.specs.base import Spec


class Manifest(Spec):
    job: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    kind: Literal["copy", "spark", "sql", "stream"]
    description: str | None = None
    schedule: str | None = None
    owner: str | None = None
    source: dict[str, Any] | None = Field(
        None, description="external system a copy/stream job reads (not a dataset)"
    )
    inputs: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list, min_length=1)
    sql: str | None = None
    column_lineage: dict[str, list[str]] = Field(default_factory=dict)
    properties: dict[str, Any] = Field(default_factory=dict)
