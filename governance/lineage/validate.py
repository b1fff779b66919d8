"""`validate` rules of manifests/*.yaml: unique jobs, their datasets and column lineage targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.validation import Validator


def rules(v: Validator) -> None:
    v.duplicates(v.p.manifests, lambda m: m.job, "job")
    for m in v.p.manifests:
        for key in ("inputs", "outputs"):
            for i, name in enumerate(getattr(m, key)):
                v.dataset_ref(name, v.at(m, key, i))
        for out, sources in m.column_lineage.items():
            where = v.at(m, "column_lineage", out)
            v.target_ref(out, where)
            for src in sources:
                v.target_ref(src, where)
