"""`validate` rules of glossary/*.yaml: duplicate terms, parent and related terms, assignments,
synonyms that name another term, and cycles in the hierarchy."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.validation import Validator


def rules(v: Validator) -> None:
    terms = v.p.terms
    v.duplicates(terms, lambda t: t.name.lower(), "term")
    names = {t.name for t in terms}
    parents = {t.name: t.parent for t in terms}
    for t in terms:
        if t.parent and t.parent not in names and not v.excused("terms", t.parent):
            v.add(
                v.at(t, "parent"),
                f"term '{t.name}': unknown parent term '{t.parent}'{v.suggest(t.parent, names)}",
            )
        for i, rel in enumerate(t.related):
            if rel == t.name:
                v.add(v.at(t, "related", i), f"term '{t.name}' is related to itself")
            elif rel not in names and not v.excused("terms", rel):
                v.add(
                    v.at(t, "related", i),
                    f"term '{t.name}': unknown related term '{rel}'{v.suggest(rel, names)}",
                )
        for i, target in enumerate(t.assigned_to):
            v.target_ref(target, v.at(t, "assigned_to", i))
        for i, syn in enumerate(t.synonyms):
            if syn in names and syn != t.name:
                v.add(
                    v.at(t, "synonyms", i),
                    f"term '{t.name}': synonym '{syn}' is the name of another term (use related)",
                )
    reported: set[str] = set()
    for t in terms:
        chain, cur = [t.name], t.parent
        while cur and cur in parents and cur not in chain:
            chain.append(cur)
            cur = parents[cur]
        if cur == t.name and not reported.intersection(chain):
            reported.update(chain)
            v.add(v.at(t, "parent"), "cycle in the term hierarchy: " + " -> ".join([*chain, t.name]))
