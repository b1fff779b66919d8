"""glossary/*.yaml: business terms, hierarchy, stewards and assignments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from governance.specs.base import Spec

TermStatus = Literal["Draft", "Approved", "Alert", "Expired"]


class Term(Spec):
    name: str = Field(min_length=1)
    abbreviation: str | None = None
    definition: str = Field(min_length=1)
    long_description: str | None = None
    status: TermStatus = "Draft"
    parent: str | None = None
    stewards: list[str] = Field(default_factory=list)
    experts: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    assigned_to: list[str] = Field(default_factory=list, description="dataset or dataset.column")
    domain: str | None = Field(None, description="Unified Catalog governance domain (default: the file's)")

    @field_validator("stewards", "experts")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for e in v:
            if "@" not in e:
                raise ValueError(f"'{e}' is not an e-mail address")
        return v


class GlossaryFile(Spec):
    glossary: str = "SmartFlow"
    description: str | None = None
    domain: str | None = Field(None, description="Unified Catalog governance domain of the file's terms")
    terms: list[Term] = Field(default_factory=list)
