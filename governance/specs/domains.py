"""domains/*.yaml: one Unified Catalog governance domain per file, with its data products and critical
data elements (SPEC §6.7). Loaded like every spec (ruamel line numbers, pydantic, FILE:LINE problems);
`cross_check` follows the references to datasets, columns, terms and other domains."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from governance.errors import Location
from governance.specs.base import Spec

DomainType = Literal["FunctionalUnit", "LineOfBusiness", "DataDomain", "Regulatory", "Project"]
ProductType = Literal[
    "Master",
    "Reference",
    "Analytical",
    "AI",
    "MasterDataAndReferenceData",
    "BusinessSystemOrApplication",
    "ModelTypes",
    "DashboardsOrReports",
    "Operational",
    "MLAITrainingDataSet",
    "MLAITestingDataSet",
    "TransactionalDataset",
    "AnalyticsModel",
    "SemanticModel",
]
UpdateFrequency = Literal["Hourly", "Daily", "Weekly", "Monthly", "Quarterly", "Yearly"]
DataType = Literal["TEXT", "NUMBER", "DATETIME", "BOOLEAN"]


def _emails(v: list[str]) -> list[str]:
    for e in v:
        if "@" not in e:
            raise ValueError(f"'{e}' is not an e-mail address")
    return v


Owners = Annotated[list[str], AfterValidator(_emails)]  # e-mail addresses (mapped through contacts)


class DataProduct(Spec):
    name: str = Field(min_length=1)
    type: ProductType = "Analytical"
    description: str = Field(min_length=1)
    business_use: str | None = None
    update_frequency: UpdateFrequency | None = None
    owners: Owners = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list, description="its data assets (logical dataset names)")
    terms: list[str] = Field(default_factory=list)


class CriticalDataElement(Spec):
    name: str = Field(min_length=1)
    data_type: DataType = "TEXT"
    description: str = Field(min_length=1)
    owners: Owners = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list, description="dataset.column")
    terms: list[str] = Field(default_factory=list)


class DomainFile(Spec):
    domain: str = Field(min_length=1)
    type: DomainType = "FunctionalUnit"
    description: str = Field(min_length=1)
    parent: str | None = None
    owners: Owners = Field(default_factory=list)
    data_products: list[DataProduct] = Field(default_factory=list)
    critical_data_elements: list[CriticalDataElement] = Field(default_factory=list)


Add = Callable[[Location, str], None]
At = Callable[..., Location]


def cross_check(
    domains: list[DomainFile],
    term_domains: dict[str, str | None],
    at: At,
    add: Add,
    column_ref: Callable[[str, Location, str], None],
    dataset_ref: Callable[[str, Location], bool],
    excused: Callable[[str, str], bool],
) -> None:
    """References of domain files: parent domains (no cycles), datasets, columns, terms; unique names.
    `term_domains` maps each glossary term to the domain its file places it in (None: no domain)."""
    names = {d.domain for d in domains}
    _unique(((d.domain, d.where) for d in domains), "domain", add)
    _unique(((p.name, p.where) for d in domains for p in d.data_products), "data product", add)
    _unique(
        ((c.name, c.where) for d in domains for c in d.critical_data_elements), "critical data element", add
    )
    parents = {d.domain: d.parent for d in domains}

    def term_refs(d: DomainFile, section: str, i: int, terms: list[str]) -> None:
        for j, t in enumerate(terms):
            if t not in term_domains and not excused("terms", t):
                add(at(d, section, i, "terms", j), f"unknown term '{t}'")

    for d in domains:
        if d.parent and d.parent not in names:
            add(at(d, "parent"), f"domain '{d.domain}': unknown parent domain '{d.parent}'")
        chain, cur = [d.domain], d.parent
        while cur and cur in parents and cur not in chain:
            chain.append(cur)
            cur = parents[cur]
        if cur == d.domain:
            add(at(d, "parent"), "cycle in the domain hierarchy: " + " -> ".join([*chain, d.domain]))
        for i, p in enumerate(d.data_products):
            for j, ds in enumerate(p.datasets):
                dataset_ref(ds, at(d, "data_products", i, "datasets", j))
            term_refs(d, "data_products", i, p.terms)
        for i, c in enumerate(d.critical_data_elements):
            for j, col in enumerate(c.columns):
                where = at(d, "critical_data_elements", i, "columns", j)
                if "." not in col:
                    add(where, f"critical data element '{c.name}': expected dataset.column, got '{col}'")
                else:
                    column_ref(col, where, f"critical data element '{c.name}'")
            term_refs(d, "critical_data_elements", i, c.terms)


def _unique(items: Iterable[tuple[str, Location]], what: str, add: Add) -> None:
    seen: dict[str, Location] = {}
    for name, where in items:
        key = name.lower()
        if key in seen:
            add(where, f"duplicate {what} '{name}' (first declared at {seen[key]})")
        else:
            seen[key] = where
