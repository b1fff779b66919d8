"""classifications/*.yaml: labels, detection rules (Purview custom-classification shape), assignments."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from governance.specs.base import Spec


def _regex(v: str | None) -> str | None:
    if v is not None:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {v!r}: {exc}") from None
    return v


class Label(Spec):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\- ]*$")
    description: str | None = None
    sensitivity: int | None = Field(None, ge=0, le=10, description="higher is more sensitive")


class Rule(Spec):
    name: str
    label: str
    description: str | None = None
    column_pattern: str | None = None
    data_pattern: str | None = None
    minimum_match_percent: float = Field(60, ge=0, le=100)
    validator: str | None = Field(None, description="a named validator (luhn, iban_mod97, …) run on matches")
    free_text: bool = Field(False, description="also look for the data pattern inside longer text")
    layers: list[str] = Field(default_factory=lambda: ["bronze", "silver", "gold"])

    @field_validator("column_pattern", "data_pattern")
    @classmethod
    def _patterns(cls, v: str | None) -> str | None:
        return _regex(v)

    @model_validator(mode="after")
    def _some_pattern(self) -> Rule:
        if not (self.column_pattern or self.data_pattern):
            raise ValueError("a rule needs column_pattern, data_pattern or both")
        return self


class Assignment(Spec):
    dataset: str
    table: list[str] = Field(default_factory=list)
    columns: dict[str, list[str]] = Field(default_factory=dict)
    critical: list[str] = Field(
        default_factory=list, description="critical data elements (besides key and PII columns): column names"
    )


class ClassificationFile(Spec):
    labels: list[Label] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    assignments: list[Assignment] = Field(default_factory=list)
