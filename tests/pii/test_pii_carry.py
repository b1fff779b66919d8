"""Carried PII scans: an unchanged Delta table is not scanned again, and the answer is the fresh one's;
new data, an edited rule or other settings scan again; edited assignments apply without a scan."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from deltalake import write_deltalake
from pii_fixtures import SEEDED, seeded_table, write_project

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


# ------------------------------------------------------------------------------ appended tables
def _day(rows: int, day: str, offset: int = 0) -> Any:
    """Customers of one day; `offset` > 0 gives new e-mail addresses and card numbers of that day."""
    import pyarrow as pa

    table = seeded_table(rows)
    if offset:
        contact = [f"client{offset + i}@example-shop.org" for i in range(rows)]
        table = table.set_column(table.schema.get_field_index("contact"), "contact", pa.array(contact))
    return table.append_column("day", pa.array([day] * rows))


def _fresh(config: Path, **options: Any) -> dict:  # type: ignore[type-arg]
    """A scan with no stored state: what every row of the table gives today."""
    shutil.rmtree(config.parent / ".smartflow" / "pii" / "scans")
    return scan(load_project(config), **options).payload


def _partitioned_project(tmp_path: Path, extra_config: str = "") -> tuple[Path, Path]:
    config = write_project(
        tmp_path,
        {"silver.customers": (_day(300, "2026-12-01"), "silver")},
        assignments=ASSIGNED,
        extra_config=extra_config,
    )
    table = tmp_path / "lake" / "silver" / "customers"
    write_deltalake(
        str(table), _day(300, "2026-12-01"), mode="overwrite", partition_by=["day"], schema_mode="overwrite"
    )
    return config, table


@pytest.mark.parametrize("cap", [1000, 10])  # 10: more distinct candidates than the cap, shares extrapolated
def test_an_appended_day_is_the_only_data_scanned_and_findings_equal_a_fresh_scan(
    tmp_path: Path, cap: int, caplog: pytest.LogCaptureFixture
) -> None:
    config, table = _partitioned_project(tmp_path, f"pii: {{max_candidates: {cap}}}\n")
    first = scan(load_project(config), sample=0)
    write_deltalake(str(table), _day(40, "2026-12-02", offset=1000), mode="append", partition_by=["day"])
    with caplog.at_level(logging.INFO, logger="governance.lake.engines"):
        second = scan(load_project(config), sample=0)
    ds = _dataset(second.payload)
    assert ds["extended_from"] == first.payload["run_id"] and ds["carried_from"] is None
    assert ds["rows_scanned"] == 40 and ds["sample_size"] == 340
    queries = [r.getMessage() for r in caplog.records]
    counting = next(i for i, q in enumerate(queries) if "SUM(CASE" in q)
    # the counting query reads a view of the added files only (one partition, one file)
    assert "sfg_silver_customers__added" in queries[counting - 2]
    assert sum(1 for q in queries if "SUM(CASE" in q) == 1
    assert "day=2026-12-02" in _added_view_sql(config) and "day=2026-12-01" not in _added_view_sql(config)
    fresh = _fresh(config, sample=0)
    assert second.payload["findings"] == fresh["findings"]
    assert second.exit_code == 1
    contact = next(f for f in fresh["findings"] if f["column"] == "contact")
    assert contact["distinct_matches"] == 3 + 40 and contact["sample_size"] == 340  # the new addresses count
    if cap == 10:
        assert contact["estimated"]


def _added_view_sql(config: Path) -> str:
    """The files a view of the table's last commit reads, as the engine would build it."""
    from governance.lake.engines import DuckDBEngine
    from governance.pii import carry

    project = load_project(config)
    version = carry.data_version(project, "silver.customers")
    assert version is not None
    files = carry.appended_files(version.uri, version.version - 1, version.version)
    assert files is not None and len(files) == 1
    engine = DuckDBEngine(project, ["silver.customers"])
    try:
        assert engine.register_subset("silver.customers", "added", set(files)) is not None
        return str(
            engine.con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'sfg_added'").fetchone()
        )
    finally:
        engine.close()


def test_the_default_sample_extends_while_it_holds_every_row(tmp_path: Path) -> None:
    config, table = _partitioned_project(tmp_path)
    first = scan(load_project(config), sample=310)
    write_deltalake(str(table), _day(5, "2026-12-02", offset=1000), mode="append", partition_by=["day"])
    second = scan(load_project(config), sample=310)
    assert _dataset(second.payload)["extended_from"] == first.payload["run_id"]
    assert second.payload["findings"] == _fresh(config, sample=310)["findings"]
    # a sample of 310 out of 335 rows is not the old sample plus the new rows: scanned afresh
    write_deltalake(str(table), _day(30, "2026-12-03", offset=2000), mode="append", partition_by=["day"])
    third = _dataset(scan(load_project(config), sample=310).payload)
    assert third["extended_from"] is None and third["sample_size"] == third["rows_scanned"] == 310


def test_an_overwrite_or_a_delete_scans_every_row_again(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    config, table = _partitioned_project(tmp_path)
    scan(load_project(config), sample=0)
    write_deltalake(str(table), _day(200, "2026-12-02"), mode="overwrite", partition_by=["day"])
    overwritten = _dataset(scan(load_project(config), sample=0).payload)
    assert overwritten["extended_from"] is None and overwritten["rows_scanned"] == 200
    DeltaTable(str(table)).delete("customer_id <= 10")
    deleted = scan(load_project(config), sample=0)
    assert _dataset(deleted.payload)["extended_from"] is None
    assert _dataset(deleted.payload)["rows_scanned"] == 190
    assert deleted.payload["findings"] == _fresh(config, sample=0)["findings"]


def test_the_stored_state_holds_counts_and_names_only(tmp_path: Path) -> None:
    config, table = _partitioned_project(tmp_path)
    scan(load_project(config), sample=0)
    write_deltalake(str(table), _day(40, "2026-12-02", offset=1000), mode="append", partition_by=["day"])
    scan(load_project(config), sample=0)
    stored = (tmp_path / ".smartflow" / "pii" / "scans" / "silver.customers.json").read_text()
    for values in SEEDED.values():
        assert not any(v in stored for v in values)
    assert "@" not in stored and "client10" not in stored


# ------------------------------------------------------------------------------ appended, sampled
def _statuses(payload: dict) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {(f["column"], f["label"], f["status"]) for f in payload["findings"]}


def test_a_sample_is_extended_by_a_sample_of_the_added_rows_at_the_same_rate(tmp_path: Path) -> None:
    config, table = _partitioned_project(tmp_path)
    first = scan(load_project(config), sample=100)  # 100 of 300 rows: a third
    assert _dataset(first.payload)["sample_size"] == 100
    write_deltalake(str(table), _day(60, "2026-12-02", offset=1000), mode="append", partition_by=["day"])
    second = scan(load_project(config), sample=100)
    ds = _dataset(second.payload)
    assert ds["extended_from"] == first.payload["run_id"] and ds["carried_from"] is None
    assert ds["rows_scanned"] == 20 and ds["sample_size"] == 120  # a third of the 60 added rows
    contact = next(f for f in second.payload["findings"] if f["column"] == "contact")
    assert contact["sample_size"] == 120 and contact["match_percent"] == 100.0
    third = scan(load_project(config), sample=100)  # nothing changed since: the extended sample is carried
    assert _dataset(third.payload)["carried_from"] == second.payload["run_id"]
    assert third.payload["findings"] == second.payload["findings"]
    # a stratified sample at one rate: the same findings as a fresh sample of the whole table
    assert _statuses(second.payload) == _statuses(_fresh(config, sample=100))
    assert second.exit_code == 1


def test_an_extended_sample_is_drawn_afresh_once_the_table_has_doubled(tmp_path: Path) -> None:
    config, table = _partitioned_project(tmp_path)
    scan(load_project(config), sample=100)
    days = iter(["2026-12-02", "2026-12-03", "2026-12-04"])
    write_deltalake(str(table), _day(150, next(days), offset=1000), mode="append", partition_by=["day"])
    extended = _dataset(scan(load_project(config), sample=100).payload)
    assert extended["extended_from"] is not None and extended["sample_size"] == 150
    write_deltalake(str(table), _day(150, next(days), offset=2000), mode="append", partition_by=["day"])
    again = _dataset(scan(load_project(config), sample=100).payload)
    assert again["extended_from"] is not None and again["sample_size"] == 200  # 150 × 150 / 450 more
    write_deltalake(str(table), _day(30, next(days), offset=3000), mode="append", partition_by=["day"])
    fresh = _dataset(scan(load_project(config), sample=100).payload)
    assert fresh["extended_from"] is None and fresh["sample_size"] == fresh["rows_scanned"] == 100


def test_a_sample_is_not_extended_over_a_rewrite(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    config, table = _partitioned_project(tmp_path)
    scan(load_project(config), sample=100)
    DeltaTable(str(table)).delete("customer_id <= 10")
    write_deltalake(str(table), _day(60, "2026-12-02", offset=1000), mode="append", partition_by=["day"])
    ds = _dataset(scan(load_project(config), sample=100).payload)
    assert ds["extended_from"] is None and ds["sample_size"] == ds["rows_scanned"] == 100


def test_an_extended_sample_of_a_file_subset_counts_the_added_files(tmp_path: Path) -> None:
    config, table = _partitioned_project(tmp_path)
    for day in range(2, 12):  # 11 partitions of 300 rows: a sample of 40 reads a few of their files
        write_deltalake(str(table), _day(300, f"2026-11-{day:02d}"), mode="append", partition_by=["day"])
    first = _dataset(scan(load_project(config), sample=40).payload)
    assert first["sampled_from"]["of_files"] == 11 and first["sampled_from"]["files"] < 11
    write_deltalake(str(table), _day(300, "2026-12-02", offset=1000), mode="append", partition_by=["day"])
    second = _dataset(scan(load_project(config), sample=40).payload)
    assert second["extended_from"] is not None and second["rows_scanned"] == 4  # 40 × 300 / 3300
    assert second["sampled_from"] == {
        "files": first["sampled_from"]["files"] + 1, "of_files": 12,
        "rows": first["sampled_from"]["rows"] + 300, "of_rows": 3600,
    }  # fmt: skip
