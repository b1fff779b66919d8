"""Carried PII scans: an unchanged Delta table is not scanned again, and the answer is the fresh one's;
new data, an edited rule or other settings scan again; edited assignments apply without a scan."""

from __future__ import annotations

from pathlib import Path

from deltalake import write_deltalake
from pii_fixtures import seeded_table, write_project

from governance.pii.service import scan
from governance.project import load_project

ASSIGNED = """
assignments:
  - dataset: silver.customers
    columns: {contact: [PII], region: [PII], customer_id: [Confidential]}
"""


def _dataset(payload: dict) -> dict:  # type: ignore[type-arg]
    return payload["datasets"][0]


def test_an_unchanged_table_is_carried_with_the_same_findings(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    first = scan(load_project(config))
    second = scan(load_project(config))
    assert _dataset(first.payload)["carried_from"] is None and _dataset(first.payload)["queries"] > 0
    assert _dataset(second.payload)["carried_from"] == first.payload["run_id"]
    assert _dataset(second.payload)["queries"] == 0
    assert second.payload["findings"] == first.payload["findings"]
    assert second.exit_code == first.exit_code == 1


def test_new_data_is_scanned_again(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    first = scan(load_project(config))
    write_deltalake(str(tmp_path / "lake" / "silver" / "customers"), seeded_table(30), mode="append")
    second = scan(load_project(config))
    assert _dataset(second.payload)["carried_from"] is None
    assert _dataset(second.payload)["sample_size"] == 330 != _dataset(first.payload)["sample_size"]


def test_other_settings_or_rules_scan_again(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    scan(load_project(config))
    assert _dataset(scan(load_project(config), seed=9).payload)["carried_from"] is None
    rules = tmp_path / "classifications"
    target = next(p for p in rules.glob("*.yaml") if "SMARTFLOW.EMAIL" in p.read_text())
    target.write_text(target.read_text().replace("minimum_match_percent: 60", "minimum_match_percent: 61", 1))
    assert _dataset(scan(load_project(config), seed=9).payload)["carried_from"] is None


def test_edited_assignments_apply_to_carried_measurements(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    first = scan(load_project(config))
    undeclared = {f["column"] for f in first.payload["findings"] if f["status"] == "undeclared"}
    assert "mobile_no" in undeclared
    (tmp_path / "classifications" / "assignments.yaml").write_text(
        ASSIGNED.replace("contact: [PII]", "contact: [PII], mobile_no: [PII]")
    )
    second = scan(load_project(config))
    assert _dataset(second.payload)["carried_from"] == first.payload["run_id"]
    statuses = {(f["column"], f["status"]) for f in second.payload["findings"]}
    assert ("mobile_no", "confirmed") in statuses and ("mobile_no", "undeclared") not in statuses
