"""The sync JSON of SPEC §4 (`sync-glossary`, `sync-classifications`, `sync-domains`, `catalog drift`,
`lineage push`) as typed models.

Built by `governance.catalog.plan.Plan.result`; `dump()` gives the JSON the CLI prints: field order is the
output's order, and optional fields appear only when they were set (`note` on a change that has one,
`managed: false` on an object people made, `drift` on a drift item; `kind`, `applied`, `pruned`,
`seconds` on a sync, `drift` on a drift report, `processes` on a lineage push). `before` and `after`
are the catalog object's fields as the backend reads them. Unknown keys are kept (`extra="allow"`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Action = Literal["create", "update", "delete", "noop"]
Kind = Literal[
    "term",
    "assignment",
    "classification_type",
    "classification",
    "entity",
    "rule",
    "process",
    # Unified Catalog (SPEC §6.7)
    "domain",
    "data_product",
    "critical_data_element",
    "relationship",
]
DriftClass = Literal["changed", "missing", "orphaned", "unmanaged"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class SyncChange(_Model):
    action: Action
    kind: Kind
    name: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str | None = None
    managed: bool | None = None  # set (False) only for an object the tool did not make
    drift: DriftClass | None = None


class SyncSummary(_Model):
    create: int
    update: int
    delete: int
    noop: int


class SyncRequests(_Model):
    read: int
    write: int


class SyncResult(_Model):
    backend: str  # local | purview | …, "+unified" when the Unified Catalog took part
    changes: list[SyncChange]
    summary: SyncSummary
    requests: SyncRequests
    warnings: list[str]
    kind: str | None = None  # glossary | classifications | domains | lineage
    applied: bool | None = None
    pruned: bool | None = None
    seconds: float | None = None
    drift: int | None = None  # catalog drift: how many items
    processes: int | None = None  # lineage push: how many jobs
