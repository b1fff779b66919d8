"""The Purview Unified Catalog REST API (`{endpoint}/datagovernance/catalog`) as a sync backend.

The API is a preview: `API_VERSION` is the one version this code is tested against (the contract server
validates every request against its published schema); `catalog.purview.unified_catalog.api_version`
overrides it. Requests go through the shared Azure transport (credential, retries with Retry-After, the
catalog's request budget, read/write counts).

- Objects carry the managed attribute `managed-by: smartflow-gov`; data product relationships carry it in
  their description. A CDE relationship has no field to carry it (the API returns only its type and id),
  so the relationships of a managed CDE are owned by its file.
- Creates send a client-chosen, deterministic id (ids.py) and are retried after a dropped connection; a 409
  on our own id means an earlier attempt succeeded: the object is read back and converges.
- Data assets are not created here: a data product names the data asset whose name is the dataset's
  logical name, or whose `source.fqn` ends with the dataset's path or table; a CDE names a column as a
  critical data column (`assetId` that asset, `entityId` the column's derived id).
"""

from __future__ import annotations

import contextlib
from typing import Any

from governance.azure.transport import AzureHttp, Conflict, Counts
from governance.catalog.backends.base import Requests
from governance.catalog.plan import Change
from governance.catalog.unified.ids import object_id
from governance.catalog.unified.model import MARKER, MARKER_NAME, MARKER_VALUE, Obj, Rel, UnifiedState
from governance.catalog.unified.record import RelationshipRecord, slim, stamp
from governance.config import check_endpoint, expand_env
from governance.errors import InfraError
from governance.project import Project

API_VERSION = "2025-09-15-preview"
SCOPE = "https://purview.azure.net/.default"
BASE = "/datagovernance/catalog"

COLLECTION = {
    "domain": "/businessdomains",
    "term": "/terms",
    "data_product": "/dataProducts",
    "critical_data_element": "/criticalDataElements",
}
ENTITY_TYPE = {
    "term": "TERM",
    "data_asset": "DATAASSET",
    "column": "CRITICALDATACOLUMN",
    "synonym": "TERM",
    "related": "TERM",
}
TARGETS = {
    "data_product": ("term", "data_asset"),
    "critical_data_element": ("term", "column"),
    "term": ("synonym", "related"),
}
# a term's relationships to terms are one list (entityType TERM), told apart by relationshipType
TERM_RELATION = {"synonym": "Synonym", "related": "Related"}
ROLES = ("owner", "expert")


class RemoteUnifiedCatalog:
    def __init__(self, project: Project, http: AzureHttp | None = None) -> None:
        cfg = project.config.catalog.purview
        if cfg is None:
            raise InfraError("catalog.purview is not configured")
        uc = cfg.unified_catalog
        endpoint = check_endpoint(expand_env(uc.endpoint, uc.where), uc.where).rstrip("/")
        self.name = "purview-unified"
        self.project = project
        self.base = endpoint + BASE
        self.api_version = uc.api_version or API_VERSION
        self.contacts = {k.lower(): v for k, v in cfg.contacts.items()}
        self.emails = {v: k for k, v in cfg.contacts.items()}
        self.warnings: list[str] = []
        self.counts = Counts()
        self.http = http or AzureHttp(
            "unified catalog",
            scope=SCOPE,
            per_second=cfg.operations_per_second,
            max_retries=cfg.max_retries,
            backoff=cfg.retry_backoff,
            timeout=cfg.timeout,
            counts=self.counts,
        )
        self.ids: dict[tuple[str, str], str] = {}  # (kind, name) -> live or desired id
        self.assets: dict[str, str] = {}  # dataset -> data asset id
        self.asset_ids: set[str] | None = None  # every data asset id, when the list was read
        self.stamps: dict[str, str] = {}  # object id -> systemData stamp as listed
        self.record = RelationshipRecord.for_catalog(project.state_dir, self.base, project.config.project)

    @property
    def requests(self) -> Requests:
        return Requests(self.http.counts.read, self.http.counts.write)

    def close(self) -> None:
        self.http.close()

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {"api-version": self.api_version, **extra}

    def _list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.http.pages(self.base + path, params=self._params(**params)))

    # --- read -------------------------------------------------------------------------------------
    def read(self, desired: UnifiedState, cached: bool = False) -> UnifiedState:
        """Objects are always listed. Relationships are listed per object, except that with `cached` an
        object whose systemData stamp has not moved since the record was made reuses the record."""
        live = UnifiedState()
        by_id = {o.id: (o.kind, o.name) for o in desired.objects.values()}
        raw: dict[str, list[dict[str, Any]]] = {k: self._list(p) for k, p in COLLECTION.items()}
        names: dict[str, str] = {}  # id -> name, over every kind (ids are unique uuids)
        for items in raw.values():
            for item in items:
                managed = _managed(item)
                name = (
                    by_id[item["id"]][1] if managed and item["id"] in by_id else item.get("name", item["id"])
                )
                names[item["id"]] = name
                self.stamps[item["id"]] = stamp(item)
        for kind, items in raw.items():
            for item in items:
                managed = _managed(item)
                name = names[item["id"]]
                fields = self._fields(kind, item, names)
                want = desired.objects.get((kind, name))
                if not managed and want and kind != "domain" and want.fields["domain"] != fields["domain"]:
                    name = f"{name} ({item['id']})"  # names are unique per domain: another domain's namesake
                key = (kind, name)
                if key in live.objects and live.objects[key].managed and not managed:
                    continue  # a managed object wins over a same-named one made by people
                live.add(Obj(kind, name, item["id"], fields, managed))  # type: ignore[arg-type]
        self.ids = {(o.kind, o.name): o.id for o in desired.objects.values()}
        self.ids.update({(o.kind, o.name): o.id for o in live.objects.values()})
        live.targets |= {("term", n) for n in live.of("term")}
        self._read_assets(desired, live)
        term_sources = {r.source for r in desired.relationships if r.source_kind == "term"}
        for kind in ("data_product", "critical_data_element", "term"):
            for name, obj in live.of(kind).items():
                if (kind, name) not in desired.objects:
                    continue  # the relationships of others go with them
                if kind == "term" and not (
                    obj.managed and (name in term_sources or self._recorded_any(obj.id))
                ):
                    continue  # a term that never had relationships written by the tool
                self._read_relationships(kind, obj, live, cached)
        self.record.save()
        return live

    def _recorded_any(self, object_id: str) -> bool:
        entry = self.record.entries.get(object_id) or {}
        return any(entry.get("rels", {}).values())

    def _read_assets(self, desired: UnifiedState, live: UnifiedState) -> None:
        wanted = {r.target for r in desired.relationships if r.target_kind == "data_asset"}
        wanted |= {r.target.rsplit(".", 1)[0] for r in desired.relationships if r.target_kind == "column"}
        if not wanted:
            return
        assets = self._list("/dataAssets", includeLineage="false", includeExtendedProperties="false")
        self.asset_ids = {str(a["id"]) for a in assets}
        for ds in sorted(wanted):
            spec = self.project.config.datasets.get(ds)
            suffixes = [s for s in (spec.path if spec else None, spec.table if spec else None) if s]
            for a in assets:
                fqn = str((a.get("source") or {}).get("fqn") or "").rstrip("/")
                if a.get("name") == ds or any(
                    fqn.endswith("/" + s) or fqn.endswith("." + s) for s in suffixes
                ):
                    self.assets[ds] = a["id"]
                    break
        live.targets |= {("data_asset", ds) for ds in self.assets}
        for r in desired.relationships:
            if r.target_kind == "column" and r.target.rsplit(".", 1)[0] in self.assets:
                live.targets.add(("column", r.target))
        missing = sorted(wanted - set(self.assets))
        if missing:
            self.warnings.append(
                "not in the Unified Catalog as data assets yet (their relationships wait): "
                + ", ".join(missing)
            )

    def _read_relationships(self, kind: str, obj: Obj, live: UnifiedState, cached: bool) -> None:
        back: dict[str, dict[str, str]] = {
            "term": {i: n for (k, n), i in self.ids.items() if k == "term"},
            "data_asset": {i: ds for ds, i in self.assets.items()},
            "column": {},
        }
        back["synonym"] = back["related"] = back["term"]
        pid = self.project.config.project
        for ds, spec in self.project.config.datasets.items():
            for col in spec.columns:
                back["column"][object_id(pid, "column", f"{ds}.{col}")] = f"{ds}.{col}"
        entity_types = tuple(dict.fromkeys(ENTITY_TYPE[t] for t in TARGETS[kind]))
        object_stamp = self.stamps.get(obj.id, "")
        lists = self.record.get(obj.id, object_stamp, entity_types) if cached else None
        if lists is None:
            path = f"{COLLECTION[kind]}/{obj.id}/relationships"
            lists = {et: [slim(r) for r in self._list(path, entityType=et)] for et in entity_types}
            self.record.put(obj.id, object_stamp, lists)
        else:
            lists = {et: [r for r in items if self._alive(et, r)] for et, items in lists.items()}
        for target_kind in TARGETS[kind]:
            for rel in lists[ENTITY_TYPE[target_kind]]:
                if target_kind in TERM_RELATION and rel.get("relationshipType") != TERM_RELATION[target_kind]:
                    continue
                entity = str(rel.get("entityId"))
                target = back[target_kind].get(entity, f"id:{entity}")
                if kind == "critical_data_element":
                    managed = obj.managed
                else:
                    managed = MARKER in str(rel.get("description") or "")
                live.relationships[Rel(kind, obj.name, target_kind, target)] = managed  # type: ignore[arg-type]

    def _alive(self, entity_type: str, rel: dict[str, Any]) -> bool:
        """A recorded relationship whose target is gone is gone too (the service removes them with it)."""
        entity = str(rel.get("entityId"))
        if entity_type == "TERM":
            return entity in self.stamps  # listed this run
        if entity_type == "DATAASSET" and self.asset_ids is not None:
            return entity in self.asset_ids
        return True

    def _fields(self, kind: str, item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
        def ref(v: Any) -> str | None:
            return None if not v else names.get(v, f"id:{v}")

        contacts = {
            role: sorted(self.emails.get(str(c.get("id")), f"id:{c.get('id')}") for c in people or [])
            for role, people in (item.get("contacts") or {}).items()
        }
        contacts = {r: v for r, v in contacts.items() if v}
        status = item.get("status")
        if kind == "domain":
            return {
                "type": item.get("type"),
                "description": item.get("description"),
                "parent": ref(item.get("parentId")),
                "status": status,
                "contacts": contacts,
            }
        if kind == "term":
            return {
                "domain": ref(item.get("domain")),
                "description": item.get("description"),
                "status": status,
                "acronyms": list(item.get("acronyms") or []),
                "parent": ref(item.get("parentId")),
                "contacts": contacts,
            }
        if kind == "data_product":
            return {
                "domain": ref(item.get("domain")),
                "type": item.get("type"),
                "description": item.get("description"),
                "business_use": item.get("businessUse") or None,
                "update_frequency": item.get("updateFrequency"),
                "status": status,
                "contacts": contacts,
            }
        return {
            "domain": ref(item.get("domain")),
            "data_type": item.get("dataType"),
            "description": item.get("description"),
            "status": status,
            "contacts": contacts,
        }

    # --- write ------------------------------------------------------------------------------------
    def _body(self, obj: Obj) -> dict[str, Any]:
        f = obj.fields
        body: dict[str, Any] = {
            "id": obj.id,
            "name": obj.name,
            "description": f["description"],
            "status": f["status"],
            "managedAttributes": [{"name": MARKER_NAME, "value": MARKER_VALUE}],
        }
        contacts = {
            role: [{"id": self.contacts[e.lower()], "description": role} for e in f["contacts"][role]]
            for role in ROLES
            if f.get("contacts", {}).get(role)
        }
        if contacts:
            body["contacts"] = contacts
        if obj.kind == "domain":
            # the schema requires these on a domain; the service fills systemData and the platform domains
            body.update({"type": f["type"], "thumbnail": {}, "domains": [], "systemData": {}})
            if f["parent"]:
                body["parentId"] = self.ids[("domain", f["parent"])]
            return body
        body["domain"] = self.ids[("domain", f["domain"])]
        if obj.kind == "term":
            body["acronyms"] = f["acronyms"]
            if f["parent"]:
                body["parentId"] = self.ids[("term", f["parent"])]
        elif obj.kind == "data_product":
            body["type"] = f["type"]
            if f["business_use"]:
                body["businessUse"] = f["business_use"]
            if f["update_frequency"]:
                body["updateFrequency"] = f["update_frequency"]
        else:
            body["dataType"] = f["data_type"]
        return body

    def apply(self, changes: list[Change], desired: UnifiedState, live: UnifiedState) -> None:
        try:
            self._apply(changes, desired, live)
        finally:
            self.record.save()  # every write that succeeded is in it

    def _apply(self, changes: list[Change], desired: UnifiedState, live: UnifiedState) -> None:
        for c in changes:
            if c.action == "noop":
                continue
            if c.kind == "relationship":
                self._relationship(c)
                continue
            kind = str(c.kind)
            url = self.base + COLLECTION[kind]
            types = tuple(dict.fromkeys(ENTITY_TYPE[t] for t in TARGETS.get(kind, ())))
            if c.action == "delete":
                obj = live.objects[(kind, c.name)]
                self.http.send("DELETE", f"{url}/{obj.id}", params=self._params(), ok_missing=True)
                self.record.forget(obj.id)
                continue
            want = Obj(desired.objects[(kind, c.name)].kind, c.name, self.ids[(kind, c.name)], c.after)
            if c.action == "update":
                got = self.http.send(
                    "PUT", f"{url}/{want.id}", params=self._params(), json_body=self._body(want)
                )
                if want.id in self.record.entries:
                    self.record.restamp(want.id, stamp(got.body or {}), types)
                continue
            try:
                got = self.http.send(
                    "POST", url, params=self._params(), json_body=self._body(want), retry_write=True
                )
                self.record.restamp(want.id, stamp(got.body or {}), types)  # a new object: no relationships
            except Conflict:
                self._converge(url, want)
                self.record.forget(want.id)  # made by an earlier attempt: read its relationships next time

    def _converge(self, url: str, want: Obj) -> None:
        """A 409 on create: ours already (an earlier attempt whose answer was lost) converges; anything
        else is someone else's object under the same name."""
        got = self.http.send("GET", f"{url}/{want.id}", params=self._params(), ok_missing=True)
        if got.status == 404 or not _managed(got.body or {}):
            raise InfraError(
                f"unified catalog: a {want.kind} named '{want.name}' exists already and was not made by smartflow-gov"
            )
        self.http.send("PUT", f"{url}/{want.id}", params=self._params(), json_body=self._body(want))

    def _relationship(self, c: Change) -> None:
        f = c.after or c.before
        source_kind, target_kind = f["source_kind"], f["target_kind"]
        source_id = self.ids[(source_kind, f["source"])]
        url = f"{self.base}{COLLECTION[source_kind]}/{source_id}/relationships"
        entity_id = self._target_id(target_kind, f["target"])
        entity_type = ENTITY_TYPE[target_kind]
        params = self._params(entityType=entity_type)
        if c.action == "delete":
            if target_kind in TERM_RELATION:
                params["relationshipType"] = TERM_RELATION[target_kind]
            self.http.send("DELETE", url, params={**params, "entityId": entity_id}, ok_missing=True)
            self.record.removed(source_id, entity_type, entity_id, params.get("relationshipType"))
            return
        rel: dict[str, Any] = {
            "entityId": entity_id,
            "relationshipType": TERM_RELATION.get(target_kind, "Related"),
            "description": MARKER,
        }
        if target_kind == "column":
            rel["assetId"] = self.assets[f["target"].rsplit(".", 1)[0]]
        body = (
            rel if source_kind == "term" else {"relationship": rel}
        )  # Terms_AddRelatedEntity: the relation itself
        with contextlib.suppress(Conflict):  # it exists: an earlier attempt whose answer was lost
            self.http.send("POST", url, params=params, json_body=body, retry_write=True)
        self.record.added(source_id, entity_type, rel)

    def _target_id(self, kind: str, name: str) -> str:
        if name.startswith("id:"):
            return name[3:]
        if kind in ("term", "synonym", "related"):
            return self.ids[("term", name)]
        if kind == "data_asset":
            return self.assets[name]
        return object_id(self.project.config.project, "column", name)


def _managed(item: dict[str, Any]) -> bool:
    return any(
        a.get("name") == MARKER_NAME and a.get("value") == MARKER_VALUE
        for a in item.get("managedAttributes") or []
    )
