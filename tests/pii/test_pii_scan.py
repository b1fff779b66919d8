"""`pii scan` on DuckDB over real Delta files: findings, exit codes, suggestions, metrics, the pushed-down shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli
from pii_fixtures import seeded_table, write_project

from governance import metrics
from governance.pii.service import scan
from governance.project import load_project

ASSIGNED = """
assignments:
  - dataset: silver.customers
    columns: {contact: [PII], region: [PII], customer_id: [Confidential]}
"""


def _by_column(payload: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    return {(f["column"], f["status"]): f for f in payload["findings"]}  # type: ignore[index, union-attr]


def test_findings_statuses_and_exit_code_for_silver(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    result = scan(load_project(config))
    found = _by_column(result.payload)
    assert result.exit_code == 1  # undeclared PII in silver
    confirmed = found[("contact", "confirmed")]
    assert confirmed["rule"] == "SMARTFLOW.EMAIL" and confirmed["match_percent"] == 100.0
    assert confirmed["sample_size"] == 300 and confirmed["distinct_matches"] == 3
    for column, rule in [("mobile_no", "SMARTFLOW.PHONE"), ("pan", "SMARTFLOW.PAYMENT_CARD"),
                         ("account", "SMARTFLOW.IBAN"), ("holder", "SMARTFLOW.PERSON_NAME"),
                         ("tax_ref", "SMARTFLOW.NATIONAL_ID")]:  # fmt: skip
        f = found[(column, "undeclared")]
        assert f["rule"] == rule and f["in_text"] is False and f["layer"] == "silver", column
    notes = found[("notes", "undeclared")]
    assert notes["rule"] == "SMARTFLOW.EMAIL" and notes["in_text"] is True and notes["match_percent"] == 20.0
    assert found[("region", "not_detected")]["label"] == "PII"
    assert not any(c in ("product_id", "amount", "customer_id") for c, _ in found)
    summary = result.payload["summary"]
    assert summary["undeclared"] == 6 and summary["confirmed"] == 1 and summary["not_detected"] == 1


def test_bronze_findings_are_reported_without_failing(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"bronze.customers": (seeded_table(), "bronze")})
    result = scan(load_project(config))
    assert result.exit_code == 0
    assert result.payload["summary"]["undeclared"] == 7 and result.payload["summary"]["blocking"] == 0


def test_suggest_file_declares_what_was_missing(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    suggest = tmp_path / "classifications" / "suggested.yaml"
    first = scan(load_project(config), suggest=suggest)
    assert first.exit_code == 1 and first.payload["suggest"]["assignments"] == 6
    text = suggest.read_text()
    assert "dataset: silver.customers" in text and "notes: [PII]" in text and "SMARTFLOW.EMAIL" in text
    # the suggestion is a valid classifications file: merged, the same scan finds nothing undeclared
    second = scan(load_project(config))
    assert second.exit_code == 0
    assert second.payload["summary"]["undeclared"] == 0 and second.payload["summary"]["confirmed"] == 7


def test_metric_and_state_are_recorded(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    project = load_project(config)
    result = scan(project)
    rows = metrics.query(project.state_dir, "pii_undeclared_columns")
    assert [(m.value, m.dimensions) for m in rows] == [
        (6.0, {"dataset": "silver.customers", "layer": "silver"})
    ]
    saved = json.loads((project.state_dir / "pii" / "last_scan.json").read_text())
    assert saved["findings"] == result.payload["findings"]


def test_one_counting_query_and_a_reproducible_sample(tmp_path: Path) -> None:
    import pyarrow as pa

    table = pa.concat_tables([seeded_table()] * 20)  # 6000 rows
    config = write_project(tmp_path, {"silver.customers": (table, "silver")})
    project = load_project(config)
    first = scan(project, sample=1000, seed=3)
    again = scan(project, sample=1000, seed=3)
    ds = first.payload["datasets"][0]
    assert ds["sample_size"] == 1000 and ds["columns_scanned"] == 10 and ds["columns_skipped"] == 1  # amount
    assert first.payload["findings"] == again.payload["findings"]
    # drop, create sample, count it, ONE counting query, drop (column types come from metadata, not
    # counted, as on every engine); on DuckDB the counting query also brings the candidates to confirm,
    # which other engines fetch with one detail query more
    assert ds["queries"] == 5
    other = scan(project, sample=1000, seed=4)
    assert other.payload["datasets"][0]["sample_size"] == 1000


def test_counting_query_covers_every_rule_and_column(tmp_path: Path) -> None:
    from governance.lake.engines import open_engine
    from governance.pii.rules import compile_rules
    from governance.pii.scan import scan_dataset

    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")})
    project = load_project(config)
    engine = open_engine(project, "duckdb", ["silver.customers"])
    try:
        result = scan_dataset(engine, "silver.customers", "silver", compile_rules(project.rules), 100, 1, 50)
        counting = [q for q in engine.log if "SUM(CASE" in q]
    finally:
        engine.close()
    assert len(counting) == 1
    assert counting[0].count("REGEXP_MATCHES") == 10 * (8 + 2)  # 10 columns x (8 rules + 2 free-text forms)
    assert all("'" + v + "'" not in " ".join(engine.log) for v in ("north", "P-0"))  # no value in any SQL
    assert result.sample_size == 100


def test_cli_unknown_dataset_is_exit_2(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")})
    proc = run_cli("--config", str(config), "pii", "scan", "--dataset", "silver.nope")
    assert proc.returncode == 2 and "unknown dataset 'silver.nope'" in proc.stderr


def test_missing_data_is_an_infrastructure_fault(tmp_path: Path) -> None:
    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")})
    config.write_text(config.read_text() + "  silver.ghost: {format: delta, path: ghost, layer: silver}\n")
    result = scan(load_project(config))
    errors = {d["dataset"]: d["error"] for d in result.payload["datasets"]}
    assert result.exit_code == 3 and errors["silver.ghost"] and errors["silver.customers"] is None
    assert result.payload["summary"]["undeclared"] == 7  # the other dataset was still scanned


def test_pii_section_of_smartflow_yaml_sets_sample_and_thresholds(tmp_path: Path) -> None:
    config = write_project(
        tmp_path,
        {"silver.customers": (seeded_table(), "silver")},
        extra_config="pii: {sample_size: 120, seed: 3, free_text_minimum_percent: 50}\n",
    )
    result = scan(load_project(config))
    assert result.payload["sample"] == 120 and result.payload["seed"] == 3
    assert result.payload["datasets"][0]["sample_size"] == 120
    assert not any(f["in_text"] for f in result.payload["findings"])  # 20% of notes < 50%
    bad = write_project(
        tmp_path / "bad", {"silver.c": (seeded_table(10), "silver")}, extra_config="pii: {sample_size: -1}\n"
    )
    proc = run_cli("--config", str(bad), "pii", "scan")
    assert proc.returncode == 2 and "smartflow.yaml:" in proc.stderr


def test_rules_without_validator_count_on_the_engine_and_name_only_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "labels: [{name: Confidential}, {name: Public}]\n"
        "rules:\n"
        "  - {name: PRODUCT, label: Confidential, data_pattern: '^P-\\d{5}$', minimum_match_percent: 90}\n"
        "  - {name: REGION_NAME, label: Public, column_pattern: '(?i)^region$'}\n"
        "  - {name: BRONZE_ONLY, label: Public, data_pattern: '^P-', layers: [bronze]}\n"
    )
    config = write_project(tmp_path / "p", {"silver.customers": (seeded_table(), "silver")}, rules=[rules])
    project = load_project(config)
    from governance.lake.engines import open_engine
    from governance.pii.rules import compile_rules
    from governance.pii.scan import scan_dataset

    engine = open_engine(project, "duckdb", ["silver.customers"])
    try:
        applicable = [r for r in compile_rules(project.rules) if r.applies_to("silver")]
        scanned = scan_dataset(engine, "silver.customers", "silver", applicable, None, 1, 100)
        counting = [q for q in engine.log if "SUM(CASE" in q]
        detail = [q for q in engine.log if "AS dn" in q]
    finally:
        engine.close()
    assert [r.name for r in applicable] == ["PRODUCT", "REGION_NAME"]
    (product,) = [e for e in scanned.evidence if e.column == "product_id"]
    assert product.value_rows == 300 and product.candidates_checked == 0  # exact: no value fetched
    assert product.value_distinct == len(set(seeded_table().column("product_id").to_pylist()))
    # DuckDB measures the distinct count in the counting query, and takes no candidate for an exact rule
    assert len(counting) == 1 and "ARG_MIN" not in counting[0] and not detail

    result = scan(project)
    found = {(f["column"], f["rule"], f["evidence"]) for f in result.payload["findings"]}
    assert found == {("product_id", "PRODUCT", "data"), ("region", "REGION_NAME", "column_name")}
    assert result.exit_code == 1  # undeclared (Confidential/Public) findings in silver


def test_the_json_is_the_typed_model_and_reads_back_unchanged(tmp_path: Path) -> None:
    from governance.specs.pii_scan import PiiScanRun

    config = write_project(tmp_path, {"silver.customers": (seeded_table(), "silver")}, assignments=ASSIGNED)
    project = load_project(config)
    plain = scan(project)
    assert "suggest" not in plain.payload  # optional fields appear only when set
    text = (project.state_dir / "pii" / "last_scan.json").read_text()
    run = PiiScanRun.model_validate_json(text)
    assert json.dumps(run.dump(), indent=2) + "\n" == text  # same keys, order and number types
    assert run.summary.undeclared == sum(1 for f in run.findings if f.status == "undeclared") > 0
    suggested = scan(project, suggest=str(tmp_path / "suggested.yaml"))
    again = PiiScanRun.model_validate(suggested.payload)
    assert again.suggest is not None and again.suggest.assignments > 0
    assert list(suggested.payload) == [*plain.payload, "suggest"]


@pytest.mark.parametrize("cap", [1000, 2])  # 2: fewer candidates than distinct values, shares extrapolated
def test_grouped_counting_query_measures_what_counting_and_detail_queries_measure(
    tmp_path: Path, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB groups each column's values and takes distinct counts and candidates in the counting query;
    the evidence equals that of the flat counting query plus the detail query other engines run."""
    import pyarrow as pa

    from governance.lake.dialects import DuckDB
    from governance.lake.engines import open_engine
    from governance.pii.rules import compile_rules
    from governance.pii.scan import scan_dataset

    table = seeded_table()
    table = table.append_column("empty", pa.array([None] * table.num_rows, pa.string()))
    config = write_project(tmp_path, {"silver.customers": (table, "silver")})
    project = load_project(config)
    rules = compile_rules(project.rules)

    def measured() -> tuple[list[tuple[object, ...]], list[str]]:
        engine = open_engine(project, "duckdb", ["silver.customers"])
        try:
            result = scan_dataset(engine, "silver.customers", "silver", rules, None, 1, cap)
        finally:
            engine.close()
        assert result.error is None
        evidence = [(e.column, e.rule.name, e.non_null, e.value_rows, e.value_distinct, e.text_rows,
                     e.text_distinct, e.candidates_checked, e.value_matches, e.text_matches, e.estimated,
                     e.column_evidence) for e in result.evidence]  # fmt: skip
        return evidence, engine.log

    grouped, grouped_log = measured()
    monkeypatch.setattr(DuckDB, "smallest_by", lambda self, value, key, n: None)
    flat, flat_log = measured()
    assert grouped == flat
    assert any(e[4] and e[10] for e in grouped) == (cap == 2)  # the capped case extrapolates
    assert not any("AS dn" in q for q in grouped_log) and any("AS dn" in q for q in flat_log)
