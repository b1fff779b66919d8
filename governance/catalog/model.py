"""Desired catalog state from the declarative files and the dataset schemas, in a backend-neutral shape.

Backends read their live state into the same shape, so planning is one diff whatever the catalog is.
Entities are named by their logical name (`silver.customers`, `silver.customers.email`); each also
carries the qualified name Purview's scanner gives it, so the local catalog keeps the same identities.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

from governance.config import Dataset
from governance.project import Project

MARKER = "managed-by: smartflow-gov"
MARKER_KEY = "managed-by"
MARKER_VALUE = "smartflow-gov"

RESOURCE_SET = "azure_datalake_gen2_resource_set"
TABULAR_SCHEMA = "tabular_schema"
TABULAR_COLUMN = "column"
SYNAPSE_TABLE = "azure_synapse_dedicated_sql_table"
SYNAPSE_COLUMN = "azure_synapse_dedicated_sql_column"

_RULE_NAME = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")


def rule_name(name: str) -> str:
    """Purview rule names must match ^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$: every run of other characters
    (dots, underscores, spaces…) becomes one '-', leading/trailing ones are dropped.
    SMARTFLOW.EMAIL → SMARTFLOW-EMAIL, smartflow_credit card → smartflow-credit-card."""
    mapped = "-".join(p for p in re.split(r"[^A-Za-z0-9]+", name) if p)
    if not _RULE_NAME.fullmatch(mapped):
        raise ValueError(f"rule name {name!r} has no letters or digits")
    return mapped


@dataclass
class TermState:
    name: str
    glossary: str
    definition: str
    abbreviation: str | None = None
    long_description: str | None = None
    status: str = "Draft"
    parent: str | None = None
    stewards: tuple[str, ...] = ()
    experts: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    managed: bool = True
    guid: str | None = None

    @classmethod
    def from_fields(cls, d: dict[str, Any], managed: bool = True, guid: str | None = None) -> TermState:
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**values, managed=managed, guid=guid)

    def fields(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("managed", "guid"):
            d.pop(k)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class EntityState:
    name: str
    kind: Literal["dataset", "column"]
    type_name: str
    qualified_name: str
    dataset: str
    column: str | None = None
    data_type: str | None = None
    managed: bool = True
    guid: str | None = None

    def fields(self) -> dict[str, Any]:
        return {"type_name": self.type_name, "qualified_name": self.qualified_name}


@dataclass
class ClassificationTypeState:
    name: str
    description: str | None = None
    managed: bool = True

    def fields(self) -> dict[str, Any]:
        return {"description": self.description}


@dataclass
class RuleState:
    name: str  # the catalog name (see rule_name)
    source: str  # the name in the files
    label: str
    description: str | None = None
    column_patterns: tuple[str, ...] = ()
    data_patterns: tuple[str, ...] = ()
    minimum_match_percent: float = 60.0
    managed: bool = True

    def fields(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "label": self.label,
            "description": self.description,
            "column_patterns": list(self.column_patterns),
            "data_patterns": list(self.data_patterns),
            "minimum_match_percent": float(self.minimum_match_percent),
        }


@dataclass
class CatalogState:
    """Desired or live catalog content. Relations are keyed by logical names; the bool says managed."""

    glossaries: dict[str, bool] = field(default_factory=dict)
    terms: dict[str, TermState] = field(default_factory=dict)
    assignments: dict[tuple[str, str], bool] = field(default_factory=dict)  # (term, entity) -> managed
    entities: dict[str, EntityState] = field(default_factory=dict)
    classification_types: dict[str, ClassificationTypeState] = field(default_factory=dict)
    classifications: dict[tuple[str, str], bool] = field(default_factory=dict)  # (entity, label) -> managed
    rules: dict[str, RuleState] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def assigned(self, term: str) -> list[str]:
        return sorted(e for (t, e) in self.assignments if t == term)


# --- qualified names -------------------------------------------------------------------------------


def _lake_parts(project: Project) -> tuple[str, str, str]:
    """(account, container, prefix) of the lake: from an abfss:// root, else from catalog.purview."""
    root = project.config.lake.root
    pv = project.config.catalog.purview
    if root.startswith(("abfss://", "abfs://")):
        u = urlparse(root)
        container, _, host = (u.netloc or "").partition("@")
        account = host.split(".", 1)[0]
        return account, container, u.path.strip("/")
    account = (pv.storage_account if pv else None) or "local"
    container = (pv.container if pv else None) or "lake"
    return account, container, ""


def dataset_entity(project: Project, name: str, ds: Dataset) -> EntityState:
    """The entity Purview's scanner makes for a dataset: a resource set for lake tables, a Synapse
    dedicated SQL table for warehouse tables."""
    pv = project.config.catalog.purview
    if ds.format == "sql" and ds.table:
        server, database = "localhost", "default"
        conn = project.config.connections.get(ds.connection or "")
        if conn is not None and "${" not in conn.url:
            u = urlparse(conn.url)
            server = u.hostname or server
            database = u.path.strip("/") or database
        schema, _, table = ds.table.rpartition(".")
        pattern = pv.sql_qualified_name_pattern if pv else "mssql://{server}/{database}/{schema}/{table}"
        qn = pattern.format(server=server, database=database, schema=schema or "dbo", table=table)
        return EntityState(name, "dataset", SYNAPSE_TABLE, qn, name)
    account, container, prefix = _lake_parts(project)
    rel = (ds.path or (ds.table or name).replace(".", "/")).strip("/")
    if rel.startswith(("abfss://", "abfs://")):  # an absolute dataset URL names its own account
        u = urlparse(rel)
        container, _, host = (u.netloc or "").partition("@")
        account, prefix, rel = host.split(".", 1)[0], "", u.path.strip("/")
    path = f"{prefix}/{rel}" if prefix else rel
    pattern = (
        pv.qualified_name_pattern
        if pv
        else "https://{account}.dfs.core.windows.net/{container}/{path}/{{SparkPartitions}}"
    )
    qn = pattern.format(account=account, container=container, path=path)
    return EntityState(name, "dataset", RESOURCE_SET, qn, name)


def column_entity(parent: EntityState, column: str, data_type: str | None) -> EntityState:
    """Column entities: tabular-schema columns of a resource set, or the Synapse table's columns."""
    if parent.type_name == SYNAPSE_TABLE:
        return EntityState(
            f"{parent.name}.{column}",
            "column",
            SYNAPSE_COLUMN,
            f"{parent.qualified_name}#{column}",
            parent.name,
            column,
            data_type,
        )
    return EntityState(
        f"{parent.name}.{column}",
        "column",
        TABULAR_COLUMN,
        f"{tabular_schema_qn(parent.qualified_name)}/{column}",
        parent.name,
        column,
        data_type,
    )


def tabular_schema_qn(resource_set_qn: str) -> str:
    return f"{resource_set_qn}#__tabularSchema"


def all_entities(project: Project) -> dict[str, EntityState]:
    out: dict[str, EntityState] = {}
    for name, ds in sorted(project.config.datasets.items()):
        parent = dataset_entity(project, name, ds)
        out[name] = parent
        for col, typ in ds.columns.items():
            c = column_entity(parent, col, typ)
            out[c.name] = c
    return out


# --- desired state ---------------------------------------------------------------------------------


def desired_state(project: Project) -> CatalogState:
    """What the files say the catalog should hold (entities: every declared dataset and column)."""
    state = CatalogState(entities=all_entities(project))
    for g in project.glossaries:
        state.glossaries[g.glossary] = True
        for t in g.terms:
            state.terms[t.name] = TermState(
                name=t.name,
                glossary=g.glossary,
                definition=t.definition.strip(),
                abbreviation=t.abbreviation,
                long_description=(t.long_description or "").strip() or None,
                status=t.status,
                parent=t.parent,
                stewards=tuple(sorted(set(t.stewards))),
                experts=tuple(sorted(set(t.experts))),
                synonyms=tuple(sorted(set(t.synonyms))),
                related=tuple(sorted(set(t.related))),
                examples=tuple(t.examples),
            )
            for target in t.assigned_to:
                state.assignments[(t.name, target)] = True
    _symmetric(state.terms)
    for lb in project.labels:
        state.classification_types[lb.name] = ClassificationTypeState(lb.name, lb.description)
    for a in project.assignments:
        for label in a.table:
            state.classifications[(a.dataset, label)] = True
        for col, labels in a.columns.items():
            for label in labels:
                state.classifications[(f"{a.dataset}.{col}", label)] = True
    for r in project.rules:
        name = rule_name(r.name)
        state.rules[name] = RuleState(
            name=name,
            source=r.name,
            label=r.label,
            description=r.description,
            column_patterns=(r.column_pattern,) if r.column_pattern else (),
            data_patterns=(r.data_pattern,) if r.data_pattern else (),
            minimum_match_percent=float(r.minimum_match_percent),
        )
    targets = {target for (_, target) in state.assignments} | {
        entity for (entity, _) in state.classifications
    }
    unknown = targets - set(state.entities)
    for target in sorted(unknown):
        state.warnings.append(f"{target}: not a declared dataset or column of a declared schema; skipped")
    # skipped means skipped: an assignment to an entity the catalog will not hold cannot be planned
    state.assignments = {k: v for k, v in state.assignments.items() if k[1] not in unknown}
    state.classifications = {k: v for k, v in state.classifications.items() if k[0] not in unknown}
    return state


def _symmetric(terms: dict[str, TermState]) -> None:
    """Related terms and synonyms that name a declared term are relations both ways (as in Atlas,
    where seeAlso and synonyms are symmetric relationships), so both ends list each other."""
    for t in list(terms.values()):
        for attr in ("related", "synonyms"):
            for other in getattr(t, attr):
                o = terms.get(other)
                if o is not None and o.name != t.name and t.name not in getattr(o, attr):
                    setattr(o, attr, tuple(sorted({*getattr(o, attr), t.name})))


def glossary_coverage_percent(project: Project, state: CatalogState) -> float | None:
    """Share of gold columns that carry a glossary term (directly)."""
    gold = [
        e.name
        for e in state.entities.values()
        if e.kind == "column" and project.config.datasets[e.dataset].layer == "gold"
    ]
    if not gold:
        return None
    covered = {target for (_, target) in state.assignments}
    return round(100.0 * sum(1 for c in gold if c in covered) / len(gold), 2)
