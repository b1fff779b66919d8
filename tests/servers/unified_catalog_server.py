"""A local, stateful Purview Unified Catalog server (`/datagovernance/catalog`, 127.0.0.1 only) for tests
and benchmarks.

EVERY request body and EVERY response body is validated against the published contract
(CatalogApiService.json, api-version 2025-09-15-preview, through tests/azure_contracts.py); a request
that does not match answers 400, a response that does not match is a server bug; both are recorded in
`contract_errors`, which tests assert to be empty. Required query parameters and their enums are checked.

The semantics the schema implies are modelled: ids are chosen by the client on create (409 when the id
exists, 409 when the name exists in the same scope: domains globally, everything else per domain); a
term's domain and a product's or CDE's domain must exist; a term's parent must be a term of the same
domain; deleting a domain that still holds objects or child domains, or a term with child terms, is 409;
relationships need their target (a term, a data asset, a critical data column's asset) and are unique;
lists page through an absolute `nextLink` (`$skipToken` for domains, `skip`/`top` elsewhere) with small
pages; `systemData` is filled by the server. Root domains omit `parentId`, which the schema lists as
required: the server validates them as if they had one (the contract cannot say "optional for roots").

Faults are injected per request match: 429 with Retry-After, 503, or a connection dropped after the
server applied the request (the worst case for duplicates).
"""

from __future__ import annotations

import copy
import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azure_contracts import _raw, find_operation, validate_schema  # noqa: E402
from faulty_http import FaultyJsonServer  # noqa: E402

SPEC = (
    "purviewdatagovernance/data-plane/Azure.Analytics.Purview.UnifiedCatalog/preview/"
    "2025-09-15-preview/CatalogApiService.json"
)
API_VERSION = "2025-09-15-preview"
TOKEN = "test-token"
BASE = "/datagovernance/catalog"
CALLER = "766bf2b9-5d8a-4fb1-b8d5-d30a53e22a9e"
PORTAL_USER = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
COLLECTIONS = {
    "businessdomains": "domain",
    "terms": "term",
    "dataProducts": "data_product",
    "criticalDataElements": "critical_data_element",
    "dataAssets": "data_asset",
}
PLACEHOLDER_PARENT = "00000000-0000-4000-8000-000000000000"


_UUID = re.compile(r"/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?=/|$)")


@lru_cache(maxsize=256)
def _operation_of(method: str, template: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    return find_operation(SPEC, method, template)


def _operation(method: str, sub: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The swagger operation of METHOD PATH and its body schema (ids folded, so lookups are cached)."""
    return _operation_of(method, _UUID.sub("/" + PLACEHOLDER_PARENT, sub))


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    return _raw(SPEC)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class State:
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {k: {} for k in COLLECTIONS.values()}
    )
    # (source kind, source id) -> list of {entityType, entityId, relationshipType, description, assetId, systemData}
    relationships: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class UnifiedCatalogServer(FaultyJsonServer):
    """Start with `with UnifiedCatalogServer() as srv:`; `srv.endpoint` is the Unified Catalog endpoint."""

    def __init__(self, page_size: int = 3) -> None:
        self.page_size = page_size
        self.state = State()
        super().__init__()

    def is_read(self, method: str, path: str) -> bool:
        return method == "GET" or path.endswith(("/query", "/facets"))

    def throttled_body(self, status: int) -> Any:
        code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
        return {"error": {"code": code, "message": "try again later"}}

    def error_body(self, exc: Exception) -> tuple[int, Any] | None:
        if isinstance(exc, ApiError):
            return exc.status, {"error": {"code": exc.code, "message": exc.message}}
        return None

    def answered(self, method: str, path: str, status: int, payload: Any) -> None:
        self._check_response(method, path, status, payload)

    # --- test inspection and "portal" edits ----------------------------------------------------------
    def of(self, kind: str) -> list[dict[str, Any]]:
        return list(self.state.objects[kind].values())

    def named(self, kind: str, name: str) -> list[dict[str, Any]]:
        return [o for o in self.of(kind) if o.get("name") == name]

    def relationships_of(self, kind: str, source_id: str) -> list[dict[str, Any]]:
        return list(self.state.relationships.get((kind, source_id), []))

    def portal_create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """An object made by a person in the portal: no managed attribute, a server-chosen id."""
        with self.lock:
            obj = {"id": str(uuid.uuid4()), **copy.deepcopy(body)}
            self._check_refs(kind, obj, None)
            obj["systemData"] = self._system_data(None, PORTAL_USER)
            if kind == "domain":  # what the portal fills in
                for key, empty in (("thumbnail", {}), ("domains", []), ("managedAttributes", [])):
                    obj.setdefault(key, empty)
            self.state.objects[kind][obj["id"]] = obj
            return obj

    def portal_relate(
        self, kind: str, source_id: str, entity_type: str, entity_id: str, relationship_type: str = "Related"
    ) -> None:
        with self.lock:
            self.state.relationships.setdefault((kind, source_id), []).append(
                {
                    "entityType": entity_type,
                    "entityId": entity_id,
                    "relationshipType": relationship_type,
                    "description": "added in the portal",
                    "systemData": self._system_data(None, PORTAL_USER),
                }
            )

    def portal_edit(self, kind: str, obj_id: str, **changes: Any) -> None:
        """An edit in the portal: the server moves systemData.lastModifiedAt, as on any write."""
        with self.lock:
            obj = self.state.objects[kind][obj_id]
            obj.update(changes)
            obj["systemData"] = self._system_data(obj, PORTAL_USER)

    def portal_unrelate(self, kind: str, source_id: str, entity_id: str) -> None:
        """A person removes a relationship in the portal. Relationships carry their own systemData
        (TermRelationship, DataProductRelationship): the source object's is left as it was."""
        with self.lock:
            rels = self.state.relationships.get((kind, source_id), [])
            rels[:] = [r for r in rels if r["entityId"] != entity_id]

    def add_asset(self, name: str, fqn: str) -> dict[str, Any]:
        """A data asset as the Data Map scan would bring it in."""
        return self.portal_create(
            "data_asset", {"name": name, "type": "General", "source": {"type": "AdlsGen2", "fqn": fqn}}
        )

    # --- contract -----------------------------------------------------------------------------------
    def _check_response(self, method: str, path: str, status: int, payload: Any) -> None:
        sub = path[len(BASE) :] if path.startswith(BASE) else path
        try:
            op, _ = _operation(method, sub)
        except LookupError:
            return  # a 404 for a path the API does not have: nothing to validate against
        responses = op.get("responses", {})
        spec = responses.get(str(status)) or responses.get("default")
        schema = (spec or {}).get("schema")
        if schema is None:
            if payload is not None:
                self.contract_errors.append(f"response {status} to {method} {sub} should have no body")
            return
        if sub.startswith("/businessdomains") and status < 300:
            payload = _as_if_parented(payload)
        errors = validate_schema(SPEC, schema, payload)
        if errors:
            self.contract_errors.append(f"response {status} to {method} {sub}: " + "; ".join(errors))

    def _check_query(self, method: str, sub: str, q: dict[str, str]) -> None:
        op, _ = _operation(method, sub)
        params = _spec().get("parameters", {})
        for p in op.get("parameters", []):
            if "$ref" in p:
                p = params[p["$ref"].split("/")[-1]]
            if p.get("in") != "query":
                continue
            value = q.get(p["name"])
            if value is None:
                if p.get("required"):
                    raise ApiError(400, "MissingParameter", f"query parameter {p['name']} is required")
                continue
            if "enum" in p and value not in p["enum"]:
                raise ApiError(
                    400, "InvalidParameter", f"{p['name']}={value!r} is not one of the allowed values"
                )
            if p.get("type") == "boolean" and value not in ("true", "false"):
                raise ApiError(400, "InvalidParameter", f"{p['name']} must be true or false")

    def dispatch(self, method: str, path: str, query: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            raise ApiError(401, "Unauthorized", "missing or wrong bearer token")
        if not path.startswith(BASE):
            raise ApiError(404, "NotFound", f"no such path: {path}")
        sub = path[len(BASE) :].rstrip("/")
        q = dict(parse_qsl(query, keep_blank_values=True))
        if q.get("api-version") != API_VERSION:
            raise ApiError(400, "UnsupportedApiVersion", f"api-version {API_VERSION} is required")
        try:
            _, body_schema = _operation(method, sub)
        except LookupError as exc:
            raise ApiError(404, "NotFound", str(exc)) from exc
        self._check_query(method, sub, q)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise ApiError(400, "InvalidJson", f"body is not JSON: {exc}") from exc
        if method in ("POST", "PUT") or body is not None:
            checked = _as_if_parented(body) if sub.startswith("/businessdomains") else body
            if body_schema is None:
                errors = [f"{method} {sub} takes no body"]
            else:
                errors = validate_schema(SPEC, body_schema, checked)
            if errors:
                msg = f"{method} {sub}: " + "; ".join(errors)
                self.contract_errors.append(msg)
                raise ApiError(400, "InvalidRequest", "request does not match the REST contract: " + msg)
        with self.lock:
            return self._route(method, sub, q, body)

    # --- semantics ----------------------------------------------------------------------------------
    def _route(self, method: str, sub: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = sub.strip("/").split("/")
        kind = COLLECTIONS.get(parts[0])
        if kind is None:
            raise ApiError(404, "NotFound", f"{sub} is not modelled by this server")
        if len(parts) == 1:
            if method == "GET":
                return 200, self._page(parts[0], kind, q)
            return 201, self._create(kind, body)
        obj_id = parts[1]
        if len(parts) == 3 and parts[2] == "relationships":
            return self._relationships(method, kind, obj_id, q, body)
        if len(parts) != 2:
            raise ApiError(404, "NotFound", f"{sub} is not modelled by this server")
        store = self.state.objects[kind]
        if obj_id not in store:
            raise ApiError(404, "NotFound", f"{kind} {obj_id} does not exist")
        if method == "GET":
            return 200, store[obj_id]
        if method == "PUT":
            return 200, self._replace(kind, obj_id, body)
        self._delete(kind, obj_id)
        return 204, None

    def _system_data(self, old: dict[str, Any] | None, who: str = CALLER) -> dict[str, Any]:
        now = _now()
        created = (old or {}).get("systemData") or {}
        return {
            "createdAt": created.get("createdAt", now),
            "createdBy": created.get("createdBy", who),
            "lastModifiedAt": now,
            "lastModifiedBy": who,
        }

    def _scope(self, kind: str, obj: dict[str, Any]) -> str | None:
        return None if kind in ("domain", "data_asset") else obj.get("domain")

    def _check_refs(self, kind: str, obj: dict[str, Any], own_id: str | None) -> None:
        domains = self.state.objects["domain"]
        for other in self.state.objects[kind].values():
            if (
                other["id"] != own_id
                and other.get("name") == obj.get("name")
                and self._scope(kind, other) == self._scope(kind, obj)
            ):
                raise ApiError(409, "Conflict", f"a {kind} named {obj.get('name')!r} exists already")
        if kind == "domain":
            if obj.get("parentId") and obj["parentId"] not in domains:
                raise ApiError(400, "InvalidReference", "parentId is not a domain")
            return
        if kind in ("term", "data_product", "critical_data_element") and obj.get("domain") not in domains:
            raise ApiError(400, "InvalidReference", f"the {kind}'s domain does not exist")
        if kind == "term" and obj.get("parentId"):
            parent = self.state.objects["term"].get(obj["parentId"])
            if parent is None or parent.get("domain") != obj.get("domain"):
                raise ApiError(400, "InvalidReference", "a term's parent must be a term of the same domain")

    def _create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        store = self.state.objects[kind]
        if body["id"] in store:
            raise ApiError(409, "Conflict", f"a {kind} with id {body['id']} exists already")
        obj = copy.deepcopy(body)
        self._check_refs(kind, obj, None)
        obj["systemData"] = self._system_data(None)
        if kind == "term":
            obj["isLeaf"] = True
            if obj.get("parentId"):
                store[obj["parentId"]]["isLeaf"] = False
        if kind == "domain":
            obj["domains"] = []
        store[obj["id"]] = obj
        return obj

    def _replace(self, kind: str, obj_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("id") != obj_id:
            raise ApiError(400, "InvalidRequest", "the body's id must be the path's id")
        store = self.state.objects[kind]
        obj = copy.deepcopy(body)
        self._check_refs(kind, obj, obj_id)
        obj["systemData"] = self._system_data(store[obj_id])
        if kind == "term":
            obj["isLeaf"] = not any(t.get("parentId") == obj_id for t in store.values())
        store[obj_id] = obj
        return obj

    def _delete(self, kind: str, obj_id: str) -> None:
        objs = self.state.objects
        if kind == "domain":
            held = [
                o
                for k in ("term", "data_product", "critical_data_element")
                for o in objs[k].values()
                if o.get("domain") == obj_id
            ]
            held += [d for d in objs["domain"].values() if d.get("parentId") == obj_id]
            if held:
                raise ApiError(409, "Conflict", f"the domain still holds {len(held)} objects")
        if kind == "term" and any(t.get("parentId") == obj_id for t in objs["term"].values()):
            raise ApiError(409, "Conflict", "the term has child terms")
        del objs[kind][obj_id]
        self.state.relationships.pop((kind, obj_id), None)
        for rels in self.state.relationships.values():
            rels[:] = [r for r in rels if r["entityId"] != obj_id and r.get("assetId") != obj_id]

    def _page(self, collection: str, kind: str, q: dict[str, str]) -> dict[str, Any]:
        items = sorted(
            self.state.objects[kind].values(),
            key=lambda o: (o.get("systemData", {}).get("createdAt", ""), o["id"]),
        )
        if q.get("domainId"):
            items = [o for o in items if o.get("domain") == q["domainId"]]
        if q.get("parentId"):
            items = [o for o in items if o.get("parentId") == q["parentId"]]
        return self._paged(f"/{collection}", items, q, token="$skipToken" if kind == "domain" else "skip")

    def _paged(self, sub: str, items: list[dict[str, Any]], q: dict[str, str], token: str) -> dict[str, Any]:
        start = int(q.get(token) or 0)
        size = min(int(q.get("top") or self.page_size), self.page_size)
        page: dict[str, Any] = {"value": items[start : start + size]}
        if start + size < len(items):
            nxt = {k: v for k, v in q.items() if k != token}
            nxt[token] = str(start + size)
            page["nextLink"] = f"{self.endpoint}{BASE}{sub}?{urlencode(nxt)}"
        return page

    def _relationships(
        self, method: str, kind: str, obj_id: str, q: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if kind not in ("data_product", "critical_data_element", "term"):
            raise ApiError(404, "NotFound", "only data product, CDE and term relationships are modelled")
        if obj_id not in self.state.objects[kind]:
            raise ApiError(404, "NotFound", f"{kind} {obj_id} does not exist")
        if kind == "term":
            return self._term_relationships(method, obj_id, q, body)
        entity_type = q["entityType"]
        rels = self.state.relationships.setdefault((kind, obj_id), [])
        if method == "GET":
            chosen = [r for r in rels if r["entityType"] == entity_type]
            if kind == "critical_data_element":  # CdeRelationship: only its type and id
                chosen = [
                    {"relationshipType": r["relationshipType"], "entityId": r["entityId"]} for r in chosen
                ]
            else:
                chosen = [
                    {k: r[k] for k in ("entityId", "relationshipType", "description", "systemData") if k in r}
                    for r in chosen
                ]
            return 200, self._paged(
                f"/{'dataProducts' if kind == 'data_product' else 'criticalDataElements'}/{obj_id}/relationships",
                chosen,
                q,
                token="skip",
            )
        if method == "DELETE":
            before = len(rels)
            rels[:] = [
                r for r in rels if not (r["entityType"] == entity_type and r["entityId"] == q["entityId"])
            ]
            if len(rels) == before:
                raise ApiError(404, "NotFound", "no such relationship")
            return 204, None
        if not body:
            raise ApiError(400, "InvalidRequest", "a relationship is required")
        created: dict[str, Any] = {}
        for rel in body.values():
            self._check_target(entity_type, rel)
            if any(r["entityType"] == entity_type and r["entityId"] == rel["entityId"] for r in rels):
                raise ApiError(409, "Conflict", "the relationship exists already")
            stored = {"entityType": entity_type, **copy.deepcopy(rel), "systemData": self._system_data(None)}
            stored.setdefault("relationshipType", "Related")
            rels.append(stored)
            created = stored
        return 200, {
            k: created[k]
            for k in ("entityId", "relationshipType", "description", "systemData")
            if k in created
        }

    def _term_relationships(self, method: str, term_id: str, q: dict[str, str], body: Any) -> tuple[int, Any]:
        """Terms_ListRelatedEntities / AddRelatedEntity / DeleteRelated: entityType and relationshipType
        are optional filters (the spec marks them not required); the body of a create is the
        TermRelationship itself. A relationship is unique per (entity type, entity, relationship type);
        a term cannot relate to itself. It is stored on the term it was made on (the spec says nothing of
        a mirrored entry on the other end, so none is made)."""
        rels = self.state.relationships.setdefault(("term", term_id), [])

        def matches(r: dict[str, Any]) -> bool:
            return all(
                q.get(param) in (None, r[key])
                for param, key in (
                    ("entityType", "entityType"),
                    ("relationshipType", "relationshipType"),
                    ("entityId", "entityId"),
                )
            )

        if method == "GET":
            chosen = [
                {k: r[k] for k in ("entityId", "relationshipType", "description", "systemData") if k in r}
                for r in rels
                if matches(r)
            ]
            return 200, self._paged(f"/terms/{term_id}/relationships", chosen, q, token="skip")
        if method == "DELETE":
            before = len(rels)
            rels[:] = [r for r in rels if not matches(r)]
            if len(rels) == before:
                raise ApiError(404, "NotFound", "no such relationship")
            return 204, None
        entity_type = q.get("entityType", "TERM")
        rel = dict(body)
        rel.setdefault("relationshipType", "Related")
        if rel["entityId"] == term_id:
            raise ApiError(400, "InvalidRequest", "a term cannot be related to itself")
        self._check_target(entity_type, rel)
        key = (entity_type, rel["entityId"], rel["relationshipType"])
        if any((r["entityType"], r["entityId"], r["relationshipType"]) == key for r in rels):
            raise ApiError(409, "Conflict", "the relationship exists already")
        stored = {"entityType": entity_type, **rel, "systemData": self._system_data(None)}
        rels.append(stored)
        return 200, {k: stored[k] for k in ("entityId", "relationshipType", "description", "systemData")}

    def _check_target(self, entity_type: str, rel: dict[str, Any]) -> None:
        objs = self.state.objects
        target = {
            "TERM": "term",
            "DATAASSET": "data_asset",
            "DATAPRODUCT": "data_product",
            "CRITICALDATAELEMENT": "critical_data_element",
            "DOMAIN": "domain",
        }.get(entity_type)
        if target is not None:
            if rel["entityId"] not in objs[target]:
                raise ApiError(400, "InvalidReference", f"{entity_type} {rel['entityId']} does not exist")
        elif entity_type == "CRITICALDATACOLUMN":
            if rel.get("assetId") not in objs["data_asset"]:
                raise ApiError(
                    400, "InvalidReference", "a critical data column needs the id of its data asset (assetId)"
                )
        else:
            raise ApiError(400, "InvalidRequest", f"relationships to {entity_type} are not modelled")


def _as_if_parented(payload: Any) -> Any:
    """A root domain (or a page of domains) with the placeholder parent the schema insists on."""
    if isinstance(payload, dict) and isinstance(payload.get("value"), list):
        return {**payload, "value": [_as_if_parented(d) for d in payload["value"]]}
    if isinstance(payload, dict) and "id" in payload and "parentId" not in payload:
        return {**payload, "parentId": PLACEHOLDER_PARENT}
    return payload


def main() -> None:
    """Serve until stdin closes: `python tests/servers/unified_catalog_server.py [PAGE_SIZE] [ASSETS…]`
    prints the endpoint, then a JSON line of statistics when stdin reaches EOF (used by bench/unified.py).
    Each ASSET is `name=fqn`, registered as a data asset before serving."""
    page_size = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with UnifiedCatalogServer(page_size=page_size) as srv:
        for spec in sys.argv[2:]:
            name, _, fqn = spec.partition("=")
            srv.add_asset(name, fqn)
        print(srv.endpoint, flush=True)
        sys.stdin.read()
        stats: dict[str, Any] = {"contract_errors": srv.contract_errors[:5]}
        for kind in ("domain", "term", "data_product", "critical_data_element"):
            keys = [(o.get("domain"), o.get("name")) for o in srv.of(kind)]
            stats[kind] = len(keys)
            stats[f"duplicate_{kind}"] = len(keys) - len(set(keys))
        stats["relationships"] = sum(len(v) for v in srv.state.relationships.values())
        print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
