"""Reading Purview's live state into the neutral `CatalogState`, keeping the raw JSON the writer needs.

What Purview computes or fills in is read so that a plan right after an apply is empty:
- a term's parent is its `parentTerm` (or, when only the read-only `hierarchyInfo` projection is there,
  the last ancestor it lists); `nickName` is the display name Purview fills with the term's own name and
  is never read as data;
- free-text synonyms (not terms of the glossary) are kept in the `smartflow` term template's `synonyms`
  attribute (see docs/catalog.md), term synonyms in the symmetric `synonyms` relation;
- a classification type without a description gets its name as description from Purview: read back as
  "no description";
- term assignments of the declared entities come with the entities (their `meanings`); the assignments of
  managed terms that left the files are paged through `/glossary/terms/{guid}/assignedEntities`;
- every list that can exceed a page is paged (glossaries, terms, assigned entities, search, rules).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from governance.catalog.backends.base import ProcessState
from governance.catalog.model import (
    MARKER,
    MARKER_KEY,
    MARKER_VALUE,
    SYNAPSE_TABLE,
    CatalogState,
    ClassificationTypeState,
    EntityState,
    RuleState,
    TermState,
)
from governance.catalog.purview.transport import PurviewHttp, chunks

PROCESS_TYPE = "smartflow_process"
MANAGED_ATTR = "managedBy"  # attribute of our classification types: marks the classifications we set
TERM_TEMPLATE = "smartflow"  # term template holding what Purview has no field for
SYNONYMS_ATTR = "synonyms"  # free-text synonyms, joined by SYNONYM_SEP
SYNONYM_SEP = "; "
RULE_MARK = "[" + MARKER + "; source: "
SYSTEM_PREFIX = "MICROSOFT."


@dataclass
class LiveJson:
    """Raw live objects from the last read, for the writer (guids, relationship guids, current lists)."""

    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> entity
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)  # term name -> term
    glossaries: dict[str, str] = field(default_factory=dict)  # name -> guid
    typedefs: dict[str, dict[str, Any]] = field(default_factory=dict)  # classification defs
    assign_rel: dict[tuple[str, str], str] = field(default_factory=dict)  # (term, entity) -> relation
    assigned: dict[str, list[dict[str, Any]]] = field(
        default_factory=dict
    )  # term -> assignments (left files)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_entities: dict[str, EntityState] = field(default_factory=dict)


def free_synonyms(term: dict[str, Any]) -> list[str]:
    text = ((term.get("attributes") or {}).get(TERM_TEMPLATE) or {}).get(SYNONYMS_ATTR) or ""
    return [s.strip() for s in str(text).split(SYNONYM_SEP.strip()) if s.strip()]


class Reader:
    def __init__(self, http: PurviewHttp, guid_batch: int, emails: dict[str, str]) -> None:
        self.http = http
        self.guid_batch = guid_batch
        self.emails = emails  # object id -> email
        self.raw = LiveJson()

    # --- entities --------------------------------------------------------------------------------
    def by_qualified_names(self, type_name: str, qns: list[str]) -> dict[str, Any]:
        """Entities (with referred entities) by qualified name, ≤ guid_batch names per request."""
        entities: list[dict[str, Any]] = []
        referred: dict[str, dict[str, Any]] = {}
        for chunk in chunks(sorted(set(qns)), self.guid_batch):
            params = [(f"attr_{i}:qualifiedName", qn) for i, qn in enumerate(chunk)]
            params.append(("minExtInfo", "false"))
            res = self.http.call(
                "GET",
                f"/atlas/v2/entity/bulk/uniqueAttribute/type/{type_name}",
                params=params,
                ok_missing=True,
            )
            if res:
                entities += res.get("entities") or []
                referred.update(res.get("referredEntities") or {})
        return {"entities": entities, "referredEntities": referred}

    def entities(self, desired: CatalogState, live: CatalogState) -> None:
        """The declared datasets that exist, with every column the catalog has for them (declared or not:
        a scanner-made column is a valid target for a term or a label)."""
        by_type: dict[str, list[EntityState]] = defaultdict(list)
        for e in desired.entities.values():
            if e.kind == "dataset":
                by_type[e.type_name].append(e)
        self.raw.entities = {}
        for type_name, items in sorted(by_type.items()):
            qn_to_name = {e.qualified_name: e.name for e in items}
            res = self.by_qualified_names(type_name, list(qn_to_name))
            referred = res["referredEntities"]
            for ent in res["entities"]:
                name = qn_to_name.get(ent.get("attributes", {}).get("qualifiedName"))
                if name is None or ent.get("status", "ACTIVE") == "DELETED":
                    continue
                self.raw.entities[ent["guid"]] = ent
                live.entities[name] = _entity_state(ent, name, "dataset", name)
                for col in _columns_of(ent, referred):
                    cname = col.get("attributes", {}).get("name")
                    if not cname:
                        continue
                    self.raw.entities[col["guid"]] = col
                    full = f"{name}.{cname}"
                    live.entities[full] = _entity_state(col, full, "column", name, cname)
        self.raw.last_entities = live.entities

    # --- glossary --------------------------------------------------------------------------------
    def glossary(self, desired: CatalogState, live: CatalogState) -> None:
        self.raw.glossaries = {}
        for g in self.http.offset_pages("/atlas/v2/glossary", {"ignoreTermsAndCategories": True}):
            self.raw.glossaries[g["name"]] = g["guid"]
            live.glossaries[g["name"]] = g.get("usage") == MARKER
        wanted = set(desired.glossaries) | {n for n, managed in live.glossaries.items() if managed}
        raw_terms: list[tuple[str, dict[str, Any]]] = []
        for gname in sorted(wanted & set(self.raw.glossaries)):
            for term in self.http.offset_pages(f"/atlas/v2/glossary/{self.raw.glossaries[gname]}/terms"):
                raw_terms.append((gname, term))
        names = {t["guid"]: t["name"] for _, t in raw_terms}
        self.raw.terms, self.raw.assign_rel, self.raw.assigned = {}, {}, {}
        for gname, t in raw_terms:
            self.raw.terms[t["name"]] = t
            live.terms[t["name"]] = self._term_state(gname, t, names)
        # assignments of declared entities: from the entities' meanings
        entity_names = {e.guid: e.name for e in live.entities.values() if e.guid}
        for guid, ent in self.raw.entities.items():
            ename = entity_names.get(guid)
            for m in ent.get("meanings") or []:
                term = names.get(m.get("termGuid", ""))
                if term is None or ename is None:
                    continue
                live.assignments[(term, ename)] = m.get("description") == MARKER
                if m.get("relationGuid"):
                    self.raw.assign_rel[(term, ename)] = m["relationGuid"]
        # managed terms that left the files: every assignment counts (expire, or remove before delete)
        for name, t in sorted(self.raw.terms.items()):
            if name in desired.terms or not live.terms[name].managed:
                continue
            assigned = self.assigned_entities(t["guid"])
            self.raw.assigned[name] = assigned
            for a in assigned:
                ename = entity_names.get(a.get("guid", ""))
                key = (name, ename or f"guid:{a.get('guid')}")
                attrs = ((a.get("relationshipAttributes") or {}).get("attributes")) or {}
                live.assignments[key] = attrs.get("description") == MARKER and ename is not None
                if ename and a.get("relationshipGuid"):
                    self.raw.assign_rel[key] = a["relationshipGuid"]

    def assigned_entities(self, term_guid: str) -> list[dict[str, Any]]:
        return [
            a
            for a in self.http.offset_pages(f"/atlas/v2/glossary/terms/{term_guid}/assignedEntities")
            if a.get("relationshipStatus", "ACTIVE") != "DELETED"
        ]

    def _term_state(self, glossary: str, t: dict[str, Any], names: dict[str, str]) -> TermState:
        def rel(key: str) -> list[str]:
            return [names.get(h.get("termGuid", ""), h.get("displayText", "")) for h in t.get(key) or []]

        contacts = t.get("contacts") or {}

        def people(role: str) -> tuple[str, ...]:
            return tuple(
                sorted(
                    self.emails.get(c.get("id", ""), c.get("info") or c.get("id", ""))
                    for c in contacts.get(role) or []
                )
            )

        parent = None
        if (t.get("parentTerm") or {}).get("termGuid"):
            parent = names.get(t["parentTerm"]["termGuid"])
        elif t.get("hierarchyInfo"):
            last = t["hierarchyInfo"][-1]
            parent = names.get(last.get("guid", ""), last.get("name"))
        return TermState(
            name=t["name"],
            glossary=glossary,
            definition=t.get("longDescription") or "",
            abbreviation=t.get("abbreviation"),
            long_description=t.get("usage"),
            status=t.get("status") or "Draft",
            parent=parent,
            stewards=people("Steward"),
            experts=people("Expert"),
            synonyms=tuple(sorted(set(rel("synonyms") + free_synonyms(t)))),
            related=tuple(sorted(set(rel("seeAlso")))),
            examples=tuple(t.get("examples") or []),
            managed=any(r.get("displayName") == MARKER for r in t.get("resources") or []),
            guid=t.get("guid"),
        )

    # --- classifications -------------------------------------------------------------------------
    def types(self, desired: CatalogState, live: CatalogState) -> None:
        res = self.http.call("GET", "/atlas/v2/types/typedefs", params={"type": "classification"}) or {}
        self.raw.typedefs = {}
        for d in res.get("classificationDefs") or []:
            name = d["name"]
            managed = (d.get("options") or {}).get(MARKER_KEY) == MARKER_VALUE
            self.raw.typedefs[name] = d
            if managed or name in desired.classification_types or not name.startswith(SYSTEM_PREFIX):
                want = desired.classification_types.get(name)
                desc = d.get("description") or None
                if desc == name and not (want and want.description == name):
                    desc = None  # filled in by Purview when none was given
                live.classification_types[name] = ClassificationTypeState(name, desc, managed)

    def classifications(self, desired: CatalogState, live: CatalogState) -> None:
        ours = set(desired.classification_types) | {
            n for n, t in live.classification_types.items() if t.managed
        }
        for e in live.entities.values():
            ent = self.raw.entities.get(e.guid or "", {})
            for c in ent.get("classifications") or []:
                label = c.get("typeName", "")
                if label in ours:
                    live.classifications[(e.name, label)] = (c.get("attributes") or {}).get(
                        MANAGED_ATTR
                    ) == MARKER_VALUE

    def rules(self, live: CatalogState) -> None:
        for r in self.http.next_link_pages("/classificationrules"):
            if r.get("kind") != "Custom":
                continue
            p = r.get("properties") or {}
            desc = p.get("description") or ""
            managed = RULE_MARK in desc
            source = desc.split(RULE_MARK, 1)[1].rstrip("]") if managed else r["name"]
            text = desc.split(RULE_MARK, 1)[0].strip() if managed else desc
            live.rules[r["name"]] = RuleState(
                name=r["name"],
                source=source,
                label=p.get("classificationName", ""),
                description=text or None,
                column_patterns=tuple(x.get("pattern", "") for x in p.get("columnPatterns") or []),
                data_patterns=tuple(x.get("pattern", "") for x in p.get("dataPatterns") or []),
                minimum_match_percent=float(p.get("minimumPercentageMatch") or 0),
                managed=managed,
            )

    # --- lineage processes -----------------------------------------------------------------------
    def processes(self, desired: dict[str, ProcessState]) -> dict[str, ProcessState]:
        qn_name = {e.qualified_name: e.name for e in self.raw.last_entities.values()}
        self.raw.processes = {}
        qns = {p.qualified_name for p in desired.values()}
        # managed processes of jobs that are gone: found by type through search (continuation token)
        query: dict[str, Any] = {"filter": {"entityType": PROCESS_TYPE}, "limit": 1000}
        while True:
            found = self.http.call("POST", "/search/query", body=query) or {}
            qns |= {v.get("qualifiedName") for v in found.get("value") or [] if v.get("qualifiedName")}
            if not found.get("continuationToken"):
                break
            query = {**query, "continuationToken": found["continuationToken"]}
        res = self.by_qualified_names(PROCESS_TYPE, sorted(q for q in qns if q))
        out: dict[str, ProcessState] = {}
        for ent in res["entities"]:
            if ent.get("status", "ACTIVE") == "DELETED":
                continue
            attrs = ent.get("attributes") or {}
            name = attrs.get("name", "")

            def names(key: str, attrs: dict[str, Any] = attrs) -> tuple[str, ...]:
                return tuple(
                    sorted(
                        qn_name.get(
                            (r.get("uniqueAttributes") or {}).get("qualifiedName", ""), r.get("guid", "")
                        )
                        for r in attrs.get(key) or []
                    )
                )

            self.raw.processes[name] = ent
            out[name] = ProcessState(
                name,
                attrs.get("qualifiedName", ""),
                names("inputs"),
                names("outputs"),
                attrs.get("columnMapping") or "[]",
                (ent.get("customAttributes") or {}).get(MARKER_KEY) == MARKER_VALUE,
            )
        return out


def _columns_of(ent: dict[str, Any], referred: dict[str, Any]) -> list[dict[str, Any]]:
    rel = ent.get("relationshipAttributes") or {}
    refs: list[Any] = []
    if ent.get("typeName") == SYNAPSE_TABLE:
        refs = rel.get("columns") or []
    else:
        schema = rel.get("tabular_schema")
        schema_ent = referred.get(schema.get("guid", "")) if isinstance(schema, dict) else None
        if schema_ent:
            refs = (schema_ent.get("relationshipAttributes") or {}).get("columns") or []
    out = []
    for ref in refs:
        col = referred.get(ref.get("guid", "")) if isinstance(ref, dict) else None
        if col and col.get("status", "ACTIVE") != "DELETED":
            out.append(col)
    return out


def _entity_state(
    ent: dict[str, Any],
    name: str,
    kind: Literal["dataset", "column"],
    dataset: str,
    column: str | None = None,
) -> EntityState:
    attrs = ent.get("attributes") or {}
    managed = (ent.get("customAttributes") or {}).get(MARKER_KEY) == MARKER_VALUE
    return EntityState(
        name,
        kind,
        ent.get("typeName", ""),
        attrs.get("qualifiedName", ""),
        dataset,
        column,
        attrs.get("data_type") or attrs.get("dataType"),
        managed,
        ent.get("guid"),
    )
