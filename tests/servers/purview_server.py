"""A local, stateful Purview Data Map + Scanning server for tests and benchmarks (127.0.0.1 only).
Over 600 lines on purpose: one API in one file, and bench/catalog.py runs it as a script in its own process.

It implements only the endpoints smartflow-gov uses, with Atlas's rules where they matter to a client
(unique qualified names, upsert of bulk entities, 409 on existing terms/typedefs/assignments, symmetric
term relations, no delete of an assigned term or a parent term, setClassifications replaces the list,
classification types must exist, rule names must match Purview's pattern). EVERY request body is
validated against the published REST contracts in ../shared/contracts (tests/azure_contracts.py); a
mismatch answers 400 and is recorded in `contract_errors`, which tests assert to be empty.

It behaves the way the Data Map answers, as documented or as `pyapacheatlas` (wjohnson/pyapacheatlas, the
Purview client users know) encodes it — each rule cites its source where it is implemented:
- server-assigned defaults: `nickName` (the term's own name), `qualifiedName` of a term
  (`Parent_Child@Glossary` under a parent), a classification type's description (its name when none given);
- read-only projections computed here and ignored on write: `hierarchyInfo`, `childrenTerms`, the
  glossary's `terms` headers, the other end of symmetric synonyms/seeAlso relations, entity `meanings`;
- a term's parent is set from `parentTerm: {termGuid}`;
- partial attributes in list responses (a glossary list carries term headers only; a term list carries no
  `assignedEntities`) and limit/offset paging capped at `max_page` items per page;
- term template attributes (`attributes: {template: {attr: value}}`) need the template to exist.
Every response body is validated against the operation's response schema too.

Faults are injected per request match: 429 with Retry-After, 503, or a connection dropped after the
server has applied the request (the worst case for duplicates). Requests are counted.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azure_contracts import validate_request, validate_response  # noqa: E402
from faulty_http import FaultyJsonServer  # noqa: E402

DATAMAP = "purview/data-plane/Azure.Analytics.Purview.DataMap/stable/2023-09-01/purviewdatamap.json"
SCANNING = "purview/data-plane/Azure.Analytics.Purview.Scanning/stable/2023-09-01/scanningService.json"
TOKEN = "test-token"
RULE_NAME = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")

BUILTIN_ENTITY_TYPES = {
    "DataSet": [],
    "Process": ["DataSet"],
    "column": ["DataSet"],
    "tabular_schema": ["DataSet"],
    "azure_datalake_gen2_resource_set": ["DataSet"],
    "azure_synapse_dedicated_sql_table": ["DataSet"],
    "azure_synapse_dedicated_sql_column": ["DataSet"],
}
PROCESS_ATTRS = {"qualifiedName", "name", "description", "inputs", "outputs"}
# child type, attribute pointing at the parent -> (parent type, attribute listing the children)
INVERSE = {
    ("column", "composeSchema"): "columns",
    ("azure_synapse_dedicated_sql_column", "table"): "columns",
}
OWNED = {
    ("azure_datalake_gen2_resource_set", "tabular_schema"),
    ("tabular_schema", "columns"),
    ("azure_synapse_dedicated_sql_table", "columns"),
}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class State:
    glossaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    qn: dict[tuple[str, str], str] = field(default_factory=dict)
    assignments: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # relationGuid -> {term, entity, attributes}
    classification_defs: dict[str, dict[str, Any]] = field(default_factory=dict)
    term_templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    entity_defs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # parent -> inverse attr -> guids
    by_term: dict[str, set[str]] = field(default_factory=dict)  # term guid -> relation guids
    by_entity: dict[str, set[str]] = field(default_factory=dict)  # entity guid -> relation guids
    parent_of: dict[tuple[str, str], str] = field(default_factory=dict)

    def add_assignment(self, term: str, entity: str, attributes: dict[str, Any]) -> None:
        rel = str(uuid.uuid4())
        self.assignments[rel] = {"term": term, "entity": entity, "attributes": attributes}
        self.by_term.setdefault(term, set()).add(rel)
        self.by_entity.setdefault(entity, set()).add(rel)

    def drop_assignment(self, rel: str) -> None:
        a = self.assignments.pop(rel)
        self.by_term.get(a["term"], set()).discard(rel)
        self.by_entity.get(a["entity"], set()).discard(rel)

    def set_parent(self, child: str, child_type: str, attr: str, parent: str | None) -> None:
        inverse = INVERSE.get((child_type, attr))
        if inverse is None:
            return
        old = self.parent_of.pop((child, inverse), None)
        if old is not None:
            self.children.get(old, {}).get(inverse, set()).discard(child)
        if parent:
            self.parent_of[(child, inverse)] = parent
            self.children.setdefault(parent, {}).setdefault(inverse, set()).add(child)


class PurviewServer(FaultyJsonServer):
    """Start with `with PurviewServer() as srv:`; `srv.endpoint` is the account endpoint."""

    def __init__(self) -> None:
        self.state = State()
        for name, supers in BUILTIN_ENTITY_TYPES.items():
            self.state.entity_defs[name] = {"name": name, "category": "ENTITY", "superTypes": supers}
        self.max_page = 1000  # items per page of a limit/offset list, whatever `limit` asks
        super().__init__()

    def is_read(self, method: str, path: str) -> bool:
        return method == "GET" or path.endswith("/search/query")  # a search reads

    def throttled_body(self, status: int) -> Any:
        return {"error": {"code": "Throttled" if status == 429 else "Unavailable"}}

    def error_body(self, exc: Exception) -> tuple[int, Any] | None:
        if isinstance(exc, ApiError):
            return exc.status, {"errorCode": f"ATLAS-{exc.status}", "errorMessage": exc.message}
        return None

    # --- test inspection ---------------------------------------------------------------------------
    def term_by_name(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.state.terms.values() if t["name"] == name), None)

    def entity_by_qn(self, type_name: str, qn: str) -> dict[str, Any] | None:
        guid = self.state.qn.get((type_name, qn))
        return self.state.entities.get(guid) if guid else None

    def dispatch(self, method: str, path: str, query: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            raise ApiError(401, "missing or wrong bearer token")
        params = parse_qsl(query, keep_blank_values=True)
        q: dict[str, list[str]] = {}
        for k, v in params:
            q.setdefault(k, []).append(v)
        if path.startswith("/datamap/api"):
            sub, spec = path[len("/datamap/api") :], DATAMAP
        elif path.startswith("/scan"):
            sub, spec = path[len("/scan") :], SCANNING
        else:
            raise ApiError(404, f"no such plane: {path}")
        if q.get("api-version") != ["2023-09-01"]:
            raise ApiError(400, "api-version=2023-09-01 is required")
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise ApiError(400, f"body is not JSON: {exc}") from exc
        if method in ("POST", "PUT") or body is not None:
            try:
                errors = validate_request(spec, method, sub, body)
            except LookupError as exc:
                errors = [str(exc)]
            if errors:
                msg = f"{method} {sub}: " + "; ".join(errors)
                self.contract_errors.append(msg)
                raise ApiError(400, "request does not match the REST contract: " + msg)
        with self.lock:
            if spec == SCANNING:
                status, payload = self._scan(method, sub, body, q)
            else:
                status, payload = self._datamap(method, sub, q, body)
        self._check_response(spec, method, sub, status, payload)
        return status, payload

    def _check_response(self, spec: str, method: str, sub: str, status: int, payload: Any) -> None:
        """The answer must match the operation's response schema (a wrong shape here would let the
        client under test depend on something Purview never sends)."""
        if payload is None or status >= 400:
            return
        try:
            errors = validate_response(spec, method, sub, status, payload)
        except LookupError:
            return
        if errors:
            self.contract_errors.append(f"response of {method} {sub}: " + "; ".join(errors[:3]))

    def _page(self, items: list[Any], q: dict[str, list[str]]) -> list[Any]:
        """limit/offset paging as the Data Map's list operations do (pyapacheatlas glossaryclient.py:
        get_glossaries / get_termAssignedEntities send `limit`, `offset`, `sort`); a page holds at most
        `max_page` items whatever `limit` asks, and limit -1 means "all, up to the cap"."""
        limit = int((q.get("limit") or ["-1"])[0])
        offset = int((q.get("offset") or ["0"])[0])
        size = self.max_page if limit < 0 else min(limit, self.max_page)
        return items[offset : offset + size]

    # --- Data Map ----------------------------------------------------------------------------------
    def _datamap(self, method: str, p: str, q: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        s = self.state
        m = re.fullmatch
        if method == "GET" and p == "/atlas/v2/glossary":
            headers = q.get("ignoreTermsAndCategories") != ["true"]
            ordered = sorted(s.glossaries.values(), key=lambda g: g["name"])
            return 200, [self._glossary_out(g, headers) for g in self._page(ordered, q)]
        if method == "GET" and (r := m(r"/atlas/v2/glossary/([^/]+)/terms", p)):
            g = s.glossaries.get(r.group(1))
            if g is None:
                raise ApiError(404, "no such glossary")
            terms = sorted(
                (t for t in s.terms.values() if t["anchor"]["glossaryGuid"] == g["guid"]),
                key=lambda t: t["qualifiedName"],
            )
            # a list answers terms without their assignedEntities (partial attributes)
            return 200, [self._term_out(t, assigned=False) for t in self._page(terms, q)]
        if method == "POST" and p == "/atlas/v2/glossary":
            if any(g["name"] == body["name"] for g in s.glossaries.values()):
                raise ApiError(409, f"glossary {body['name']} exists")
            new = {**body, "guid": str(uuid.uuid4()), "qualifiedName": body["name"]}
            s.glossaries[new["guid"]] = new
            return 200, self._glossary_out(new)
        if method == "GET" and (r := m(r"/atlas/v2/glossary/([^/]+)/detailed", p)):
            g = s.glossaries.get(r.group(1))
            if g is None:
                raise ApiError(404, "no such glossary")
            terms = {
                t["guid"]: self._term_out(t)
                for t in s.terms.values()
                if t["anchor"]["glossaryGuid"] == g["guid"]
            }
            return 200, {**self._glossary_out(g), "termInfo": terms}
        if method == "POST" and p in ("/atlas/v2/glossary/terms", "/atlas/v2/glossary/term"):
            items = body if isinstance(body, list) else [body]
            hierarchy = q.get("includeTermHierarchy") == ["true"]
            prepared = [self._prepare_term(t, hierarchy, None) for t in items]
            names = [t["qualifiedName"] for t in prepared]
            if len(set(names)) != len(names):
                raise ApiError(400, "duplicate terms in one request")
            for t in prepared:
                t["guid"] = str(uuid.uuid4())
                self._store_term(t)
            out = [self._term_out(t) for t in prepared]
            return 200, out if isinstance(body, list) else out[0]
        if (r := m(r"/atlas/v2/glossary/term/([^/]+)(/partial)?", p)) and method in ("PUT", "DELETE", "GET"):
            guid = r.group(1)
            term = s.terms.get(guid)
            if term is None:
                raise ApiError(404, f"no term {guid}")
            if method == "GET":
                return 200, self._term_out(term)
            if method == "DELETE":
                if self._assigned(guid):
                    raise ApiError(400, f"term {term['name']} is assigned to entities and cannot be deleted")
                if any((c.get("parentTerm") or {}).get("termGuid") == guid for c in s.terms.values()):
                    raise ApiError(400, f"term {term['name']} has child terms")
                self._set_relations(term, "synonyms", [])
                self._set_relations(term, "seeAlso", [])
                del s.terms[guid]
                return 204, None
            if r.group(2):  # partial: only simple string fields
                for k, v in body.items():
                    if k not in ("shortDescription", "longDescription", "abbreviation", "usage", "status"):
                        raise ApiError(400, f"partial update of {k} is not supported")
                    term[k] = v
                return 200, self._term_out(term)
            hierarchy = q.get("includeTermHierarchy") == ["true"]
            new = self._prepare_term(body, hierarchy, guid)
            new["guid"] = guid
            self._store_term(new)
            return 200, self._term_out(new)
        if r := m(r"/atlas/v2/glossary/terms/([^/]+)/assignedEntities", p):
            term_guid = r.group(1)
            if term_guid not in s.terms:
                raise ApiError(404, f"no term {term_guid}")
            if method == "GET":
                rels = sorted(s.by_term.get(term_guid, ()))
                return 200, [self._assignment_out(r, s.assignments[r]) for r in self._page(rels, q)]
            if method == "POST":
                for obj in body:
                    if obj.get("guid") not in s.entities:
                        raise ApiError(404, f"no entity {obj.get('guid')}")
                    if any(s.assignments[r]["entity"] == obj["guid"] for r in s.by_term.get(term_guid, ())):
                        raise ApiError(409, f"term already assigned to {obj['guid']}")
                for obj in body:
                    attrs = (obj.get("relationshipAttributes") or {}).get("attributes") or {}
                    s.add_assignment(term_guid, obj["guid"], attrs)
                return 204, None
            if method == "DELETE":
                for obj in body:
                    rel = obj.get("relationshipGuid")
                    if not rel:
                        raise ApiError(400, "removing an assignment needs its relationshipGuid")
                    a = s.assignments.get(rel)
                    if a is None or a["term"] != term_guid or a["entity"] != obj.get("guid"):
                        raise ApiError(404, f"no assignment {rel}")
                for obj in body:
                    s.drop_assignment(obj["relationshipGuid"])
                return 204, None
        if method == "GET" and (r := m(r"/atlas/v2/entity/bulk/uniqueAttribute/type/([^/]+)", p)):
            type_name = r.group(1)
            if type_name not in s.entity_defs:
                raise ApiError(404, f"unknown type {type_name}")
            qns = [v[0] for k, v in q.items() if re.fullmatch(r"attr_\d+:qualifiedName", k)]
            if len(qns) > 150:
                raise ApiError(400, "too many qualified names")
            found = [s.qn[(type_name, qn)] for qn in qns if (type_name, qn) in s.qn]
            return 200, self._with_ext(found)
        if p == "/atlas/v2/entity/bulk" and method == "GET":
            guids = q.get("guid", [])
            if len(guids) > 150:
                raise ApiError(400, "too many guids")
            return 200, self._with_ext([g for g in guids if g in s.entities])
        if p == "/atlas/v2/entity/bulk" and method == "POST":
            return 200, self._upsert_entities(body["entities"])
        if p == "/atlas/v2/entity/bulk" and method == "DELETE":
            deleted = []
            for gid in q.get("guid", []):
                gone = s.entities.pop(gid, None)
                if gone is None:
                    continue
                s.qn.pop((gone["typeName"], gone["attributes"]["qualifiedName"]), None)
                for rel in list(s.by_entity.get(gid, ())):
                    s.drop_assignment(rel)
                for attr, parent in gone["rels"].items():
                    if isinstance(parent, str):
                        s.set_parent(gid, gone["typeName"], attr, None)
                deleted.append({"guid": gid, "typeName": gone["typeName"]})
            return 200, {"mutatedEntities": {"DELETE": deleted}}
        if p == "/atlas/v2/entity/bulk/setClassifications" and method == "POST":
            headers = body.get("guidHeaderMap") or {}
            if len(headers) > 1000:
                raise ApiError(400, "too many entities")
            for guid, h in headers.items():
                if guid not in s.entities:
                    raise ApiError(404, f"no entity {guid}")
                types = [c.get("typeName") for c in h.get("classifications") or []]
                if len(set(types)) != len(types):
                    raise ApiError(400, f"classification listed twice on {guid}")
                for c in h.get("classifications") or []:
                    d = s.classification_defs.get(c.get("typeName", ""))
                    if d is None:
                        raise ApiError(400, f"unknown classification type {c.get('typeName')}")
                    allowed = {a["name"] for a in d.get("attributeDefs") or []}
                    if set(c.get("attributes") or {}) - allowed:
                        raise ApiError(
                            400,
                            f"classification {d['name']} has no attribute(s) {set(c['attributes']) - allowed}",
                        )
            for guid, h in headers.items():
                s.entities[guid]["classifications"] = [
                    {"typeName": c["typeName"], "attributes": c.get("attributes") or {}}
                    for c in h.get("classifications") or []
                ]
            return 200, sorted(headers)
        if p == "/atlas/v2/types/typedefs":
            return self._typedefs(method, q, body)
        if method == "GET" and (r := m(r"/atlas/v2/types/typedef/name/([^/]+)", p)):
            name = r.group(1)
            d = s.classification_defs.get(name) or s.entity_defs.get(name) or s.term_templates.get(name)
            if d is None:
                raise ApiError(404, f"no type {name}")
            return 200, d
        if method == "POST" and p == "/search/query":
            etype = (body.get("filter") or {}).get("entityType")
            hits = [
                {
                    "id": g,
                    "qualifiedName": e["attributes"]["qualifiedName"],
                    "entityType": e["typeName"],
                    "name": e["attributes"].get("name"),
                }
                for g, e in s.entities.items()
                if etype is None or e["typeName"] == etype
            ]
            # QueryOptions.limit: "default value is 50; maximum value is 1000" (2023-09-01 contract);
            # further pages through continuationToken
            limit = min(int(body.get("limit") or 50), 1000, self.max_page)
            start = int(body.get("continuationToken") or 0)
            page: dict[str, Any] = {"@search.count": len(hits), "value": hits[start : start + limit]}
            if start + limit < len(hits):
                page["continuationToken"] = str(start + limit)
            return 200, page
        raise ApiError(404, f"not implemented: {method} {p}")

    def _glossary_out(self, g: dict[str, Any], headers: bool = True) -> dict[str, Any]:
        """A glossary lists its terms as headers only (termGuid, displayText, relationGuid) — the
        "terms" of pyapacheatlas glossaryclient.get_glossary: "the term headers (AtlasRelatedTermHeader:
        including displayText and termGuid)"; ignoreTermsAndCategories=true leaves them out."""
        if not headers:
            return dict(g)
        terms = [
            {"termGuid": t["guid"], "displayText": t["name"], "relationGuid": t["anchor_rel"]}
            for t in self.state.terms.values()
            if t["anchor"]["glossaryGuid"] == g["guid"]
        ]
        return {**g, "terms": terms}

    def _assigned(self, term_guid: str) -> bool:
        return bool(self.state.by_term.get(term_guid))

    # read-only projections: computed here from the state, ignored when a client sends them
    READ_ONLY_TERM = ("hierarchyInfo", "childrenTerms", "assignedEntities", "qualifiedName", "anchor_rel")

    def _prepare_term(self, body: dict[str, Any], hierarchy: bool, guid: str | None) -> dict[str, Any]:
        s = self.state
        anchor = body.get("anchor") or {}
        g = s.glossaries.get(anchor.get("glossaryGuid", ""))
        if g is None:
            raise ApiError(400, "a term needs anchor.glossaryGuid of an existing glossary")
        if not body.get("name"):
            raise ApiError(400, "a term needs a name")
        # the parent comes from parentTerm {termGuid} (pyapacheatlas term.py, add_hierarchy: "It creates
        # the parentTerm property"); hierarchyInfo is what the service answers, not what it reads
        parent_guid = (body.get("parentTerm") or {}).get("termGuid")
        if parent_guid and not hierarchy:
            raise ApiError(400, "parentTerm needs includeTermHierarchy=true")
        parent = None
        if parent_guid:
            parent = s.terms.get(parent_guid)
            if parent is None:
                raise ApiError(400, f"parentTerm {parent_guid} does not exist")
            if parent_guid == guid or self._ancestors(parent_guid).count(guid or ""):
                raise ApiError(400, "a term cannot be its own ancestor")
        # qualifiedName is the service's: Parent_Child@Glossary under a parent (pyapacheatlas term.py,
        # qualifiedName: "prefixed with the parent formal name"), Name@Glossary otherwise
        base = f"{parent['qualifiedName'].rsplit('@', 1)[0]}_{body['name']}" if parent else body["name"]
        qn = f"{base}@{g['name']}"
        for t in s.terms.values():
            if t["qualifiedName"] == qn and t["guid"] != guid:
                raise ApiError(409, f"term {qn} already exists")
        for key in ("synonyms", "seeAlso"):
            for h in body.get(key) or []:
                if h.get("termGuid") not in s.terms and h.get("termGuid") != guid:
                    raise ApiError(400, f"{key}: no term {h.get('termGuid')}")
        for template, values in (body.get("attributes") or {}).items():
            tdef = s.term_templates.get(template)
            if tdef is None:
                raise ApiError(400, f"term template {template} does not exist")
            extra = set(values) - {a["name"] for a in tdef.get("attributeDefs") or []}
            if extra:
                raise ApiError(400, f"term template {template} has no attribute(s) {sorted(extra)}")
        term = {k: v for k, v in body.items() if k not in self.READ_ONLY_TERM}
        term["qualifiedName"] = qn
        term["anchor"] = {"glossaryGuid": g["guid"], "displayText": g["name"]}
        term["anchor_rel"] = s.terms.get(guid or "", {}).get("anchor_rel") or str(uuid.uuid4())
        if parent_guid:
            term["parentTerm"] = {"termGuid": parent_guid}
        # nickName: the display name; the term's own name when none is given (pyapacheatlas term.py,
        # nickName: "It will match the name property if no parent formal name is provided")
        term["nickName"] = body.get("nickName") or body["name"]
        return term

    def _ancestors(self, guid: str) -> list[str]:
        out: list[str] = []
        cur = (self.state.terms.get(guid) or {}).get("parentTerm")
        while cur and cur.get("termGuid") in self.state.terms and len(out) <= len(self.state.terms):
            out.append(cur["termGuid"])
            cur = self.state.terms[cur["termGuid"]].get("parentTerm")
        return out

    def _store_term(self, term: dict[str, Any]) -> None:
        old = self.state.terms.get(term["guid"], {})
        syn, see = term.pop("synonyms", None), term.pop("seeAlso", None)
        term["synonyms"], term["seeAlso"] = old.get("synonyms", []), old.get("seeAlso", [])
        self.state.terms[term["guid"]] = term
        self._set_relations(term, "synonyms", syn or [])
        self._set_relations(term, "seeAlso", see or [])

    def _set_relations(self, term: dict[str, Any], key: str, headers: list[dict[str, Any]]) -> None:
        """Symmetric relations: both ends list each other, like Atlas's synonym/seeAlso relationships."""
        s = self.state
        new = {h["termGuid"] for h in headers if h.get("termGuid") in s.terms}
        old = {h["termGuid"] for h in term.get(key) or []}
        term[key] = [{"termGuid": g, "displayText": s.terms[g]["name"]} for g in sorted(new)]
        for g in old - new:
            other = s.terms.get(g)
            if other:
                other[key] = [h for h in other.get(key) or [] if h["termGuid"] != term["guid"]]
        for g in new:
            other = s.terms[g]
            if all(h["termGuid"] != term["guid"] for h in other.get(key) or []):
                other[key] = [*other.get(key, []), {"termGuid": term["guid"], "displayText": term["name"]}]

    def _assignment_out(self, rel: str, a: dict[str, Any]) -> dict[str, Any]:
        e = self.state.entities.get(a["entity"], {})
        return {
            "guid": a["entity"],
            "typeName": e.get("typeName"),
            "displayText": (e.get("attributes") or {}).get("name"),
            "relationshipGuid": rel,
            "relationshipStatus": "ACTIVE",
            "relationshipType": "AtlasGlossarySemanticAssignment",
            "relationshipAttributes": {
                "typeName": "AtlasGlossarySemanticAssignment",
                "attributes": a["attributes"],
            },
        }

    def _term_out(self, t: dict[str, Any], assigned: bool = True) -> dict[str, Any]:
        """A term as the service answers it: `hierarchyInfo` (the ancestors, root first) and
        `childrenTerms` computed, `assignedEntities` only when one term is asked for."""
        st = self.state
        out = {k: v for k, v in t.items() if k != "anchor_rel"}
        ancestors = list(reversed(self._ancestors(t["guid"])))
        if ancestors:
            out["hierarchyInfo"] = [
                {
                    "guid": g,
                    "typeName": "AtlasGlossaryTerm",
                    "uniqueAttributes": {"qualifiedName": st.terms[g]["qualifiedName"]},
                }
                for g in ancestors
            ]
            out["parentTerm"] = {"termGuid": ancestors[-1], "displayText": st.terms[ancestors[-1]]["name"]}
        children = [c for c in st.terms.values() if (c.get("parentTerm") or {}).get("termGuid") == t["guid"]]
        if children:
            out["childrenTerms"] = [{"termGuid": c["guid"], "displayText": c["name"]} for c in children]
        if assigned:
            rels = sorted(st.by_term.get(t["guid"], ()))
            out["assignedEntities"] = [self._assignment_out(r, st.assignments[r]) for r in rels]
        return out

    # entities
    def _resolve(self, ref: Any) -> str:
        s = self.state
        if isinstance(ref, dict):
            if ref.get("guid") in s.entities:
                return str(ref["guid"])
            qn = (ref.get("uniqueAttributes") or {}).get("qualifiedName")
            key = (ref.get("typeName", ""), qn)
            if key in s.qn:
                return s.qn[key]
        raise ApiError(404, f"referenced entity not found: {ref}")

    def _upsert_entities(self, entities: list[dict[str, Any]]) -> dict[str, Any]:
        s = self.state
        if len(entities) > 100:
            raise ApiError(400, "at most 100 entities per bulk request")
        created, updated = [], []
        staged: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for e in entities:
            t = e.get("typeName", "")
            d = s.entity_defs.get(t)
            if d is None:
                raise ApiError(404, f"unknown entity type {t}")
            qn = (e.get("attributes") or {}).get("qualifiedName")
            if not qn:
                raise ApiError(400, "an entity needs attributes.qualifiedName")
            if t not in BUILTIN_ENTITY_TYPES:
                allowed = PROCESS_ATTRS | {a["name"] for a in d.get("attributeDefs") or []}
                extra = set(e.get("attributes") or {}) - allowed
                if extra:
                    raise ApiError(400, f"type {t} has no attribute(s) {sorted(extra)}")
            guid = s.qn.get((t, qn)) or str(uuid.uuid4())
            staged.append((guid, e, {"typeName": t, "qualifiedName": qn}))
        # create first so references inside the batch resolve, then resolve relationships
        for guid, _e, key in staged:
            cur = s.entities.get(guid)
            if cur is None:
                cur = {
                    "guid": guid,
                    "typeName": key["typeName"],
                    "attributes": {},
                    "customAttributes": {},
                    "classifications": [],
                    "rels": {},
                    "status": "ACTIVE",
                }
                s.entities[guid] = cur
                s.qn[(key["typeName"], key["qualifiedName"])] = guid
                created.append(guid)
            else:
                updated.append(guid)
        try:
            for guid, e, _ in staged:
                cur = s.entities[guid]
                attrs = dict(e.get("attributes") or {})
                for k in ("inputs", "outputs"):
                    if k in attrs:
                        cur["rels"][k] = [self._resolve(r) for r in attrs.pop(k) or []]
                cur["attributes"].update(attrs)
                if "customAttributes" in e:
                    cur["customAttributes"] = dict(e["customAttributes"] or {})
                for k, ref in (e.get("relationshipAttributes") or {}).items():
                    cur["rels"][k] = (
                        [self._resolve(r) for r in ref] if isinstance(ref, list) else self._resolve(ref)
                    )
                    if isinstance(cur["rels"][k], str):
                        s.set_parent(guid, cur["typeName"], k, cur["rels"][k])
                if "classifications" in e:
                    cur["classifications"] = [
                        {"typeName": c["typeName"], "attributes": c.get("attributes") or {}}
                        for c in e["classifications"] or []
                    ]
        except ApiError:
            for guid in created:  # all or nothing
                e = s.entities.pop(guid)
                s.qn.pop((e["typeName"], e["attributes"].get("qualifiedName") or ""), None)
            raise

        def hdr(g: str) -> dict[str, Any]:
            e = s.entities[g]
            return {
                "guid": g,
                "typeName": e["typeName"],
                "attributes": {"qualifiedName": e["attributes"]["qualifiedName"]},
            }

        return {
            "mutatedEntities": {"CREATE": [hdr(g) for g in created], "UPDATE": [hdr(g) for g in updated]},
            "guidAssignments": {},
        }

    def _ref(self, guid: str) -> dict[str, Any]:
        e = self.state.entities[guid]
        return {
            "guid": guid,
            "typeName": e["typeName"],
            "uniqueAttributes": {"qualifiedName": e["attributes"]["qualifiedName"]},
            "displayText": e["attributes"].get("name"),
        }

    def _entity_out(self, guid: str) -> dict[str, Any]:
        s = self.state
        e = s.entities[guid]
        rel: dict[str, Any] = {}
        attrs = dict(e["attributes"])
        for k, v in e["rels"].items():
            if k in ("inputs", "outputs"):
                attrs[k] = [self._ref(g) for g in v if g in s.entities]
            elif isinstance(v, list):
                rel[k] = [self._ref(g) for g in v if g in s.entities]
            elif v in s.entities:
                rel[k] = self._ref(v)
        for inverse, kids in s.children.get(guid, {}).items():
            rel[inverse] = [self._ref(k) for k in sorted(kids) if k in s.entities]
        meanings = []
        for r in sorted(s.by_entity.get(guid, ())):
            a = s.assignments[r]
            if a["term"] in s.terms:
                header = {"termGuid": a["term"], "relationGuid": r, "displayText": s.terms[a["term"]]["name"]}
                if a["attributes"].get("description") is not None:
                    header["description"] = a["attributes"]["description"]
                meanings.append(header)
        return {
            "guid": guid,
            "typeName": e["typeName"],
            "attributes": attrs,
            "customAttributes": e["customAttributes"],
            "classifications": [{**c, "entityGuid": guid} for c in e["classifications"]],
            "meanings": meanings,
            "relationshipAttributes": rel,
            "status": e["status"],
        }

    def _with_ext(self, guids: list[str]) -> dict[str, Any]:
        entities = [self._entity_out(g) for g in guids]
        referred: dict[str, Any] = {}
        todo = list(entities)
        while todo:
            ent = todo.pop()
            for k, v in ent["relationshipAttributes"].items():
                if (ent["typeName"], k) not in OWNED:
                    continue
                for ref in v if isinstance(v, list) else [v]:
                    if ref["guid"] not in referred:
                        referred[ref["guid"]] = self._entity_out(ref["guid"])
                        todo.append(referred[ref["guid"]])
        return {"entities": entities, "referredEntities": referred}

    def _typedefs(self, method: str, q: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        s = self.state
        if method == "GET":
            kind = (q.get("type") or [""])[0]
            out: dict[str, Any] = {}
            if kind in ("", "classification"):
                out["classificationDefs"] = list(s.classification_defs.values())
            if kind in ("", "entity"):
                out["entityDefs"] = list(s.entity_defs.values())
            return 200, out
        cdefs, edefs = body.get("classificationDefs") or [], body.get("entityDefs") or []
        tdefs = body.get("termTemplateDefs") or []
        if method == "POST":
            for d in tdefs:
                if d["name"] in s.term_templates:
                    raise ApiError(409, f"term template {d['name']} exists")
            for d in cdefs:
                if d["name"] in s.classification_defs:
                    raise ApiError(409, f"type {d['name']} exists")
            for d in edefs:
                if d["name"] in s.entity_defs:
                    raise ApiError(409, f"type {d['name']} exists")
                for sup in d.get("superTypes") or []:
                    if sup not in s.entity_defs:
                        raise ApiError(400, f"unknown superType {sup}")
        if method == "PUT":
            for d in cdefs:
                if d["name"] not in s.classification_defs:
                    raise ApiError(404, f"no type {d['name']}")
        if method in ("POST", "PUT"):
            stored = []
            for d in cdefs:
                # the service fills in a description (the type's name) when none is given, as Purview
                # answers for classifications made without one (the behaviour reported against
                # Purview; Atlas keeps typedef descriptions as the vertex's description property)
                guid = s.classification_defs.get(d["name"], {}).get("guid") or str(uuid.uuid4())
                new = {**d, "category": "CLASSIFICATION", "guid": guid}
                new["description"] = d.get("description") or d["name"]
                s.classification_defs[d["name"]] = new
                stored.append(new)
            for d in edefs:
                s.entity_defs[d["name"]] = {**d, "category": "ENTITY"}
            for d in tdefs:
                s.term_templates[d["name"]] = {**d, "category": "TERM_TEMPLATE", "guid": str(uuid.uuid4())}
            out: dict[str, Any] = {"classificationDefs": stored, "entityDefs": edefs}
            if tdefs:
                out["termTemplateDefs"] = [s.term_templates[d["name"]] for d in tdefs]
            return 200, out
        if method == "DELETE":
            for d in cdefs:
                if any(c["typeName"] == d["name"] for e in s.entities.values() for c in e["classifications"]):
                    raise ApiError(409, f"type {d['name']} is in use")
            for d in cdefs:
                s.classification_defs.pop(d["name"], None)
            return 204, None
        raise ApiError(405, method)

    # --- Scanning ----------------------------------------------------------------------------------
    def _scan(self, method: str, p: str, body: Any, q: dict[str, list[str]]) -> tuple[int, Any]:
        s = self.state
        if method == "GET" and p == "/classificationrules":
            # a page of at most max_page rules, then `nextLink` (ClassificationRuleList in the contract)
            start = int((q.get("$skipToken") or ["0"])[0])
            rules = [s.rules[n] for n in sorted(s.rules)]
            page: dict[str, Any] = {"value": rules[start : start + self.max_page], "count": len(rules)}
            if start + self.max_page < len(rules):
                nxt = start + self.max_page
                page["nextLink"] = (
                    f"{self.endpoint}/scan/classificationrules?api-version=2023-09-01&$skipToken={nxt}"
                )
            return 200, page
        r = re.fullmatch(r"/classificationrules/([^/]+)", p)
        if not r:
            raise ApiError(404, f"not implemented: {method} {p}")
        name = r.group(1)
        if method == "PUT":
            if not RULE_NAME.fullmatch(name):
                raise ApiError(400, f"rule name {name} must match {RULE_NAME.pattern}")
            if body.get("kind") != "Custom":
                raise ApiError(400, "only Custom rules can be written")
            props = body.get("properties") or {}
            if props.get("classificationName") not in s.classification_defs:
                raise ApiError(400, f"classification {props.get('classificationName')} does not exist")
            created = name not in s.rules
            version = (s.rules.get(name, {}).get("properties", {}).get("version") or 0) + 1
            s.rules[name] = {
                "id": f"classificationrules/{name}",
                "name": name,
                "kind": "Custom",
                "properties": {**props, "version": version, "classificationAction": "Keep"},
            }
            return (201 if created else 200), s.rules[name]
        if method == "GET":
            if name not in s.rules:
                raise ApiError(404, f"no rule {name}")
            return 200, s.rules[name]
        if method == "DELETE":
            if name not in s.rules:
                raise ApiError(404, f"no rule {name}")
            s.rules.pop(name)
            return 204, None
        raise ApiError(405, method)


def main() -> None:
    """Serve until stdin closes: `python tests/servers/purview_server.py` prints the endpoint, then
    a JSON line of statistics when stdin reaches EOF (used by bench/catalog.py)."""
    with PurviewServer() as srv:
        print(srv.endpoint, flush=True)
        sys.stdin.read()
        st = srv.state
        names = [t["name"] for t in st.terms.values()]
        qns = [e["attributes"]["qualifiedName"] for e in st.entities.values()]
        stats = {
            "entities": len(qns),
            "duplicate_entities": len(qns) - len(set(qns)),
            "terms": len(names),
            "duplicate_terms": len(names) - len(set(names)),
            "assignments": len(st.assignments),
            "contract_errors": srv.contract_errors[:5],
        }
        print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
