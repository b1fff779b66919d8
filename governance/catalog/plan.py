"""Diff desired vs live catalog state into a Plan of create | update | delete | noop items.

Objects (terms, classification types, rules, entities) are deleted only under `prune` and only when
managed; relations (term assignments, classifications) that the tool made are reconciled on every apply,
while those made by people are listed as unmanaged and left alone. A term that leaves the files but is
still assigned is set to Expired instead of deleted, unless `force`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from governance.catalog.model import CatalogState, EntityState, TermState
from governance.specs.catalog_sync import Action, Kind, SyncChange, SyncResult, SyncSummary


@dataclass
class Change:
    action: Action
    kind: Kind
    name: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    managed: bool = True

    def model(self) -> SyncChange:
        """The change as it appears in the sync JSON (`note` when there is one, `managed` when False)."""
        optional: dict[str, Any] = {}
        if self.note:
            optional["note"] = self.note
        if not self.managed:
            optional["managed"] = False
        return SyncChange(
            action=self.action,
            kind=self.kind,
            name=self.name,
            before=self.before,
            after=self.after,
            **optional,
        )

    def as_dict(self) -> dict[str, Any]:
        return self.model().dump()


@dataclass
class Plan:
    backend: str
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=lambda: {"read": 0, "write": 0})

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action != "noop"]

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        return {a: counts.get(a, 0) for a in ("create", "update", "delete", "noop")}

    def result(self, **extra: Any) -> SyncResult:
        """The sync JSON (SPEC §4) of this plan; `extra` sets the optional fields (kind, applied, …)."""
        return SyncResult(
            backend=self.backend,
            changes=[c.model() for c in self.changes],
            summary=SyncSummary(**self.summary()),
            requests=dict(self.requests),
            warnings=list(self.warnings),
            **extra,
        )

    def payload(self, **extra: Any) -> dict[str, Any]:
        return self.result(**extra).dump()

    def text(self, title: str, applied: bool) -> str:
        sym = {"create": "+", "update": "~", "delete": "-"}
        lines = [f"{title} ({self.backend})"]
        for c in self.pending:
            detail = ""
            if c.action == "update":
                keys = sorted(k for k in set(c.before) | set(c.after) if c.before.get(k) != c.after.get(k))
                detail = " (" + ", ".join(keys) + ")" if keys else ""
            lines.append(f"  {sym[c.action]} {c.kind} {c.name}{detail}" + (f"  # {c.note}" if c.note else ""))
        for c in self.changes:
            if c.action == "noop" and c.note:
                lines.append(f"    {c.kind} {c.name}  # {c.note}")
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        s = self.summary()
        verb = "applied" if applied else "plan"
        lines.append(
            f"{verb}: {s['create']} to create, {s['update']} to update, {s['delete']} to delete, "
            f"{s['noop']} unchanged; requests: {self.requests['read']} read, {self.requests['write']} write"
        )
        return "\n".join(lines)


def _noop(
    kind: Kind, name: str, after: dict[str, Any] | None = None, note: str | None = None, managed: bool = True
) -> Change:
    return Change("noop", kind, name, {}, after or {}, note, managed)


UNKNOWN_TARGET = "not in the files, the table or the catalog; skipped"


def _known(target: str, desired: CatalogState, live: CatalogState) -> bool:
    """A relation's target exists or can be made: declared (or read from the table), or in the catalog."""
    return target in desired.entities or target in live.entities


def plan_entities(desired: CatalogState, live: CatalogState, needed: set[str], prune: bool) -> list[Change]:
    """Create the dataset/column entities a relation needs when the scanner has not made them yet."""
    out: list[Change] = []
    wanted: set[str] = set()
    for name in needed:
        e = desired.entities.get(name)
        if e is None:
            continue
        wanted.add(name)
        if e.kind == "column":
            wanted.add(e.dataset)
    for name in sorted(wanted, key=lambda n: (desired.entities[n].kind != "dataset", n)):
        d = desired.entities[name]
        cur = live.entities.get(name)
        if cur is None:
            out.append(Change("create", "entity", name, {}, d.fields()))
        else:
            out.append(
                _noop(
                    "entity", name, cur.fields(), None if cur.managed else "made by the scanner", cur.managed
                )
            )
    for name, cur in sorted(live.entities.items()):
        if name in desired.entities or not cur.managed:
            continue
        if prune:
            out.append(Change("delete", "entity", name, cur.fields(), {}))
        else:
            out.append(_noop("entity", name, cur.fields(), "no longer declared (managed; --prune deletes)"))
    return out


def plan_glossary(
    desired: CatalogState, live: CatalogState, prune: bool = False, force: bool = False
) -> list[Change]:
    out: list[Change] = []
    needed = {e for (_, e) in desired.assignments}
    out += plan_entities(desired, live, needed, prune=False)
    # terms: parents first so hierarchy references resolve on create
    for name in _parents_first(desired.terms):
        d = desired.terms[name]
        cur = live.terms.get(name)
        if cur is None:
            out.append(Change("create", "term", name, {}, d.fields()))
        elif cur.fields() != d.fields() or not cur.managed:
            note = None if cur.managed else "adopted: made outside the files, now managed"
            out.append(Change("update", "term", name, cur.fields(), d.fields(), note))
        else:
            out.append(_noop("term", name, d.fields()))
    # assignments of declared terms
    for key in sorted(set(desired.assignments) | {k for k in live.assignments if k[0] in desired.terms}):
        term, target = key
        name = f"{term} -> {target}"
        if key in desired.assignments:
            if key in live.assignments:
                out.append(_noop("assignment", name))
            elif not _known(target, desired, live):
                out.append(_noop("assignment", name, None, f"{target}: {UNKNOWN_TARGET}"))
            else:
                out.append(Change("create", "assignment", name, {}, {"term": term, "entity": target}))
        elif live.assignments[key]:
            out.append(Change("delete", "assignment", name, {"term": term, "entity": target}, {}))
        else:
            out.append(
                _noop("assignment", name, None, "unmanaged (made outside the files); left alone", False)
            )
    # terms that left the files
    for name in sorted(set(live.terms) - set(desired.terms)):
        cur = live.terms[name]
        if not cur.managed:
            out.append(
                _noop("term", name, cur.fields(), "unmanaged (made outside the files); left alone", False)
            )
            continue
        if not prune:
            out.append(_noop("term", name, cur.fields(), "no longer in the files (managed; --prune deletes)"))
            continue
        assigned = live.assigned(name)
        if assigned and not force:
            if cur.status == "Expired":
                out.append(
                    _noop("term", name, cur.fields(), f"expired: still assigned to {len(assigned)} entities")
                )
            else:
                after = {**cur.fields(), "status": "Expired"}
                out.append(
                    Change(
                        "update",
                        "term",
                        name,
                        cur.fields(),
                        after,
                        f"still assigned to {len(assigned)} entities: expired, not deleted (--force deletes)",
                    )
                )
            continue
        for target in assigned:
            out.append(
                Change("delete", "assignment", f"{name} -> {target}", {"term": name, "entity": target}, {})
            )
        out.append(Change("delete", "term", name, cur.fields(), {}))
    # deleting a parent before its children would orphan them: children first
    return _order_term_deletes(out, live.terms)


def plan_classifications(
    desired: CatalogState, live: CatalogState, prune: bool = False, force: bool = False
) -> list[Change]:
    out: list[Change] = []
    needed = {e for (e, _) in desired.classifications}
    out += plan_entities(desired, live, needed, prune)
    for name, d in sorted(desired.classification_types.items()):
        cur = live.classification_types.get(name)
        if cur is None:
            out.append(Change("create", "classification_type", name, {}, d.fields()))
        elif cur.fields() != d.fields() or not cur.managed:
            note = None if cur.managed else "adopted: made outside the files, now managed"
            out.append(Change("update", "classification_type", name, cur.fields(), d.fields(), note))
        else:
            out.append(_noop("classification_type", name, d.fields()))
    for name, rule in sorted(desired.rules.items()):
        cur_rule = live.rules.get(name)
        after = rule.fields()
        if cur_rule is None:
            out.append(Change("create", "rule", name, {}, after))
        elif cur_rule.fields() != after or not cur_rule.managed:
            out.append(Change("update", "rule", name, cur_rule.fields(), after))
        else:
            out.append(_noop("rule", name, after))
    for key in sorted(set(desired.classifications) | set(live.classifications)):
        entity, label = key
        name = f"{entity}: {label}"
        if key in desired.classifications:
            if key in live.classifications:
                out.append(_noop("classification", name))
            elif not _known(entity, desired, live):
                out.append(_noop("classification", name, None, f"{entity}: {UNKNOWN_TARGET}"))
            else:
                out.append(Change("create", "classification", name, {}, {"entity": entity, "label": label}))
        elif live.classifications[key]:
            out.append(Change("delete", "classification", name, {"entity": entity, "label": label}, {}))
        else:
            out.append(
                _noop("classification", name, None, "unmanaged (made outside the files); left alone", False)
            )
    still_used = {label for (e, label), managed in live.classifications.items() if not managed}
    still_used |= {label for (_, label) in desired.classifications}
    for name in sorted(set(live.rules) - set(desired.rules)):
        cur_rule = live.rules[name]
        if not cur_rule.managed:
            out.append(
                _noop(
                    "rule", name, cur_rule.fields(), "unmanaged (made outside the files); left alone", False
                )
            )
        elif prune:
            out.append(Change("delete", "rule", name, cur_rule.fields(), {}))
        else:
            out.append(
                _noop("rule", name, cur_rule.fields(), "no longer in the files (managed; --prune deletes)")
            )
    for name in sorted(set(live.classification_types) - set(desired.classification_types)):
        cur = live.classification_types[name]
        if not cur.managed:
            out.append(
                _noop(
                    "classification_type",
                    name,
                    cur.fields(),
                    "unmanaged (made outside the files); left alone",
                    False,
                )
            )
        elif not prune:
            out.append(
                _noop(
                    "classification_type",
                    name,
                    cur.fields(),
                    "no longer in the files (managed; --prune deletes)",
                )
            )
        elif name in still_used and not force:
            out.append(
                _noop(
                    "classification_type",
                    name,
                    cur.fields(),
                    "still used by unmanaged classifications (--force deletes)",
                )
            )
        else:
            if force:
                for (e, label), managed in sorted(live.classifications.items()):
                    if label == name and not managed:
                        out.append(
                            Change(
                                "delete",
                                "classification",
                                f"{e}: {label}",
                                {"entity": e, "label": label},
                                {},
                                "forced",
                            )
                        )
            out.append(Change("delete", "classification_type", name, cur.fields(), {}))
    return out


def _parents_first(terms: dict[str, TermState]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, depth: int = 0) -> None:
        if name in seen or name not in terms or depth > len(terms):
            return
        parent = terms[name].parent
        if parent:
            visit(parent, depth + 1)
        seen.add(name)
        order.append(name)

    for n in sorted(terms):
        visit(n)
    return order


def _order_term_deletes(changes: list[Change], live: dict[str, TermState]) -> list[Change]:
    deletes = [c for c in changes if c.kind == "term" and c.action == "delete"]
    if len(deletes) < 2:
        return changes
    depth = {}
    for c in deletes:
        d, p, guard = 0, live[c.name].parent, 0
        while p and p in live and guard < len(live):
            d, p, guard = d + 1, live[p].parent, guard + 1
        depth[c.name] = d
    ordered = iter(sorted(deletes, key=lambda c: -depth[c.name]))
    return [next(ordered) if (c.kind == "term" and c.action == "delete") else c for c in changes]


def entity_of(name: str, desired: CatalogState, live: CatalogState) -> EntityState | None:
    return live.entities.get(name) or desired.entities.get(name)
