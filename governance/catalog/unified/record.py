"""What the tool last saw (or wrote) of each object's relationships in the Unified Catalog, kept under
state_dir so an apply with nothing changed need not list every object's relationships again.

The API lists relationships only per object and per entity type (no list or query returns them), so a
full read of 200 data products and 300 CDEs is ~1,000 requests. The record keeps, per object id, the
object's `systemData` stamp (createdAt|lastModifiedAt, from the paged object list every run reads anyway)
and the relationship items as listed. An `--apply` reuses an object's recorded relationships while its
stamp is unchanged; anything else (a stamp that moved, no record, `--plan`, `--refresh`, `catalog drift`)
lists them again and refreshes the record. Every write the apply makes updates the record as it succeeds.

Nothing in it is secret: object ids, entity ids and the relationship descriptions the service returns.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

VERSION = 1

Items = list[dict[str, Any]]


def stamp(item: dict[str, Any]) -> str:
    sd = item.get("systemData") or {}
    return f"{sd.get('createdAt', '')}|{sd.get('lastModifiedAt', '')}"


def slim(rel: dict[str, Any]) -> dict[str, Any]:
    return {k: rel[k] for k in ("entityId", "relationshipType", "description") if rel.get(k) is not None}


class RelationshipRecord:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") == VERSION:
                self.entries = dict(data.get("objects") or {})
        except (OSError, ValueError, AttributeError):
            self.entries = {}  # no record, or an unreadable one: read everything again

    @classmethod
    def for_catalog(cls, state_dir: Path, base_url: str, project: str) -> RelationshipRecord:
        digest = hashlib.sha256(f"{base_url}|{project}".encode()).hexdigest()[:16]
        return cls(state_dir / "unified-catalog" / f"relationships-{digest}.json")

    def get(
        self, object_id: str, object_stamp: str, entity_types: tuple[str, ...]
    ) -> dict[str, Items] | None:
        """The recorded relationship items by entity type, when recorded at this stamp for every type."""
        entry = self.entries.get(object_id)
        if not entry or entry.get("stamp") != object_stamp:
            return None
        rels = entry.get("rels") or {}
        if any(et not in rels for et in entity_types):
            return None
        return {et: list(rels[et]) for et in entity_types}

    def put(self, object_id: str, object_stamp: str, rels: dict[str, Items]) -> None:
        self.entries[object_id] = {"stamp": object_stamp, "rels": {k: list(v) for k, v in rels.items()}}

    def restamp(self, object_id: str, object_stamp: str, entity_types: tuple[str, ...]) -> None:
        """The object itself was written (its stamp moved, its relationships did not); a new object starts
        with none."""
        entry = self.entries.setdefault(object_id, {"rels": {et: [] for et in entity_types}})
        entry["stamp"] = object_stamp

    def added(self, object_id: str, entity_type: str, rel: dict[str, Any]) -> None:
        entry = self.entries.get(object_id)
        if entry is None or entity_type not in entry.get("rels", {}):
            return
        key = (rel.get("entityId"), rel.get("relationshipType"))
        items = [
            r for r in entry["rels"][entity_type] if (r.get("entityId"), r.get("relationshipType")) != key
        ]
        entry["rels"][entity_type] = [*items, slim(rel)]

    def removed(
        self, object_id: str, entity_type: str, entity_id: str, relationship_type: str | None = None
    ) -> None:
        entry = self.entries.get(object_id)
        if entry is None or entity_type not in entry.get("rels", {}):
            return
        entry["rels"][entity_type] = [
            r
            for r in entry["rels"][entity_type]
            if not (r.get("entityId") == entity_id and relationship_type in (None, r.get("relationshipType")))
        ]

    def forget(self, object_id: str) -> None:
        self.entries.pop(object_id, None)

    def save(self) -> None:
        from governance.lock import write_atomic

        write_atomic(self.path, json.dumps({"version": VERSION, "objects": self.entries}, sort_keys=True))
