"""alerts/*.yaml: action groups and alert rules (Azure Monitor metric and scheduled-query alerts)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from governance.durations import parse_duration
from governance.specs.base import Spec

Operator = Literal["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Equals", "NotEquals"]
Aggregation = Literal["Average", "Minimum", "Maximum", "Total", "Count"]


class ActionGroup(Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    short_name: str = Field(min_length=1, max_length=12)
    email: list[str] = Field(default_factory=list)
    webhook: list[str] = Field(default_factory=list, description="URLs; use ${VAR} for secret ones")
    enabled: bool = True


class LocalEquivalent(Spec):
    metric: str
    operator: Operator
    threshold: float
    aggregation: Aggregation = "Maximum"
    dimensions: dict[str, str] = Field(default_factory=dict)


class AlertRule(Spec):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    kind: Literal["metric", "log"]
    description: str | None = None
    metric: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)
    query: str | None = None
    operator: Operator
    threshold: float
    aggregation: Aggregation = "Average"
    window: str = "PT1H"
    frequency: str = "PT15M"
    severity: int = Field(2, ge=0, le=4)
    action_groups: list[str] = Field(default_factory=list)
    enabled: bool = True
    auto_mitigate: bool = True
    local: LocalEquivalent | None = None

    @field_validator("window", "frequency")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @model_validator(mode="after")
    def _shape(self) -> AlertRule:
        if self.kind == "metric" and not self.metric:
            raise ValueError("a metric rule needs 'metric'")
        if self.kind == "log" and not self.query:
            raise ValueError("a log rule needs 'query' (KQL)")
        if parse_duration(self.window) < parse_duration(self.frequency):
            raise ValueError(f"window {self.window} is shorter than frequency {self.frequency}")
        if len(self.dimensions) > 10:
            raise ValueError("at most 10 dimensions per metric rule")
        return self


class AlertFile(Spec):
    action_groups: list[ActionGroup] = Field(default_factory=list)
    rules: list[AlertRule] = Field(default_factory=list)
