"""`validate` rules of classifications/*.yaml: labels, detection rules (their label, validator and
layers) and the assignments of labels to tables and columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from governance.config import LAYERS
from governance.pii.validators import VALIDATORS

if TYPE_CHECKING:
    from governance.validation import Validator


def rules(v: Validator) -> None:
    v.duplicates(v.p.labels, lambda x: x.name, "label")
    v.duplicates(v.p.rules, lambda x: x.name, "detection rule")
    for r in v.p.rules:
        v.label_ref(r.label, v.at(r, "label"), f"rule {r.name}: ")
        if r.validator is not None and r.validator not in VALIDATORS:
            v.add(
                v.at(r, "validator"),
                f"rule {r.name}: unknown validator '{r.validator}'{v.suggest(r.validator, VALIDATORS)}"
                f" (known: {', '.join(sorted(VALIDATORS))})",
            )
        for i, layer in enumerate(r.layers):
            if layer not in LAYERS:
                v.add(
                    v.at(r, "layers", i),
                    f"rule {r.name}: unknown layer '{layer}' (bronze, silver, gold)",
                )
    for a in v.p.assignments:
        if not v.dataset_ref(a.dataset, v.at(a, "dataset")):
            continue
        for i, lb in enumerate(a.table):
            v.label_ref(lb, v.at(a, "table", i), f"{a.dataset}: ")
        for col, col_labels in a.columns.items():
            where = v.at(a, "columns", col)
            v.column_ref(a.dataset, col, where)
            for lb in col_labels:
                v.label_ref(lb, where, f"{a.dataset}.{col}: ")
        for i, col in enumerate(a.critical):
            v.column_ref(a.dataset, col, v.at(a, "critical", i))
