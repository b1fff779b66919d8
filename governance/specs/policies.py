"""policies/*.yaml: which roles may read data carrying each classification label, and who each role is."""

from __future__ import annotations

from pydantic import Field, field_validator

from governance.specs.base import Spec


class Policy(Spec):
    label: str
    allowed_roles: list[str] = Field(default_factory=list)
    description: str | None = None


class Principal(Spec):
    """Who a policy role is on each platform (values may use ${VAR})."""

    azure: list[str] = Field(
        default_factory=list,
        description="Entra object ids (users, groups, service principals) for Azure RBAC",
    )
    synapse: list[str] = Field(default_factory=list, description="principal ids for Synapse workspace roles")
    postgres: str | None = Field(None, description="the warehouse role name (default: the role's own name)")
    sql: list[str] = Field(
        default_factory=list, description="Synapse SQL database principal names (users, groups, roles)"
    )

    @field_validator("postgres", mode="before")
    @classmethod
    def _one_role(cls, v: object) -> object:
        if isinstance(v, list) and len(v) == 1:
            return v[0]
        return v


class PolicyFile(Spec):
    connection: str | None = Field(None, description="the warehouse whose grants are checked")
    principals: dict[str, Principal] = Field(
        default_factory=dict, description="a role name used in allowed_roles -> who it is on each platform"
    )
    policies: list[Policy] = Field(default_factory=list)
