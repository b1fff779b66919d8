"""Desired Unified Catalog state from domains/*.yaml and the glossary, in a backend-neutral shape.

Objects are keyed by (kind, name); their `fields` name other objects by name (domain, parent), never by
id, so a plan reads the same on every backend. People are e-mail addresses by contact role (`owner`,
`expert`); the remote backend maps them to Entra object ids through catalog.purview.contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from governance.catalog.unified.ids import object_id
from governance.project import Project

ObjectKind = Literal["domain", "term", "data_product", "critical_data_element"]
TargetKind = Literal["term", "data_asset", "column", "synonym", "related"]
# the object kind a relationship's target is (a synonym or related term is a term)
TARGET_OBJECT = {"synonym": "term", "related": "term"}
OBJECT_KINDS: tuple[ObjectKind, ...] = ("domain", "term", "data_product", "critical_data_element")

MARKER_NAME = "managed-by"
MARKER_VALUE = "smartflow-gov"
MARKER = f"{MARKER_NAME}: {MARKER_VALUE}"

# glossary status → Unified Catalog status (Alert has no equivalent: PUBLISHED, with a warning)
STATUS = {"Draft": "DRAFT", "Approved": "PUBLISHED", "Expired": "EXPIRED", "Alert": "PUBLISHED"}


@dataclass
class Obj:
    kind: ObjectKind
    name: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)
    managed: bool = True


@dataclass(frozen=True, order=True)
class Rel:
    """A relationship from a data product or CDE to a term, a data asset (dataset) or a column, or from a
    term to another term as its `synonym` or `related` term."""

    source_kind: ObjectKind
    source: str
    target_kind: TargetKind
    target: str

    @property
    def name(self) -> str:
        return f"{self.source} -> {self.target_kind} {self.target}"


@dataclass
class UnifiedState:
    objects: dict[tuple[str, str], Obj] = field(default_factory=dict)
    relationships: dict[Rel, bool] = field(default_factory=dict)  # -> managed
    targets: set[tuple[str, str]] = field(default_factory=set)  # (target kind, name) that exist (live)
    warnings: list[str] = field(default_factory=list)

    def add(self, obj: Obj) -> None:
        self.objects[(obj.kind, obj.name)] = obj

    def of(self, kind: str) -> dict[str, Obj]:
        return {n: o for (k, n), o in self.objects.items() if k == kind}


def _people(emails: list[str], contacts: dict[str, str] | None, missing: set[str]) -> list[str]:
    if contacts is None:
        return sorted(set(emails))
    kept = sorted({e for e in emails if e.lower() in contacts})
    missing.update(e for e in emails if e.lower() not in contacts)
    return kept


def _contacts(
    owners: list[str], experts: list[str], contacts: dict[str, str] | None, missing: set[str]
) -> dict[str, list[str]]:
    out = {"owner": _people(owners, contacts, missing), "expert": _people(experts, contacts, missing)}
    return {k: v for k, v in out.items() if v}


SYNONYMS = "Synonyms: "


def _with_synonyms(definition: str, free: list[str]) -> str:
    """Synonyms that are not Unified Catalog terms have no field of their own: they end the description,
    as a last paragraph `Synonyms: A, B.` (searchable in the portal, compared like the rest of it)."""
    if not free:
        return definition
    return f"{definition}\n\n{SYNONYMS}{', '.join(free)}."


def term_domains(project: Project) -> dict[str, str | None]:
    """Each glossary term's domain: its own `domain:`, else its file's, else None."""
    return {t.name: t.domain or g.domain for g in project.glossaries for t in g.terms}


def desired_state(project: Project, kinds: set[str], contacts: dict[str, str] | None = None) -> UnifiedState:
    """What the files declare. `kinds`: "domains" (domains, products, CDEs, relationships) and/or
    "terms" (glossary terms with a domain, plus the domains they need). `contacts` (lower-cased e-mail →
    object id) leaves out people without an entry, with one warning each; None keeps every e-mail."""
    state = UnifiedState()
    pid = project.config.project
    missing: set[str] = set()
    domains = {d.domain: d for d in project.domain_files}
    wanted_domains = set(domains) if "domains" in kinds else set()
    term_dom = term_domains(project)
    if "terms" in kinds:
        wanted_domains |= {dom for dom in term_dom.values() if dom in domains}
    # a domain needs its parents
    for name in list(wanted_domains):
        cur = domains[name].parent
        while cur and cur in domains and cur not in wanted_domains:
            wanted_domains.add(cur)
            cur = domains[cur].parent
    for name in sorted(wanted_domains):
        d = domains[name]
        state.add(
            Obj(
                "domain",
                name,
                object_id(pid, "domain", name),
                {
                    "type": d.type,
                    "description": d.description.strip(),
                    "parent": d.parent,
                    "status": "PUBLISHED",
                    "contacts": _contacts(d.owners, [], contacts, missing),
                },
            )
        )
    if "terms" in kinds:
        for t in project.terms:
            dom = term_dom[t.name]
            if dom is None or dom not in domains:
                continue
            if t.status == "Alert":
                state.warnings.append(
                    f"term '{t.name}': status Alert has no Unified Catalog equivalent; PUBLISHED"
                )
            parent = t.parent
            if parent and term_dom.get(parent) != dom:
                state.warnings.append(
                    f"term '{t.name}': parent '{parent}' is in another domain; the Unified Catalog keeps a "
                    "hierarchy inside one domain, so it is written without a parent"
                )
                parent = None
            in_uc = {n for n, d in term_dom.items() if d in domains}
            free = [s for s in t.synonyms if s not in in_uc]
            for attr, kind in (("synonyms", "synonym"), ("related", "related")):
                for other in getattr(t, attr):
                    if other == t.name or (attr == "synonyms" and other not in in_uc):
                        continue
                    if other not in in_uc:
                        state.warnings.append(
                            f"term '{t.name}': related '{other}' is not a Unified Catalog term (no domain); "
                            "left out"
                        )
                        continue
                    # symmetric, as in the classic glossary: both ends list each other
                    state.relationships[Rel("term", t.name, kind, other)] = True  # type: ignore[arg-type]
                    state.relationships[Rel("term", other, kind, t.name)] = True  # type: ignore[arg-type]
            state.add(
                Obj(
                    "term",
                    t.name,
                    object_id(pid, "term", t.name),
                    {
                        "domain": dom,
                        "description": _with_synonyms(t.definition.strip(), free),
                        "status": STATUS[t.status],
                        "acronyms": [t.abbreviation] if t.abbreviation else [],
                        "parent": parent,
                        "contacts": _contacts(t.stewards, t.experts, contacts, missing),
                    },
                )
            )
    if "domains" in kinds:
        for d in project.domain_files:
            for p in d.data_products:
                state.add(
                    Obj(
                        "data_product",
                        p.name,
                        object_id(pid, "data_product", p.name),
                        {
                            "domain": d.domain,
                            "type": p.type,
                            "description": p.description.strip(),
                            "business_use": (p.business_use or "").strip() or None,
                            "update_frequency": p.update_frequency,
                            "status": "PUBLISHED",
                            "contacts": _contacts(p.owners, [], contacts, missing),
                        },
                    )
                )
                for term in p.terms:
                    state.relationships[Rel("data_product", p.name, "term", term)] = True
                for ds in p.datasets:
                    state.relationships[Rel("data_product", p.name, "data_asset", ds)] = True
            for c in d.critical_data_elements:
                state.add(
                    Obj(
                        "critical_data_element",
                        c.name,
                        object_id(pid, "critical_data_element", c.name),
                        {
                            "domain": d.domain,
                            "data_type": c.data_type,
                            "description": c.description.strip(),
                            "status": "PUBLISHED",
                            "contacts": _contacts(c.owners, [], contacts, missing),
                        },
                    )
                )
                for term in c.terms:
                    state.relationships[Rel("critical_data_element", c.name, "term", term)] = True
                for col in c.columns:
                    state.relationships[Rel("critical_data_element", c.name, "column", col)] = True
    for e in sorted(missing):
        state.warnings.append(f"{e}: no entry in catalog.purview.contacts; left out as a contact")
    return state
