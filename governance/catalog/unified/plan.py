"""Diff desired vs live Unified Catalog state into the sync plan of SPEC §4 (kinds `domain`, `term`,
`data_product`, `critical_data_element`, `relationship`).

Objects are matched by kind and name. One without the tool's marker was made by people (in the portal):
it is never updated or deleted, even when the files declare the same name (a noop that says so), and a
relationship may still point at it. Managed objects that left the files are deleted only under `prune`,
children before parents, and a domain that still holds objects made by people is kept. Relationships of
declared products and CDEs are reconciled on every apply; those made by people are left alone.
"""

from __future__ import annotations

from typing import Any, cast

from governance.catalog.plan import Change, Kind
from governance.catalog.unified.model import TARGET_OBJECT, Obj, Rel, UnifiedState

# create order: what a later object refers to exists first
ORDER = ("domain", "term", "data_product", "critical_data_element")
NOT_OURS = "made outside the files (e.g. in the portal); left alone"


def _k(kind: str) -> Kind:
    return cast(Kind, kind)


def _rel_fields(r: Rel) -> dict[str, Any]:
    return {
        "source_kind": r.source_kind,
        "source": r.source,
        "target_kind": r.target_kind,
        "target": r.target,
    }


def plan_unified(
    desired: UnifiedState,
    live: UnifiedState,
    kinds: tuple[str, ...] = ORDER,
    prune: bool = False,
    create_only: tuple[str, ...] = (),
) -> list[Change]:
    """`kinds`: the object kinds this sync owns; `create_only`: kinds created when missing but otherwise
    left as they are (sync-glossary creates a term's domain, sync-domains keeps it in shape)."""
    out: list[Change] = []
    for kind in ORDER:
        if kind not in kinds and kind not in create_only:
            continue
        for name in _parents_first(desired.of(kind)):
            d = desired.objects[(kind, name)]
            cur = live.objects.get((kind, name))
            if cur is None:
                out.append(Change("create", _k(kind), name, {}, d.fields))
            elif not cur.managed:
                out.append(Change("noop", _k(kind), name, cur.fields, {}, NOT_OURS, managed=False))
            elif kind in create_only or cur.fields == d.fields:
                out.append(Change("noop", _k(kind), name, {}, d.fields))
            else:
                out.append(Change("update", _k(kind), name, cur.fields, d.fields))
    if {"data_product", "critical_data_element", "term"} & set(kinds):
        out += _relationships(desired, live)
    out += _leftovers(desired, live, kinds, prune)
    return out


def _relationships(desired: UnifiedState, live: UnifiedState) -> list[Change]:
    out: list[Change] = []
    creating = {(c, n) for (c, n) in desired.objects}
    for r in sorted(set(desired.relationships) | set(live.relationships)):
        if (r.source_kind, r.source) not in desired.objects:
            continue  # relationships of objects that left the files go with them
        if r in desired.relationships:
            if r in live.relationships:
                out.append(Change("noop", "relationship", r.name, {}, _rel_fields(r)))
            elif (target := (TARGET_OBJECT.get(r.target_kind, r.target_kind), r.target)) in live.targets or (
                target in creating
            ):
                out.append(Change("create", "relationship", r.name, {}, _rel_fields(r)))
            else:
                note = {
                    "term": "term not in the catalog yet (sync-glossary creates it)",
                    "data_asset": "data asset not in the catalog yet (register or scan it first)",
                    "column": "its data asset is not in the catalog yet (register or scan it first)",
                }.get(r.target_kind, "term not in the catalog yet")
                out.append(Change("noop", "relationship", r.name, {}, _rel_fields(r), note))
        elif live.relationships[r]:
            out.append(Change("delete", "relationship", r.name, _rel_fields(r), {}))
        else:
            out.append(Change("noop", "relationship", r.name, _rel_fields(r), {}, NOT_OURS, managed=False))
    return out


def _leftovers(
    desired: UnifiedState, live: UnifiedState, kinds: tuple[str, ...], prune: bool
) -> list[Change]:
    out: list[Change] = []
    for kind in reversed(ORDER):
        if kind not in kinds:
            continue
        gone = {n: o for n, o in live.of(kind).items() if (kind, n) not in desired.objects}
        for name in reversed(_parents_first(gone)):
            cur = gone[name]
            if not cur.managed:
                out.append(Change("noop", _k(kind), name, cur.fields, {}, NOT_OURS, managed=False))
            elif not prune:
                out.append(
                    Change(
                        "noop",
                        _k(kind),
                        name,
                        cur.fields,
                        {},
                        "no longer in the files (managed; --prune deletes)",
                    )
                )
            elif kind == "domain" and (held := _still_held(desired, live, kinds, name)):
                note = (
                    f"still holds {held} objects that stay (made outside the files, or another sync's); kept"
                )
                out.append(Change("noop", "domain", name, cur.fields, {}, note))
            else:
                out.append(Change("delete", _k(kind), name, cur.fields, {}))
    return out


def _still_held(desired: UnifiedState, live: UnifiedState, kinds: tuple[str, ...], domain: str) -> int:
    """Objects in `domain` (or child domains) that this plan does not delete."""

    def stays(kind: str, name: str, o: Obj) -> bool:
        return kind not in kinds or not o.managed or (kind, name) in desired.objects

    inside = sum(
        1
        for (k, n), o in live.objects.items()
        if k != "domain" and o.fields.get("domain") == domain and stays(k, n, o)
    )
    children = sum(
        1 for n, o in live.of("domain").items() if o.fields.get("parent") == domain and stays("domain", n, o)
    )
    return inside + children


def _parents_first(objs: dict[str, Obj]) -> list[str]:
    """Names sorted so a parent (domain parent, term parent) comes before its children."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str, depth: int = 0) -> None:
        if name in seen or depth > 100:
            return
        parent = objs[name].fields.get("parent")
        if parent in objs:
            visit(parent, depth + 1)
        seen.add(name)
        done.append(name)

    for name in sorted(objs):
        visit(name)
    return done
