"""Applying a plan to Purview: classification types, entities, rules, terms, assignments, classifications,
lineage processes — in that order, so that every reference names something that exists.

Terms are written as Purview reads them back: the parent through `parentTerm: {termGuid}` (`hierarchyInfo`
is a read-only projection), no `nickName` of ours (it is the display name; a live one is kept), free-text
synonyms in the `smartflow` term template, term synonyms and related terms as relations. Creates that hit
409 (an earlier, interrupted run made the object) are re-read and converged. A change the plan shows is
never skipped: a target that cannot be found is an error.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

from governance.catalog.model import (
    MARKER,
    MARKER_KEY,
    MARKER_VALUE,
    RESOURCE_SET,
    SYNAPSE_TABLE,
    TABULAR_SCHEMA,
    CatalogState,
    EntityState,
    RuleState,
    TermState,
    tabular_schema_qn,
)
from governance.catalog.plan import Change
from governance.catalog.purview.read import (
    MANAGED_ATTR,
    PROCESS_TYPE,
    RULE_MARK,
    SYNONYM_SEP,
    SYNONYMS_ATTR,
    TERM_TEMPLATE,
    Reader,
)
from governance.catalog.purview.transport import Conflict, PurviewHttp, chunks
from governance.config import PurviewCatalog
from governance.errors import InfraError

SEMANTIC = "AtlasGlossarySemanticAssignment"
MARKER_LINK = {"displayName": MARKER, "url": "https://smartflow.example/governance"}
HIERARCHY = {"includeTermHierarchy": True}


def _string_attr(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "typeName": "string",
        "isOptional": True,
        "cardinality": "SINGLE",
        "isUnique": False,
        "isIndexable": False,
    }


class Writer:
    def __init__(
        self, http: PurviewHttp, cfg: PurviewCatalog, reader: Reader, contacts: dict[str, str]
    ) -> None:
        self.http = http
        self.cfg = cfg
        self.reader = reader
        self.raw = reader.raw
        self.contacts = contacts  # email (lower case) -> object id
        self._label_index: dict[str, list[str]] = {}
        self._deleted_relations: set[str] = set()
        self._template = False

    # --- the plan ----------------------------------------------------------------------------------
    def apply(self, changes: list[Change], desired: CatalogState, live: CatalogState) -> None:
        by: dict[tuple[str, str], list[Change]] = defaultdict(list)
        for c in changes:
            if c.action != "noop":
                by[(c.kind, c.action)].append(c)
        types = by[("classification_type", "create")] + by[("classification_type", "update")]
        if types:  # first: new entities can then carry their classifications from the start
            self._write_types(types, desired)
            self.raw.typedefs.update({c.name: self._classification_def(c.name, desired) for c in types})
        if by[("entity", "create")]:
            self._create_entities([desired.entities[c.name] for c in by[("entity", "create")]], desired)
            fresh = CatalogState()
            self.reader.entities(desired, fresh)
            live.entities = fresh.entities
        for c in by[("rule", "create")] + by[("rule", "update")]:
            self._put_rule(desired.rules[c.name])
        terms = by[("term", "create")] + by[("term", "update")]
        if terms:
            self._write_terms(terms, desired)
        self._write_assignments(by[("assignment", "create")], by[("assignment", "delete")], live)
        if by[("classification", "create")] or by[("classification", "delete")]:
            deletes = by[("classification", "delete")]
            forced = {(c.before["entity"], c.before["label"]) for c in deletes if c.note == "forced"}
            targets = {c.after["entity"] for c in by[("classification", "create")]}
            self._write_classifications(desired, live, forced, targets)
        for c in by[("rule", "delete")]:
            self.http.call("DELETE", f"/classificationrules/{c.name}", plane="scan", ok_missing=True)
        for c in by[("term", "delete")]:
            self._delete_term(c.name)
        if by[("classification_type", "delete")]:
            body = {"classificationDefs": [{"name": c.name} for c in by[("classification_type", "delete")]]}
            self.http.call("DELETE", "/atlas/v2/types/typedefs", body=body)
        gone = [live.entities[c.name].guid for c in by[("entity", "delete")] if live.entities[c.name].guid]
        for chunk in chunks([g for g in gone if g], self.cfg.guid_batch):
            self.http.call("DELETE", "/atlas/v2/entity/bulk", params={"guid": chunk})

    # --- entities ----------------------------------------------------------------------------------
    def _entity_body(self, e: EntityState, desired: CatalogState) -> list[dict[str, Any]]:
        marker = {MARKER_KEY: MARKER_VALUE}
        if e.kind == "dataset":
            body: dict[str, Any] = {
                "typeName": e.type_name,
                "attributes": {"qualifiedName": e.qualified_name, "name": e.name.rsplit(".", 1)[-1]},
                "customAttributes": marker,
            }
            self._with_classifications(body, e.name)
            if e.type_name == RESOURCE_SET:
                schema_qn = tabular_schema_qn(e.qualified_name)
                body["relationshipAttributes"] = {
                    "tabular_schema": {
                        "typeName": TABULAR_SCHEMA,
                        "uniqueAttributes": {"qualifiedName": schema_qn},
                    }
                }
                schema = {
                    "typeName": TABULAR_SCHEMA,
                    "attributes": {"qualifiedName": schema_qn, "name": "tabular_schema"},
                    "customAttributes": marker,
                }
                return [schema, body]
            return [body]
        parent = desired.entities[e.dataset]
        if parent.type_name == SYNAPSE_TABLE:
            rel = {
                "table": {
                    "typeName": SYNAPSE_TABLE,
                    "uniqueAttributes": {"qualifiedName": parent.qualified_name},
                }
            }
        else:
            schema_ref = {"qualifiedName": tabular_schema_qn(parent.qualified_name)}
            rel = {"composeSchema": {"typeName": TABULAR_SCHEMA, "uniqueAttributes": schema_ref}}
        attrs = {"qualifiedName": e.qualified_name, "name": e.column or e.name}
        if e.data_type:
            attrs["data_type"] = e.data_type
        body = {
            "typeName": e.type_name,
            "attributes": attrs,
            "relationshipAttributes": rel,
            "customAttributes": marker,
        }
        return [self._with_classifications(body, e.name)]

    def _with_classifications(self, body: dict[str, Any], name: str) -> dict[str, Any]:
        """A new entity carries its declared labels (saves a setClassifications) when the types exist."""
        labels = sorted(lb for lb in self._label_index.get(name, []) if lb in self.raw.typedefs)
        if labels:
            body["classifications"] = [
                {"typeName": lb, "attributes": {MANAGED_ATTR: MARKER_VALUE}} for lb in labels
            ]
        return body

    def _create_entities(self, entities: list[EntityState], desired: CatalogState) -> None:
        """Datasets (with their tabular schema) first, then columns, in bulk batches."""
        self._label_index = defaultdict(list)
        for ent, lb in desired.classifications:
            self._label_index[ent].append(lb)
        first = [b for e in entities if e.kind == "dataset" for b in self._entity_body(e, desired)]
        second = [b for e in entities if e.kind == "column" for b in self._entity_body(e, desired)]
        params = {"collectionId": self.cfg.collection} if self.cfg.collection else None
        for group in (first, second):
            for chunk in chunks(group, self.cfg.entity_batch):
                self.http.call("POST", "/atlas/v2/entity/bulk", body={"entities": chunk}, params=params)

    # --- classification types and rules ------------------------------------------------------------
    def _classification_def(self, name: str, desired: CatalogState) -> dict[str, Any]:
        d = desired.classification_types[name]
        body: dict[str, Any] = {
            "name": name,
            "category": "CLASSIFICATION",
            "options": {MARKER_KEY: MARKER_VALUE},
            "attributeDefs": [_string_attr(MANAGED_ATTR)],
        }
        if d.description:
            body["description"] = d.description
        return body

    def _write_types(self, changes: list[Change], desired: CatalogState) -> None:
        have = self.raw.typedefs
        creates = [self._classification_def(c.name, desired) for c in changes if c.name not in have]
        updates = [self._classification_def(c.name, desired) for c in changes if c.name in have]
        if creates:
            try:
                self.http.call("POST", "/atlas/v2/types/typedefs", body={"classificationDefs": creates})
            except Conflict:
                updates += creates  # made meanwhile (an interrupted run): update instead
        if updates:
            self.http.call("PUT", "/atlas/v2/types/typedefs", body={"classificationDefs": updates})

    def _put_rule(self, r: RuleState) -> None:
        props: dict[str, Any] = {
            "description": f"{r.description or ''} {RULE_MARK}{r.source}]".strip(),
            "classificationName": r.label,
            "ruleStatus": "Enabled",
            "minimumPercentageMatch": r.minimum_match_percent,
            "columnPatterns": [{"kind": "Regex", "pattern": p} for p in r.column_patterns],
            "dataPatterns": [{"kind": "Regex", "pattern": p} for p in r.data_patterns],
        }
        self.http.call(
            "PUT",
            f"/classificationrules/{r.name}",
            body={"kind": "Custom", "properties": props},
            plane="scan",
        )

    # --- terms -------------------------------------------------------------------------------------
    def _ensure_glossary(self, name: str) -> str:
        if name not in self.raw.glossaries:
            try:
                body = {"name": name, "qualifiedName": name, "usage": MARKER}
                self.raw.glossaries[name] = self.http.call("POST", "/atlas/v2/glossary", body=body)["guid"]
            except Conflict:
                for g in self.http.offset_pages("/atlas/v2/glossary", {"ignoreTermsAndCategories": True}):
                    self.raw.glossaries[g["name"]] = g["guid"]
        return self.raw.glossaries[name]

    def _ensure_template(self) -> None:
        """The `smartflow` term template (one string attribute, `synonyms`), made once when needed."""
        if self._template:
            return
        path = f"/atlas/v2/types/typedef/name/{TERM_TEMPLATE}"
        if self.http.call("GET", path, ok_missing=True) is None:
            body = {
                "termTemplateDefs": [
                    {
                        "name": TERM_TEMPLATE,
                        "category": "TERM_TEMPLATE",
                        "description": "Term attributes kept by smartflow-gov",
                        "options": {MARKER_KEY: MARKER_VALUE},
                        "attributeDefs": [_string_attr(SYNONYMS_ATTR)],
                    }
                ]
            }
            with contextlib.suppress(Conflict):  # made meanwhile
                self.http.call("POST", "/atlas/v2/types/typedefs", body=body)
        self._template = True

    def _term_body(
        self, t: TermState, guids: dict[str, str], names: set[str], relations: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": t.name,
            "anchor": {"glossaryGuid": self._ensure_glossary(t.glossary)},
            "longDescription": t.definition,
            "status": t.status,
            "resources": [dict(MARKER_LINK)],
        }
        nick = (self.raw.terms.get(t.name) or {}).get("nickName")
        if nick:  # the display name: Purview's (or a person's), never ours to change
            body["nickName"] = nick
        if t.abbreviation:
            body["abbreviation"] = t.abbreviation
        if t.long_description:
            body["usage"] = t.long_description
        if t.examples:
            body["examples"] = list(t.examples)
        if t.parent:
            if t.parent not in guids:
                raise InfraError(f"purview: parent term {t.parent} of {t.name} does not exist")
            body["parentTerm"] = {"termGuid": guids[t.parent]}
        contacts = {
            role: [{"id": self.contacts[e.lower()], "info": e} for e in people]
            for role, people in (("Steward", t.stewards), ("Expert", t.experts))
            if people
        }
        if contacts:
            body["contacts"] = contacts
        free = sorted(s for s in t.synonyms if s not in names)
        if free:
            self._ensure_template()
            body["attributes"] = {TERM_TEMPLATE: {SYNONYMS_ATTR: SYNONYM_SEP.join(free)}}
        if relations:
            syn = [{"termGuid": guids[s], "displayText": s} for s in t.synonyms if s in names]
            rel = [{"termGuid": guids[s], "displayText": s} for s in t.related if s in names]
            if syn:
                body["synonyms"] = syn
            if rel:
                body["seeAlso"] = rel
        return body

    def _write_terms(self, changes: list[Change], desired: CatalogState) -> None:
        guids = {n: t["guid"] for n, t in self.raw.terms.items()}
        names = set(desired.terms)
        creates = [c for c in changes if c.name not in guids]

        def has_relations(t: TermState) -> bool:
            return any(s in names for s in t.synonyms + t.related)

        # level by level, so that a child's parentTerm names an existing term
        pending = {c.name: desired.terms[c.name] for c in creates}
        while pending:
            level = [t for t in pending.values() if not t.parent or t.parent not in pending]
            if not level:
                raise InfraError("purview: the term hierarchy has a cycle: " + ", ".join(sorted(pending)))
            for chunk in chunks(sorted(level, key=lambda t: t.name), self.cfg.entity_batch):
                bodies = [self._term_body(t, guids, names, relations=False) for t in chunk]
                try:
                    res = self.http.call("POST", "/atlas/v2/glossary/terms", body=bodies, params=HIERARCHY)
                except Conflict:
                    res = self._converge_terms(chunk, guids, names)
                for t in res or []:
                    guids[t["name"]] = t["guid"]
            for t in level:
                pending.pop(t.name, None)
        # full updates: changed terms, and new terms that relate to other terms
        for c in changes:
            d = desired.terms.get(c.name)
            if d is None:  # a term that left the files and is still assigned: expire it
                body = {"status": c.after.get("status", "Expired")}
                self.http.call(
                    "PUT", f"/atlas/v2/glossary/term/{guids[c.name]}/partial", body=body, params=HIERARCHY
                )
                continue
            if c in creates and not has_relations(d):
                continue
            body = {**self._term_body(d, guids, names, relations=True), "guid": guids[c.name]}
            self.http.call("PUT", f"/atlas/v2/glossary/term/{guids[c.name]}", body=body, params=HIERARCHY)
        for n, g in guids.items():
            self.raw.terms[n] = {**self.raw.terms.get(n, {}), "name": n, "guid": g}

    def _converge_terms(
        self, chunk: list[TermState], guids: dict[str, str], names: set[str]
    ) -> list[dict[str, Any]]:
        """A batch hit 'already exists' (an earlier, interrupted run made some): re-read, create the rest."""
        out: list[dict[str, Any]] = []
        for gname in sorted({t.glossary for t in chunk}):
            path = f"/atlas/v2/glossary/{self._ensure_glossary(gname)}/terms"
            out += [{"name": t["name"], "guid": t["guid"]} for t in self.http.offset_pages(path)]
        existing = {t["name"] for t in out}
        rest = [t for t in chunk if t.name not in existing]
        if rest:
            bodies = [self._term_body(t, guids, names, relations=False) for t in rest]
            out += self.http.call("POST", "/atlas/v2/glossary/terms", body=bodies, params=HIERARCHY) or []
        return out

    def _delete_term(self, name: str) -> None:
        term = self.raw.terms.get(name, {})
        if not term.get("guid"):
            return
        # forced: a term cannot be deleted while assigned, so every assignment goes first
        left = [
            {k: a[k] for k in ("guid", "typeName", "relationshipGuid") if k in a}
            for a in self.raw.assigned.get(name, [])
            if a.get("relationshipGuid") not in self._deleted_relations
        ]
        for chunk in chunks(left, self.cfg.entity_batch):
            self.http.call(
                "DELETE",
                f"/atlas/v2/glossary/terms/{term['guid']}/assignedEntities",
                body=chunk,
                ok_missing=True,
            )
        self.http.call("DELETE", f"/atlas/v2/glossary/term/{term['guid']}", ok_missing=True)

    # --- assignments -------------------------------------------------------------------------------
    def _write_assignments(self, creates: list[Change], deletes: list[Change], live: CatalogState) -> None:
        guids = {n: t["guid"] for n, t in self.raw.terms.items()}
        entity = live.entities
        adds: dict[str, list[str]] = defaultdict(list)
        for c in creates:
            adds[c.after["term"]].append(c.after["entity"])
        for term, targets in sorted(adds.items()):
            missing = [t for t in targets if t not in entity or not entity[t].guid]
            if missing:
                raise InfraError(
                    f"purview: cannot assign {term}: {', '.join(sorted(missing))} not in the catalog"
                )
            body = [
                {
                    "guid": entity[t].guid,
                    "typeName": entity[t].type_name,
                    "relationshipType": SEMANTIC,
                    "relationshipAttributes": {"typeName": SEMANTIC, "attributes": {"description": MARKER}},
                }
                for t in sorted(targets)
            ]
            for chunk in chunks(body, self.cfg.entity_batch):
                try:
                    self.http.call(
                        "POST", f"/atlas/v2/glossary/terms/{guids[term]}/assignedEntities", body=chunk
                    )
                except Conflict:
                    self._converge_assignments(guids[term], chunk)
        dels: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in deletes:
            term, target = c.before["term"], c.before["entity"]
            rel = self.raw.assign_rel.get((term, target))
            if rel and target in entity and term in guids:
                dels[term].append(
                    {
                        "guid": entity[target].guid,
                        "typeName": entity[target].type_name,
                        "relationshipGuid": rel,
                    }
                )
        for term, body in sorted(dels.items()):
            for chunk in chunks(body, self.cfg.entity_batch):
                path = f"/atlas/v2/glossary/terms/{guids[term]}/assignedEntities"
                self.http.call("DELETE", path, body=chunk, ok_missing=True)
                self._deleted_relations |= {a["relationshipGuid"] for a in chunk}

    def _converge_assignments(self, term_guid: str, chunk: list[dict[str, Any]]) -> None:
        have = {a.get("guid") for a in self.reader.assigned_entities(term_guid)}
        rest = [a for a in chunk if a["guid"] not in have]
        if rest:
            self.http.call("POST", f"/atlas/v2/glossary/terms/{term_guid}/assignedEntities", body=rest)

    # --- classifications ---------------------------------------------------------------------------
    def _write_classifications(
        self, desired: CatalogState, live: CatalogState, forced: set[tuple[str, str]], targets: set[str]
    ) -> None:
        """Per entity: keep what others set (scanner, UI), and make ours exactly the declared labels.
        `forced` (entity, label) pairs are removed even though someone else set them (--prune --force)."""
        ours = set(desired.classification_types) | {
            n for n, t in live.classification_types.items() if t.managed
        }
        wanted: dict[str, set[str]] = defaultdict(set)
        for entity, label in desired.classifications:
            wanted[entity].add(label)
        missing = sorted(targets - {e.name for e in live.entities.values() if e.guid})
        if missing:
            raise InfraError(f"purview: cannot classify {', '.join(missing)}: not in the catalog")

        def is_mine(c: dict[str, Any]) -> bool:
            return (c.get("attributes") or {}).get(MANAGED_ATTR) == MARKER_VALUE and c["typeName"] in ours

        headers: dict[str, Any] = {}
        for e in live.entities.values():
            if not e.guid:
                continue
            current = self.raw.entities.get(e.guid, {}).get("classifications") or []
            mine = {c["typeName"] for c in current if is_mine(c)}
            kept = [
                {k: v for k, v in c.items() if k in ("typeName", "attributes")}
                for c in current
                if not is_mine(c) and (e.name, c["typeName"]) not in forced
            ]
            dropped = any((e.name, c["typeName"]) in forced for c in current)
            target = wanted.get(e.name, set()) - {c["typeName"] for c in kept}
            if mine == target and not dropped:
                continue
            classes = kept + [
                {"typeName": lb, "attributes": {MANAGED_ATTR: MARKER_VALUE}} for lb in sorted(target)
            ]
            headers[e.guid] = {
                "typeName": e.type_name,
                "attributes": {"qualifiedName": e.qualified_name},
                "classifications": classes,
            }
        for chunk in chunks(sorted(headers.items()), self.cfg.entity_batch):
            self.http.call(
                "POST", "/atlas/v2/entity/bulk/setClassifications", body={"guidHeaderMap": dict(chunk)}
            )

    # --- lineage processes -------------------------------------------------------------------------
    def _ensure_process_type(self) -> None:
        if self.http.call("GET", f"/atlas/v2/types/typedef/name/{PROCESS_TYPE}", ok_missing=True) is not None:
            return
        body = {
            "entityDefs": [
                {
                    "name": PROCESS_TYPE,
                    "category": "ENTITY",
                    "superTypes": ["Process"],
                    "description": "A SmartFlow pipeline job (lineage pushed by smartflow-gov)",
                    "options": {MARKER_KEY: MARKER_VALUE},
                    "attributeDefs": [_string_attr("columnMapping")],
                }
            ]
        }
        with contextlib.suppress(Conflict):  # made meanwhile
            self.http.call("POST", "/atlas/v2/types/typedefs", body=body)

    def apply_processes(self, changes: list[Change], desired: dict[str, Any], entities: CatalogState) -> None:
        todo = [c for c in changes if c.kind == "process" and c.action != "noop"]
        if not todo:
            return
        self._ensure_process_type()

        def ref(name: str) -> dict[str, Any]:
            e = entities.entities[name]
            return {"typeName": e.type_name, "uniqueAttributes": {"qualifiedName": e.qualified_name}}

        bodies = []
        for c in todo:
            if c.action == "delete":
                continue
            p = desired[c.name]
            bodies.append(
                {
                    "typeName": PROCESS_TYPE,
                    "attributes": {
                        "qualifiedName": p.qualified_name,
                        "name": p.name,
                        "inputs": [ref(n) for n in p.inputs if n in entities.entities],
                        "outputs": [ref(n) for n in p.outputs if n in entities.entities],
                        "columnMapping": p.column_mapping,
                    },
                    "customAttributes": {MARKER_KEY: MARKER_VALUE},
                }
            )
        for chunk in chunks(bodies, self.cfg.entity_batch):
            self.http.call("POST", "/atlas/v2/entity/bulk", body={"entities": chunk})
        gone = [
            self.raw.processes[c.name]["guid"]
            for c in todo
            if c.action == "delete" and c.name in self.raw.processes
        ]
        for chunk in chunks(gone, self.cfg.guid_batch):
            self.http.call("DELETE", "/atlas/v2/entity/bulk", params={"guid": chunk})
