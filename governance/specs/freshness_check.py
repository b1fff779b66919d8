"""The `freshness check --output json` shape of the lake source (SPEC §4) as typed models.

Built by `governance.monitor.freshness.check`; `dump()` gives the JSON it prints: field order is the
output's order and optional fields appear only when they were set (an unreadable dataset carries `error`
and no measurements). Unknown keys are kept (`extra="allow"`). The Log Analytics source builds its own
shape (`governance.monitor.logs_query`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Number = int | float


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class FreshnessEntry(_Model):
    dataset: str
    layer: str
    error: str | None = None  # set when the dataset could not be read (then stale is None)
    column: str | None = None
    max_value: str | None = None
    lag_minutes: Number | None = None
    max_lag_minutes: Number | None = None
    stale: bool | None = None
    partition_column: str | None = None
    partition_grain: str | None = None
    partitions: int | None = None
    rows: int | None = None
    missing_partitions: list[str] = Field(default_factory=list)
    late_partitions: list[dict[str, Any]] = Field(default_factory=list)
    note: str | None = None
    late_tolerance_minutes: Number | None = None
    unjudged_partitions: int | None = None


class FreshnessSummary(_Model):
    checked: int
    stale: int
    missing_partitions: int
    late_partitions: int
    errors: int


class FreshnessCheck(_Model):
    checked_at: str | None
    source: str
    datasets: list[FreshnessEntry]
    summary: FreshnessSummary
    metrics_recorded: int | None = None
