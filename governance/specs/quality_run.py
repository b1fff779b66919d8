"""The `quality run --output json` shape (SPEC §4, with the §6.1 additions) as typed models.

Built by the quality service and read back by the nightly summary and the report models, so each reads
fields, not string keys. `dump()` gives the JSON the CLI prints: field order is the output's order, and
optional fields appear only when they were set (so the JSON is that of SPEC §4 plus the additions).
Unknown keys of older stored runs are kept (`extra="allow"`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["success", "failure", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class ExpectationConfig(_Model):
    model_config = ConfigDict(extra="forbid")  # (mypy: a field named `kwargs` cannot sit beside extra keys)

    type: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    severity: Literal["error", "warn"] = "error"
    meta: dict[str, Any] | None = None


class ExceptionInfo(_Model):
    raised_exception: bool = False
    exception_message: str | None = None
    infrastructure: bool | None = None  # set (true) on errors caused by the engine


class ExpectationResult(_Model):
    expectation_config: ExpectationConfig
    success: bool
    result: dict[str, Any] = Field(default_factory=dict)
    exception_info: ExceptionInfo = Field(default_factory=ExceptionInfo)

    @property
    def outcome(self) -> Outcome:
        """success | failure | error (an error is neither of the others)."""
        if self.exception_info.raised_exception:
            return "error"
        return "success" if self.success else "failure"

    @property
    def infrastructure(self) -> bool:
        return self.outcome == "error" and bool(self.exception_info.infrastructure)

    @property
    def unexpected_count(self) -> int | None:
        value = self.result.get("unexpected_count") if self.outcome != "error" else None
        return int(value) if isinstance(value, int | float) else None


class Statistics(_Model):
    evaluated_expectations: int = 0
    successful_expectations: int = 0
    unsuccessful_expectations: int = 0
    errored_expectations: int = 0
    success_percent: float | None = None


class Incremental(_Model):
    partition: str | None = None  # unset: a whole-table suite whose last verdicts were carried
    changed: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    stored: int = 0
    partitions_scanned: int = 0
    carried_from: str | None = None
    appended_checks: int | None = None  # whole-table checks evaluated on the appended rows only


class SuiteResult(_Model):
    suite_name: str
    dataset: str
    layer: str = "other"
    success: bool
    statistics: Statistics = Field(default_factory=Statistics)
    results: list[ExpectationResult] = Field(default_factory=list)
    queries: int = 0
    rows_validated: int | None = None
    engine: str | None = None
    partitions: dict[str, list[str]] | None = None
    incremental: Incremental | None = None
    quarantined_rows: int | None = None
    fused_with: list[str] | None = None
    seconds: float | None = None
    error: str | None = None  # the dataset could not be validated (every result is an error)


class QualityRun(_Model):
    run_id: str
    success: bool
    started_at: str
    engine: str
    suites: list[SuiteResult] = Field(default_factory=list)
