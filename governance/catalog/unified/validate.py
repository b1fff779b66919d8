"""`validate` rules of domains/*.yaml and of the `domain:` keys of glossary files (Unified Catalog)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.validation import Validator


def rules(v: Validator) -> None:
    from governance.specs.domains import cross_check

    term_domains = {t.name: t.domain or g.domain for g in v.p.glossaries for t in g.terms}
    cross_check(v.p.domain_files, term_domains, v.at, v.add, v.column_target_ref, v.dataset_ref, v.excused)
    declared = {d.domain for d in v.p.domain_files}
    for g in v.p.glossaries:
        if g.domain and g.domain not in declared:
            v.add(v.at(g, "domain"), f"unknown domain '{g.domain}'{v.suggest(g.domain, declared)}")
        for t in g.terms:
            if t.domain and t.domain not in declared:
                v.add(
                    v.at(t, "domain"),
                    f"term '{t.name}': unknown domain '{t.domain}'{v.suggest(t.domain, declared)}",
                )
