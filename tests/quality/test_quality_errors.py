"""Errors are a third outcome end to end (SPEC §6.1): an engine fault on one dataset gives error results
(no counts), exit 3, the other dataset still evaluated; the nightly summary, the metric history and the
nightly report keep errors apart from failures and never show a success rate for the errored suite."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from governance import metrics
from governance.nightly import summarize
from governance.project import load_project
from governance.quality.service import run
from governance.reports import nightly_model
from governance.reports.evidence import Run
from governance.reports.service import render

PEOPLE_SUITE = """suite: people
dataset: silver.people
expectations:
  - {type: expect_column_values_to_not_be_null, kwargs: {column: person_id}}
  - {type: expect_column_values_to_be_unique, kwargs: {column: person_id}}
"""


def test_an_outage_is_an_error_in_results_summary_metrics_and_report(tiny: Path, tmp_path: Path) -> None:
    root = tiny.parent
    (root / "expectations/people.yaml").write_text(PEOPLE_SUITE)
    # storage outage: a data file of silver.orders is gone (the Delta log still lists it)
    next((root / "lake/silver/orders").rglob("*.parquet")).unlink()
    project = load_project(tiny)
    result = run(project)
    assert result.exit_code == 3
    suites = {s["suite_name"]: s for s in result.payload["suites"]}
    orders, people = suites["orders"], suites["people"]
    assert orders["statistics"] == {
        "evaluated_expectations": 8,
        "successful_expectations": 0,
        "unsuccessful_expectations": 0,
        "errored_expectations": 8,
        "success_percent": None,
    }
    for r in orders["results"]:
        assert r["exception_info"]["raised_exception"] and r["exception_info"]["infrastructure"]
        assert r["result"] == {} and "\n" not in r["exception_info"]["exception_message"]
    assert people["success"] and people["statistics"]["success_percent"] == 100.0  # still evaluated

    # nightly summary: errors are not failures
    line = summarize("quality", result)
    assert (
        line.startswith("2 suites, 0 failed; 0/10 expectations unsuccessful")
        and "8 could not be evaluated" in line
    )

    # metrics: no 0 % for the suite nobody could check; its errors are counted instead
    points = metrics.query(project.state_dir)
    by_name = {(m.name, m.dimensions.get("suite")) for m in points}
    assert ("quality_success_percent", "orders") not in by_name
    assert ("quality_errored_expectations", "orders") in by_name
    assert ("quality_success_percent", "people") in by_name
    assert not any(
        m.name == "quality_unexpected_count" and m.dimensions.get("suite") == "orders" for m in points
    )

    # the nightly report: the dataset shows as errored, each expectation as "error", not as a failure
    now = datetime.now(UTC)
    stored = {
        "run_id": "r1",
        "started_at": now.isoformat(),
        "exit_code": 3,
        "steps": [
            {
                "name": "quality",
                "title": "Quality suites",
                "status": "error",
                "exit_code": 3,
                "started_at": now.isoformat(),
                "duration_seconds": 1.0,
                "summary": line,
                "error": None,
            }
        ],
        "results": {"quality": result.payload},
    }
    model = nightly_model.build(project, Run(stored), points, now)
    rows = {r["dataset"]: r for layer in model["scorecard"] for r in layer["datasets"]}
    assert rows["silver.orders"]["errored"] and rows["silver.orders"]["success_percent"] is None
    assert rows["silver.orders"]["failed"] == 0
    assert rows["silver.people"]["success_percent"] == 100.0 and not rows["silver.people"]["errored"]
    listed = [f for f in model["failing_expectations"] if f["dataset"] == "silver.orders"]
    assert len(listed) == 8 and {f["outcome"] for f in listed} == {"error"}
    assert model["kpis"]["expectations_errored"] == 8 and model["kpis"]["expectations_failed"] == 0
    html = Path(render(project, "nightly", tmp_path / "reports", run=stored).payload["html"]).read_text()
    assert "8 could not be evaluated" in html and 'class="badge b-error">error<' in html


ALERTS = """\
rules:
  - name: quality-per-dataset
    kind: metric
    metric: quality_success_percent
    dimensions: {dataset: "*"}
    operator: LessThan
    threshold: 99
    aggregation: Minimum
    window: PT1H
    frequency: PT15M
    severity: 2
  - name: quality-could-not-evaluate
    kind: metric
    metric: quality_errored_expectations
    dimensions: {dataset: "*"}
    operator: GreaterThan
    threshold: 0
    aggregation: Maximum
    window: PT1H
    frequency: PT15M
    severity: 1
"""


def test_alert_inputs_see_an_error_not_a_zero_percent(tiny: Path) -> None:
    from governance.monitor.alerts.evaluate import evaluate

    root = tiny.parent
    (root / "expectations/people.yaml").write_text(PEOPLE_SUITE)
    (root / "alerts").mkdir()
    (root / "alerts/quality.yaml").write_text(ALERTS)
    next((root / "lake/silver/orders").rglob("*.parquet")).unlink()
    project = load_project(tiny)
    assert run(project).exit_code == 3
    rules = evaluate(project, notify=False).payload["rules"]
    status = {(r["rule"], r["dimensions"].get("dataset")): r["status"] for r in rules}
    # no success rate was recorded for the suite nobody could check: the threshold rule cannot fire on a fake 0 %
    assert ("quality-per-dataset", "silver.orders") not in status
    assert status[("quality-per-dataset", "silver.people")] == "ok"
    assert status[("quality-could-not-evaluate", "silver.orders")] == "firing"
