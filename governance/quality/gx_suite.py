"""A suite ↔ a GX 1.x ExpectationSuite JSON, without loss.

What GX has no field for (dataset, severity, incremental partition, notes, description) travels in
`meta` under the `smartflow` key, so export → import gives back the same suite.
"""

from __future__ import annotations

from typing import Any

from governance.errors import InputError
from governance.specs.expectations import Suite


def export_suite(suite: Suite) -> dict[str, Any]:
    expectations = []
    for e in suite.expectations:
        meta = dict(e.meta)
        meta["smartflow"] = {"severity": e.severity, **({"notes": e.notes} if e.notes else {})}
        expectations.append({"type": e.type, "kwargs": dict(e.kwargs), "meta": meta})
    suite_meta: dict[str, Any] = {"dataset": suite.dataset}
    if suite.incremental:
        suite_meta["incremental"] = {"partition": suite.incremental.partition}
    if suite.description:
        suite_meta["description"] = suite.description
    return {"name": suite.suite, "expectations": expectations, "meta": {"smartflow": suite_meta}}


def import_suite(doc: dict[str, Any], dataset: str | None = None) -> dict[str, Any]:
    """The YAML mapping of a suite (as written in expectations/) from a GX ExpectationSuite JSON."""
    if not isinstance(doc, dict) or "expectations" not in doc:
        raise InputError("not a GX ExpectationSuite JSON (no 'expectations')")
    sf = (doc.get("meta") or {}).get("smartflow", {})
    target = dataset or sf.get("dataset")
    if not target:
        raise InputError("the suite names no dataset: pass --dataset")
    out: dict[str, Any] = {"suite": doc.get("name") or doc.get("expectation_suite_name"), "dataset": target}
    if sf.get("description"):
        out["description"] = sf["description"]
    if sf.get("incremental"):
        out["incremental"] = sf["incremental"]
    items = []
    for e in doc["expectations"]:
        meta = dict(e.get("meta") or {})
        extra = meta.pop("smartflow", {})
        item: dict[str, Any] = {
            "type": e.get("type") or e.get("expectation_type"),
            "kwargs": dict(e.get("kwargs") or {}),
        }
        if extra.get("severity", "error") != "error":
            item["severity"] = extra["severity"]
        if extra.get("notes"):
            item["notes"] = extra["notes"]
        if meta:
            item["meta"] = meta
        items.append(item)
    out["expectations"] = items
    Suite.model_validate(out)  # the result must load as a suite
    return out
