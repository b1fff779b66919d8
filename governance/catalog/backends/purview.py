"""Microsoft Purview backend: the Data Map data plane (`{endpoint}/datamap/api`, api-version 2023-09-01)
through the azure-purview-datamap client's azure-core pipeline, plus the scanning plane
(`{endpoint}/scan/classificationrules`) for detection rules.

Requests go through `DataMapClient.send_request` with JSON bodies shaped by the published REST contract
(the typed `batch_get_by_unique_attributes` of 1.0.0b2 can only send one literal `attr_N:qualifiedName`,
so bulk reads by qualified name need the raw request). The pipeline carries authentication
(DefaultAzureCredential, scope https://purview.azure.net/.default, or a static SMARTFLOW_AZURE_TOKEN),
azure-core's RetryPolicy (429 Retry-After honoured, 5xx and dropped connections retried with exponential
backoff, POST included because every write here is safe to repeat: bulk entity writes upsert by qualified
name, setClassifications sets, and creates that hit "already exists" are re-read and converged), and a
policy that keeps the operations-per-second budget and counts each request (retries included).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlparse

from governance.azure.credential import credential
from governance.catalog.backends.base import CatalogBackend, ProcessState
from governance.catalog.model import (
    MARKER,
    MARKER_KEY,
    MARKER_VALUE,
    RESOURCE_SET,
    SYNAPSE_TABLE,
    TABULAR_SCHEMA,
    CatalogState,
    ClassificationTypeState,
    EntityState,
    RuleState,
    TermState,
    tabular_schema_qn,
)
from governance.catalog.plan import Change
from governance.config import PurviewCatalog, check_endpoint, expand_env
from governance.errors import InfraError, InputError
from governance.project import Project

log = logging.getLogger(__name__)

API_VERSION = "2023-09-01"
SCOPE = "https://purview.azure.net/.default"
PROCESS_TYPE = "smartflow_process"
MANAGED_ATTR = "managedBy"  # attribute of our classification types: marks the classifications we set
SEMANTIC = "AtlasGlossarySemanticAssignment"
MARKER_LINK = {"displayName": MARKER, "url": "https://smartflow.example/governance"}
_RULE_MARK = "[" + MARKER + "; source: "
SYSTEM_PREFIX = "MICROSOFT."


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _BudgetAndCount:
    """Per-attempt policy: waits to stay within the ops/second budget and counts reads and writes."""

    def __init__(self, backend: PurviewBackend, per_second: float) -> None:
        self.backend = backend
        self.interval = 1.0 / per_second
        self.next_at = 0.0
        self.lock = threading.Lock()

    def on_request(self, request: Any) -> None:
        with self.lock:
            now = time.monotonic()
            wait = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if wait > 0:
            time.sleep(wait)
        http = request.http_request
        if http.method.upper() == "GET" or "/search/query" in http.url:  # a search is a read
            self.backend.requests.read += 1
        else:
            self.backend.requests.write += 1


class PurviewBackend(CatalogBackend):
    def __init__(self, project: Project) -> None:
        super().__init__("purview")
        cfg = project.config.catalog.purview
        if cfg is None:
            raise InputError("catalog.backend is purview but catalog.purview is missing")
        self.project = project
        self.cfg: PurviewCatalog = cfg
        self.endpoint = check_endpoint(expand_env(cfg.endpoint, cfg.where), cfg.where).rstrip("/")
        self.contacts = {k.lower(): v for k, v in cfg.contacts.items()}
        self.emails = {v: k for k, v in cfg.contacts.items()}
        self.warnings: list[str] = []
        self._client: Any = None
        # live details the neutral state does not carry, kept from the last read
        self._entity_json: dict[str, dict[str, Any]] = {}  # guid -> entity
        self._term_json: dict[str, dict[str, Any]] = {}  # term name -> term
        self._glossary_guid: dict[str, str] = {}
        self._typedefs: dict[str, dict[str, Any]] = {}
        self._assign_rel: dict[tuple[str, str], str] = {}  # (term, entity) -> relationship guid
        self._all_assigned: dict[str, int] = {}
        self._normalized = False
        self._last_entities: dict[str, EntityState] = {}
        self._process_json: dict[str, dict[str, Any]] = {}
        self._deleted_relations: set[str] = set()
        self._label_index: dict[str, list[str]] = {}

    # --- transport ---------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            from azure.core.pipeline import policies
            from azure.purview.datamap import DataMapClient

            cred = credential()
            retry = policies.RetryPolicy(
                retry_total=self.cfg.max_retries,
                retry_connect=self.cfg.max_retries,
                retry_read=self.cfg.max_retries,
                retry_status=self.cfg.max_retries,
                retry_backoff_factor=self.cfg.retry_backoff,
                retry_backoff_max=60,
            )
            self._client = DataMapClient(
                self.endpoint,
                cred,
                policies=[
                    policies.RequestIdPolicy(),
                    policies.HeadersPolicy(),
                    policies.UserAgentPolicy("smartflow-gov"),
                    retry,
                    _budget_policy(_BudgetAndCount(self, self.cfg.operations_per_second)),
                    policies.BearerTokenCredentialPolicy(cred, SCOPE),
                    policies.NetworkTraceLoggingPolicy(),
                ],
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        plane: str = "datamap",
        ok_missing: bool = False,
    ) -> Any:
        """One request; returns parsed JSON (None on 204/empty, or on 404 when `ok_missing`)."""
        from azure.core.exceptions import AzureError, HttpResponseError
        from azure.core.rest import HttpRequest

        base = f"{self.endpoint}/datamap/api" if plane == "datamap" else f"{self.endpoint}/scan"
        query: list[tuple[str, str]] = [("api-version", API_VERSION)]
        if isinstance(params, dict):
            for k, v in params.items():
                for item in v if isinstance(v, list) else [v]:
                    query.append((k, str(item).lower() if isinstance(item, bool) else str(item)))
        elif params:
            query += params
        from urllib.parse import urlencode

        url = f"{base}{path}?{urlencode(query)}"
        request = HttpRequest(method, url, json=body) if body is not None else HttpRequest(method, url)
        insecure = urlparse(self.endpoint).scheme == "http"
        try:
            response = self.client.send_request(
                request,
                enforce_https=not insecure,
                retry_on_methods=frozenset({"GET", "PUT", "DELETE", "POST"}),  # every write is safe to repeat
                connection_timeout=self.cfg.timeout,
                read_timeout=self.cfg.timeout,
            )
            if response.status_code == 404 and ok_missing:
                return None
            response.raise_for_status()
        except HttpResponseError as exc:
            status = exc.status_code or 0
            if status == 409:
                raise _Conflict(str(exc)) from exc
            raise InfraError(f"purview: {method} {path} failed: {status} {_short(exc)}") from exc
        except AzureError as exc:
            raise InfraError(f"purview: {method} {path} unreachable after retries: {exc}") from exc
        text = response.text()
        return json.loads(text) if text.strip() else None

    # --- normalise desired for what Purview can hold ----------------------------------------------
    def normalize(self, desired: CatalogState) -> None:
        """Stewards/experts without an Entra object id in catalog.purview.contacts are left out, with a
        warning; a missing entry is never an error."""
        missing: set[str] = set()
        for t in desired.terms.values():
            for attr in ("stewards", "experts"):
                emails = getattr(t, attr)
                kept = tuple(e for e in emails if e.lower() in self.contacts)
                missing |= set(emails) - set(kept)
                setattr(t, attr, kept)
        for e in sorted(missing):
            self.warnings.append(f"{e}: no entry in catalog.purview.contacts; left out as steward/expert")

    # --- read --------------------------------------------------------------------------------------
    def read(self, desired: CatalogState, kinds: set[str]) -> CatalogState:
        if not self._normalized:
            self.normalize(desired)
            self._normalized = True
        live = CatalogState()
        self._read_entities(desired, live)
        self._last_entities = live.entities
        if "glossary" in kinds:
            self._read_glossary(desired, live)
        if "classifications" in kinds:
            self._read_types(desired, live)
            self._read_classifications(desired, live)
            self._read_rules(live)
        return live

    def _get_by_qualified_names(self, type_name: str, qns: list[str]) -> dict[str, Any]:
        """Entities (with referred entities) by qualified name, ≤ guid_batch names per request."""
        entities: list[dict[str, Any]] = []
        referred: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(set(qns)), self.cfg.guid_batch):
            params = [(f"attr_{i}:qualifiedName", qn) for i, qn in enumerate(chunk)]
            params.append(("minExtInfo", "false"))
            res = self._call(
                "GET",
                f"/atlas/v2/entity/bulk/uniqueAttribute/type/{type_name}",
                params=params,
                ok_missing=True,
            )
            if res:
                entities += res.get("entities") or []
                referred.update(res.get("referredEntities") or {})
        return {"entities": entities, "referredEntities": referred}

    def _read_entities(self, desired: CatalogState, live: CatalogState) -> None:
        datasets = [e for e in desired.entities.values() if e.kind == "dataset"]
        by_type: dict[str, list[EntityState]] = defaultdict(list)
        for e in datasets:
            by_type[e.type_name].append(e)
        self._entity_json = {}
        for type_name, items in sorted(by_type.items()):
            qn_to_name = {e.qualified_name: e.name for e in items}
            res = self._get_by_qualified_names(type_name, list(qn_to_name))
            referred = res["referredEntities"]
            for ent in res["entities"]:
                qn = ent.get("attributes", {}).get("qualifiedName")
                name = qn_to_name.get(qn)
                if name is None or ent.get("status", "ACTIVE") == "DELETED":
                    continue
                self._entity_json[ent["guid"]] = ent
                live.entities[name] = self._entity_state(ent, name, "dataset", name)
                for col in self._columns_of(ent, referred):
                    cname = col.get("attributes", {}).get("name")
                    if not cname:
                        continue
                    self._entity_json[col["guid"]] = col
                    full = f"{name}.{cname}"
                    live.entities[full] = self._entity_state(col, full, "column", name, cname)

    @staticmethod
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

    @staticmethod
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

    def _read_glossary(self, desired: CatalogState, live: CatalogState) -> None:
        glossaries = (
            self._call("GET", "/atlas/v2/glossary", params={"limit": 1000, "ignoreTermsAndCategories": True})
            or []
        )
        self._glossary_guid = {}
        for g in glossaries:
            self._glossary_guid[g["name"]] = g["guid"]
            live.glossaries[g["name"]] = g.get("usage") == MARKER
        wanted = set(desired.glossaries) | {n for n, managed in live.glossaries.items() if managed}
        raw_terms: list[tuple[str, dict[str, Any]]] = []
        for gname in sorted(wanted & set(self._glossary_guid)):
            detailed = self._call("GET", f"/atlas/v2/glossary/{self._glossary_guid[gname]}/detailed") or {}
            for term in (detailed.get("termInfo") or {}).values():
                raw_terms.append((gname, term))
        names = {t["guid"]: t["name"] for _, t in raw_terms}
        entity_names = {e.guid: e.name for e in live.entities.values() if e.guid}
        self._term_json, self._assign_rel, self._all_assigned = {}, {}, {}
        for gname, t in raw_terms:
            self._term_json[t["name"]] = t
            live.terms[t["name"]] = self._term_state(gname, t, names)
            assigned = [
                a
                for a in t.get("assignedEntities") or []
                if a.get("relationshipStatus", "ACTIVE") != "DELETED"
            ]
            self._all_assigned[t["name"]] = len(assigned)
            for a in assigned:
                ename = entity_names.get(a.get("guid", ""))
                if ename is None:
                    # assigned to an entity outside the declared datasets: counts as "still assigned"
                    live.assignments[(t["name"], f"guid:{a.get('guid')}")] = False
                    continue
                attrs = ((a.get("relationshipAttributes") or {}).get("attributes")) or {}
                live.assignments[(t["name"], ename)] = attrs.get("description") == MARKER
                if a.get("relationshipGuid"):
                    self._assign_rel[(t["name"], ename)] = a["relationshipGuid"]

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

        hierarchy = t.get("hierarchyInfo") or []
        parent = names.get(hierarchy[-1].get("guid", ""), hierarchy[-1].get("name")) if hierarchy else None
        free = [s.strip() for s in (t.get("nickName") or "").split(";") if s.strip()]
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
            synonyms=tuple(sorted(set(rel("synonyms") + free))),
            related=tuple(sorted(set(rel("seeAlso")))),
            examples=tuple(t.get("examples") or []),
            managed=any(r.get("displayName") == MARKER for r in t.get("resources") or []),
            guid=t.get("guid"),
        )

    def _read_types(self, desired: CatalogState, live: CatalogState) -> None:
        res = self._call("GET", "/atlas/v2/types/typedefs", params={"type": "classification"}) or {}
        self._typedefs = {}
        for d in res.get("classificationDefs") or []:
            managed = (d.get("options") or {}).get(MARKER_KEY) == MARKER_VALUE
            self._typedefs[d["name"]] = d
            if (
                managed
                or d["name"] in desired.classification_types
                or not d["name"].startswith(SYSTEM_PREFIX)
            ):
                live.classification_types[d["name"]] = ClassificationTypeState(
                    d["name"], d.get("description") or None, managed
                )

    def _read_classifications(self, desired: CatalogState, live: CatalogState) -> None:
        ours = set(desired.classification_types) | {
            n for n, t in live.classification_types.items() if t.managed
        }
        for e in live.entities.values():
            ent = self._entity_json.get(e.guid or "", {})
            for c in ent.get("classifications") or []:
                label = c.get("typeName", "")
                if label in ours:
                    live.classifications[(e.name, label)] = (c.get("attributes") or {}).get(
                        MANAGED_ATTR
                    ) == MARKER_VALUE

    def _read_rules(self, live: CatalogState) -> None:
        url: str | None = "/classificationrules"
        while url:
            res = self._call("GET", url, plane="scan") or {}
            for r in res.get("value") or []:
                if r.get("kind") != "Custom":
                    continue
                p = r.get("properties") or {}
                desc = p.get("description") or ""
                managed = _RULE_MARK in desc
                source = desc.split(_RULE_MARK, 1)[1].rstrip("]") if managed else r["name"]
                text = desc.split(_RULE_MARK, 1)[0].strip() if managed else desc
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
            nxt = res.get("nextLink")
            url = urlparse(nxt).path.split("/scan", 1)[-1] if nxt else None

    # --- apply -------------------------------------------------------------------------------------
    def apply(self, changes: list[Change], desired: CatalogState, live: CatalogState) -> None:
        todo = [c for c in changes if c.action != "noop"]
        by = defaultdict(list)
        for c in todo:
            by[(c.kind, c.action)].append(c)
        types = by[("classification_type", "create")] + by[("classification_type", "update")]
        if types:  # first: new entities can then carry their classifications from the start
            self._write_types(types, desired)
            self._typedefs.update({c.name: self._classification_def(c.name, desired) for c in types})
        if by[("entity", "create")]:
            self._create_entities([desired.entities[c.name] for c in by[("entity", "create")]], desired)
            live_entities = CatalogState()
            self._read_entities(desired, live_entities)
            live.entities = live_entities.entities
            self._last_entities = live.entities
        for c in by[("rule", "create")] + by[("rule", "update")]:
            self._put_rule(desired.rules[c.name])
        terms = by[("term", "create")] + by[("term", "update")]
        if terms:
            self._write_terms(terms, desired, live)
        self._write_assignments(by[("assignment", "create")], by[("assignment", "delete")], live)
        if by[("classification", "create")] or by[("classification", "delete")]:
            deletes = by[("classification", "delete")]
            forced = {(c.before["entity"], c.before["label"]) for c in deletes if c.note == "forced"}
            self._write_classifications(desired, live, forced)
        for c in by[("rule", "delete")]:
            self._call("DELETE", f"/classificationrules/{c.name}", plane="scan", ok_missing=True)
        for c in by[("term", "delete")]:
            term = self._term_json.get(c.name, {})
            if term.get("guid"):
                # forced: a term cannot be deleted while assigned, so every assignment goes first
                left = [
                    {k: a[k] for k in ("guid", "typeName", "relationshipGuid") if k in a}
                    for a in term.get("assignedEntities") or []
                    if a.get("relationshipGuid") not in self._deleted_relations
                    and a.get("relationshipStatus", "ACTIVE") != "DELETED"
                ]
                for chunk in _chunks(left, self.cfg.entity_batch):
                    self._call(
                        "DELETE",
                        f"/atlas/v2/glossary/terms/{term['guid']}/assignedEntities",
                        body=chunk,
                        ok_missing=True,
                    )
                self._call("DELETE", f"/atlas/v2/glossary/term/{term['guid']}", ok_missing=True)
        if by[("classification_type", "delete")]:
            body = {"classificationDefs": [{"name": c.name} for c in by[("classification_type", "delete")]]}
            self._call("DELETE", "/atlas/v2/types/typedefs", body=body)
        gone = [live.entities[c.name].guid for c in by[("entity", "delete")] if live.entities[c.name].guid]
        for chunk in _chunks([g for g in gone if g], self.cfg.guid_batch):
            self._call("DELETE", "/atlas/v2/entity/bulk", params={"guid": chunk})

    # entities
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
            rel = {
                "composeSchema": {
                    "typeName": TABULAR_SCHEMA,
                    "uniqueAttributes": {"qualifiedName": tabular_schema_qn(parent.qualified_name)},
                }
            }
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
        labels = sorted(lb for lb in self._label_index.get(name, []) if lb in self._typedefs)
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
            for chunk in _chunks(group, self.cfg.entity_batch):
                self._call("POST", "/atlas/v2/entity/bulk", body={"entities": chunk}, params=params)

    # classification types
    def _classification_def(self, name: str, desired: CatalogState) -> dict[str, Any]:
        d = desired.classification_types[name]
        body: dict[str, Any] = {
            "name": name,
            "category": "CLASSIFICATION",
            "options": {MARKER_KEY: MARKER_VALUE},
            "attributeDefs": [
                {
                    "name": MANAGED_ATTR,
                    "typeName": "string",
                    "isOptional": True,
                    "cardinality": "SINGLE",
                    "isUnique": False,
                    "isIndexable": False,
                }
            ],
        }
        if d.description:
            body["description"] = d.description
        return body

    def _write_types(self, changes: list[Change], desired: CatalogState) -> None:
        creates = [self._classification_def(c.name, desired) for c in changes if c.name not in self._typedefs]
        updates = [self._classification_def(c.name, desired) for c in changes if c.name in self._typedefs]
        if creates:
            try:
                self._call("POST", "/atlas/v2/types/typedefs", body={"classificationDefs": creates})
            except _Conflict:
                updates += creates  # made meanwhile (an interrupted run): update instead
        if updates:
            self._call("PUT", "/atlas/v2/types/typedefs", body={"classificationDefs": updates})

    # rules
    def _put_rule(self, r: RuleState) -> None:
        desc = f"{r.description or ''} {_RULE_MARK}{r.source}]".strip()
        props: dict[str, Any] = {
            "description": desc,
            "classificationName": r.label,
            "ruleStatus": "Enabled",
            "minimumPercentageMatch": r.minimum_match_percent,
            "columnPatterns": [{"kind": "Regex", "pattern": p} for p in r.column_patterns],
            "dataPatterns": [{"kind": "Regex", "pattern": p} for p in r.data_patterns],
        }
        self._call(
            "PUT",
            f"/classificationrules/{r.name}",
            body={"kind": "Custom", "properties": props},
            plane="scan",
        )

    # terms
    def _ensure_glossary(self, name: str) -> str:
        if name not in self._glossary_guid:
            try:
                res = self._call(
                    "POST", "/atlas/v2/glossary", body={"name": name, "qualifiedName": name, "usage": MARKER}
                )
                self._glossary_guid[name] = res["guid"]
            except _Conflict:
                for g in self._call("GET", "/atlas/v2/glossary", params={"limit": 1000}) or []:
                    self._glossary_guid[g["name"]] = g["guid"]
        return self._glossary_guid[name]

    def _term_body(self, t: TermState, guids: dict[str, str], relations: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": t.name,
            "anchor": {"glossaryGuid": self._ensure_glossary(t.glossary)},
            "longDescription": t.definition,
            "status": t.status,
            "resources": [dict(MARKER_LINK)],
        }
        if t.abbreviation:
            body["abbreviation"] = t.abbreviation
        if t.long_description:
            body["usage"] = t.long_description
        if t.examples:
            body["examples"] = list(t.examples)
        if t.parent and t.parent in guids:
            body["hierarchyInfo"] = [
                {"guid": guids[t.parent], "typeName": "AtlasGlossaryTerm", "name": t.parent}
            ]
        contacts = {
            role: [{"id": self.contacts[e.lower()], "info": e} for e in people]
            for role, people in (("Steward", t.stewards), ("Expert", t.experts))
            if people
        }
        if contacts:
            body["contacts"] = contacts
        free = [s for s in t.synonyms if s not in guids]
        if free:
            body["nickName"] = "; ".join(free)
        if relations:
            syn = [{"termGuid": guids[s], "displayText": s} for s in t.synonyms if s in guids]
            rel = [{"termGuid": guids[s], "displayText": s} for s in t.related if s in guids]
            if syn:
                body["synonyms"] = syn
            if rel:
                body["seeAlso"] = rel
        return body

    def _write_terms(self, changes: list[Change], desired: CatalogState, live: CatalogState) -> None:
        guids = {n: t["guid"] for n, t in self._term_json.items()}
        creates = [c for c in changes if c.name not in guids]
        names_in_files = set(desired.terms)

        def has_relations(t: TermState) -> bool:
            return any(s in names_in_files for s in t.synonyms + t.related)

        # level by level so a child's hierarchyInfo names an existing parent
        pending = {c.name: desired.terms[c.name] for c in creates}
        while pending:
            level = [t for t in pending.values() if not t.parent or t.parent not in pending]
            if not level:
                level = list(pending.values())
            for chunk in _chunks(sorted(level, key=lambda t: t.name), self.cfg.entity_batch):
                bodies = [self._term_body(t, guids, relations=False) for t in chunk]
                try:
                    res = self._call(
                        "POST", "/atlas/v2/glossary/terms", body=bodies, params={"includeTermHierarchy": True}
                    )
                except _Conflict:
                    res = self._converge_terms(chunk, guids)
                for t in res or []:
                    guids[t["name"]] = t["guid"]
            for t in level:
                pending.pop(t.name, None)
        # full updates: changed terms, and new terms that relate to other terms
        for c in changes:
            d = desired.terms.get(c.name)
            if d is None:  # a term that left the files and is still assigned: expire it
                guid = guids[c.name]
                self._call(
                    "PUT",
                    f"/atlas/v2/glossary/term/{guid}/partial",
                    body={"status": c.after.get("status", "Expired")},
                    params={"includeTermHierarchy": True},
                )
                continue
            if c in creates and not has_relations(d):
                continue
            body = self._term_body(d, guids, relations=True)
            body["guid"] = guids[c.name]
            self._call(
                "PUT",
                f"/atlas/v2/glossary/term/{guids[c.name]}",
                body=body,
                params={"includeTermHierarchy": True},
            )
        self._term_json.update(
            {n: {**self._term_json.get(n, {}), "name": n, "guid": g} for n, g in guids.items()}
        )

    def _converge_terms(self, chunk: list[TermState], guids: dict[str, str]) -> list[dict[str, Any]]:
        """A batch hit 'already exists' (an earlier, interrupted run made some): re-read, create the rest."""
        out: list[dict[str, Any]] = []
        for gname in sorted({t.glossary for t in chunk}):
            detailed = self._call("GET", f"/atlas/v2/glossary/{self._ensure_glossary(gname)}/detailed") or {}
            out += [{"name": t["name"], "guid": t["guid"]} for t in (detailed.get("termInfo") or {}).values()]
        existing = {t["name"] for t in out}
        rest = [t for t in chunk if t.name not in existing]
        if rest:
            out += (
                self._call(
                    "POST",
                    "/atlas/v2/glossary/terms",
                    body=[self._term_body(t, guids, relations=False) for t in rest],
                    params={"includeTermHierarchy": True},
                )
                or []
            )
        return out

    # assignments
    def _write_assignments(self, creates: list[Change], deletes: list[Change], live: CatalogState) -> None:
        guids = {n: t["guid"] for n, t in self._term_json.items()}
        entity = {e.name: e for e in live.entities.values()}
        adds: dict[str, list[str]] = defaultdict(list)
        for c in creates:
            adds[c.after["term"]].append(c.after["entity"])
        for term, targets in sorted(adds.items()):
            body = [
                {
                    "guid": entity[t].guid,
                    "typeName": entity[t].type_name,
                    "relationshipType": SEMANTIC,
                    "relationshipAttributes": {"typeName": SEMANTIC, "attributes": {"description": MARKER}},
                }
                for t in sorted(targets)
                if t in entity
            ]
            for chunk in _chunks(body, self.cfg.entity_batch):
                try:
                    self._call("POST", f"/atlas/v2/glossary/terms/{guids[term]}/assignedEntities", body=chunk)
                except _Conflict:
                    self._converge_assignments(guids[term], chunk)
        dels: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in deletes:
            term, target = c.before["term"], c.before["entity"]
            rel = self._assign_rel.get((term, target))
            if rel and target in entity and term in guids:
                dels[term].append(
                    {
                        "guid": entity[target].guid,
                        "typeName": entity[target].type_name,
                        "relationshipGuid": rel,
                    }
                )
        for term, body in sorted(dels.items()):
            for chunk in _chunks(body, self.cfg.entity_batch):
                self._call(
                    "DELETE",
                    f"/atlas/v2/glossary/terms/{guids[term]}/assignedEntities",
                    body=chunk,
                    ok_missing=True,
                )
                self._deleted_relations |= {a["relationshipGuid"] for a in chunk}

    def _converge_assignments(self, term_guid: str, chunk: list[dict[str, Any]]) -> None:
        current = (
            self._call(
                "GET", f"/atlas/v2/glossary/terms/{term_guid}/assignedEntities", params={"limit": 1000}
            )
            or []
        )
        have = {a.get("guid") for a in current}
        rest = [a for a in chunk if a["guid"] not in have]
        if rest:
            self._call("POST", f"/atlas/v2/glossary/terms/{term_guid}/assignedEntities", body=rest)

    # classifications
    def _write_classifications(
        self, desired: CatalogState, live: CatalogState, forced: set[tuple[str, str]] | None = None
    ) -> None:
        """Per entity: keep what others set (scanner, UI), and make ours exactly the declared labels.
        `forced` (entity, label) pairs are removed even though someone else set them (--prune --force)."""
        forced = forced or set()
        ours = set(desired.classification_types) | {
            n for n, t in live.classification_types.items() if t.managed
        }
        wanted: dict[str, set[str]] = defaultdict(set)
        for entity, label in desired.classifications:
            wanted[entity].add(label)
        headers: dict[str, Any] = {}
        for e in live.entities.values():
            if not e.guid:
                continue
            current = self._entity_json.get(e.guid, {}).get("classifications") or []

            def is_mine(c: dict[str, Any]) -> bool:
                return (c.get("attributes") or {}).get(MANAGED_ATTR) == MARKER_VALUE and c["typeName"] in ours

            mine = {c["typeName"] for c in current if is_mine(c)}
            kept = [
                {k: v for k, v in c.items() if k in ("typeName", "attributes")}
                for c in current
                if not is_mine(c) and (e.name, c["typeName"]) not in forced
            ]
            dropped = any((e.name, c["typeName"]) in forced for c in current)
            others = {c["typeName"] for c in kept}
            target = wanted.get(e.name, set()) - others
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
        items = sorted(headers.items())
        for chunk in _chunks(items, self.cfg.entity_batch):
            self._call(
                "POST", "/atlas/v2/entity/bulk/setClassifications", body={"guidHeaderMap": dict(chunk)}
            )

    # --- lineage processes -------------------------------------------------------------------------
    def _ensure_process_type(self) -> None:
        if self._call("GET", f"/atlas/v2/types/typedef/name/{PROCESS_TYPE}", ok_missing=True) is not None:
            return
        body = {
            "entityDefs": [
                {
                    "name": PROCESS_TYPE,
                    "category": "ENTITY",
                    "superTypes": ["Process"],
                    "description": "A SmartFlow pipeline job (lineage pushed by smartflow-gov)",
                    "options": {MARKER_KEY: MARKER_VALUE},
                    "attributeDefs": [
                        {
                            "name": "columnMapping",
                            "typeName": "string",
                            "isOptional": True,
                            "cardinality": "SINGLE",
                            "isUnique": False,
                            "isIndexable": False,
                        }
                    ],
                }
            ]
        }
        with contextlib.suppress(_Conflict):  # made meanwhile
            self._call("POST", "/atlas/v2/types/typedefs", body=body)

    def read_processes(self, desired: dict[str, ProcessState]) -> dict[str, ProcessState]:
        qn_name = {e.qualified_name: e.name for e in self._last_entities.values()}
        self._process_json = {}
        qns = {p.qualified_name for p in desired.values()}
        # managed processes of jobs that are gone: found by type through search
        query: dict[str, Any] = {"filter": {"entityType": PROCESS_TYPE}, "limit": 1000}
        while True:
            found = self._call("POST", "/search/query", body=query) or {}
            qns |= {v.get("qualifiedName") for v in found.get("value") or [] if v.get("qualifiedName")}
            if not found.get("continuationToken"):
                break
            query = {**query, "continuationToken": found["continuationToken"]}
        res = self._get_by_qualified_names(PROCESS_TYPE, sorted(q for q in qns if q))
        out: dict[str, ProcessState] = {}
        for ent in res["entities"]:
            if ent.get("status", "ACTIVE") == "DELETED":
                continue
            attrs = ent.get("attributes") or {}
            name = attrs.get("name", "")

            def names(key: str, attrs: dict[str, Any] = attrs) -> tuple[str, ...]:
                refs = attrs.get(key) or []
                return tuple(
                    sorted(
                        qn_name.get(
                            (r.get("uniqueAttributes") or {}).get("qualifiedName", ""), r.get("guid", "")
                        )
                        for r in refs
                    )
                )

            self._process_json[name] = ent
            out[name] = ProcessState(
                name,
                attrs.get("qualifiedName", ""),
                names("inputs"),
                names("outputs"),
                attrs.get("columnMapping") or "[]",
                (ent.get("customAttributes") or {}).get(MARKER_KEY) == MARKER_VALUE,
            )
        return out

    def apply_processes(
        self, changes: list[Change], desired: dict[str, ProcessState], entities: CatalogState
    ) -> None:
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
        for chunk in _chunks(bodies, self.cfg.entity_batch):
            self._call("POST", "/atlas/v2/entity/bulk", body={"entities": chunk})
        gone = [
            self._process_json[c.name]["guid"]
            for c in todo
            if c.action == "delete" and c.name in self._process_json
        ]
        for chunk in _chunks(gone, self.cfg.guid_batch):
            self._call("DELETE", "/atlas/v2/entity/bulk", params={"guid": chunk})


class _Conflict(InfraError):
    """409: the object exists already (typically made by an earlier, interrupted run), or is in use.
    Callers that can converge catch it; anywhere else it is an infrastructure error (exit 3)."""


def _budget_policy(inner: _BudgetAndCount) -> Any:
    """_BudgetAndCount as an azure-core SansIO policy (azure-core is imported lazily)."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class Policy(SansIOHTTPPolicy):
        def on_request(self, request: Any) -> None:
            inner.on_request(request)

    return Policy()


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()
    return text[0][:300] if text else ""
