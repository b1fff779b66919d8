"""policies/*.yaml: which warehouse roles may read data carrying each classification label."""

from __future__ import annotations

from pydantic import Field

from governance.specs.base import Spec


class Policy(Spec):
    label: str
    allowed_roles: list[str] = Field(default_factory=list)
    description: str | None = None


class PolicyFile(Spec):
    connection: str | None = Field(None, description="the warehouse whose grants are checked")
    policies: list[Policy] = Field(default_factory=list)
