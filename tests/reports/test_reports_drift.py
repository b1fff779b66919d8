"""The audit report's catalog-drift section lists every kind of drift the catalog reports."""

from __future__ import annotations

from governance.reports.audit_model import catalog_drift
from governance.reports.evidence import Run


def test_unmanaged_and_orphaned_objects_count_as_drift() -> None:
    payload = {
        "backend": "local",
        "summary": {"create": 1, "update": 1, "delete": 0, "noop": 2},
        "changes": [
            {"action": "update", "kind": "term", "name": "Daily Revenue", "drift": "changed"},
            {
                "action": "create",
                "kind": "classification",
                "name": "silver.customers.email:PII",
                "drift": "missing",
            },
            {"action": "noop", "kind": "term", "name": "Made In The UI", "drift": "unmanaged"},
            {"action": "noop", "kind": "term", "name": "Retired Term", "drift": "orphaned"},
        ],
    }
    run = Run({"steps": [{"name": "catalog-drift", "status": "ok"}], "results": {"catalog-drift": payload}})
    model = catalog_drift(run)
    assert not model["in_sync"]
    assert [(c["action"], c["name"]) for c in model["changes"]] == [
        ("changed", "Daily Revenue"),
        ("missing", "silver.customers.email:PII"),
        ("unmanaged", "Made In The UI"),
        ("orphaned", "Retired Term"),
    ]


def test_a_catalog_without_drift_is_in_sync() -> None:
    run = Run(
        {
            "steps": [{"name": "catalog-drift"}],
            "results": {"catalog-drift": {"backend": "local", "changes": []}},
        }
    )
    assert catalog_drift(run)["in_sync"]
