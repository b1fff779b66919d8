"""The report building blocks without a browser: layout, charts, masking, sections without data."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_project, run_cli

from governance.masking import mask
from governance.reports.evidence import Run, safe_value, scrub
from governance.reports.lineage_svg import downstream, layout, lineage_svg
from governance.reports.svg import line_chart, sparkline

LAYERS = {"b.a": "bronze", "b.b": "bronze", "s.a": "silver", "s.b": "silver", "g.a": "gold"}
EDGES = [("b.a", "s.a"), ("s.a", "s.b"), ("b.b", "g.a"), ("s.b", "g.a")]


def test_layout_keeps_layers_in_order_and_routes_long_edges_through_free_slots() -> None:
    placed, bands, routes = layout(sorted(LAYERS), EDGES, LAYERS)
    assert [b[0] for b in bands] == ["bronze", "silver", "gold"]
    assert placed["b.a"][0] == 0 and placed["s.a"][0] == 1 and placed["s.b"][0] == 2 and placed["g.a"][0] == 3
    long_route = routes[("b.b", "g.a")]
    assert [c for c, _ in long_route] == [1, 2]  # one slot per column it crosses
    assert not set(long_route) & set(placed.values())  # never under a dataset box
    assert len(set(placed.values())) == len(placed)


def test_downstream_of_failing_datasets_is_suspect() -> None:
    assert downstream(EDGES, ["s.a"]) == {"s.b", "g.a"}
    assert downstream(EDGES, ["g.a"]) == set()


def test_lineage_svg_escapes_names_and_marks_status() -> None:
    svg = str(
        lineage_svg(
            ["b.<x>", "s.a"],
            [("b.<x>", "s.a")],
            {"b.<x>": "bronze", "s.a": "silver"},
            {"b.<x>": "failing", "s.a": "suspect"},
        )
    )
    assert "<x>" not in svg and "b.&lt;x&gt;" in svg
    assert 'class="node failing"' in svg and 'class="node suspect"' in svg and "edge hot" in svg


def test_charts_escape_labels_and_say_when_there_is_no_history() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    pts = [(t0 + timedelta(days=i), 90.0 + i) for i in range(5)]
    svg = str(line_chart("q", [("<script>alert(1)</script>", pts)], unit="%", threshold=99))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "polyline" in svg and "threshold" in svg
    assert "no history yet" in str(line_chart("q", []))
    assert "polyline" in str(sparkline(pts)) and "–" in str(sparkline([]))


def test_samples_are_masked_for_sensitive_columns_and_personal_shapes() -> None:
    sensitive = {("silver.customers", "name")}
    assert safe_value("Ada Lovelace", "silver.customers", "name", sensitive) == mask("Ada Lovelace")
    assert safe_value("ada@example.org", "silver.transactions", "note", sensitive) == mask("ada@example.org")
    assert safe_value("+44 20 7946 0958", "x.y", "c", sensitive) == mask("+44 20 7946 0958")
    assert safe_value("crypto", "silver.transactions", "payment_method", sensitive) == "crypto"
    assert safe_value("2026-11-28T10:00:00", "x.y", "c", sensitive) == "2026-11-28T10:00:00"
    assert "bob@example.org" not in scrub("cannot cast 'bob@example.org' to BIGINT")


def test_a_section_whose_step_failed_says_why() -> None:
    run = Run(
        {
            "run_id": "r",
            "steps": [
                {
                    "name": "quality",
                    "status": "error",
                    "exit_code": 3,
                    "started_at": "2026-11-28T00:00:00Z",
                    "summary": "x",
                    "error": "engine unreachable",
                }
            ],
            "results": {},
        }
    )
    sec = run.section("quality")
    assert not sec.available and "engine unreachable" in (sec.reason or "")
    assert not run.section("pii").available and "not part of run" in (run.section("pii").reason or "")
    assert "no nightly run" in (Run(None).section("pii").reason or "")


def test_report_without_any_run_says_the_data_is_missing(tmp_path: Path) -> None:
    config = copy_project(tmp_path / "empty")
    proc = run_cli("--config", str(config), "--output", "json", "report", "nightly")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["run_id"] is None and set(payload["missing"]) >= {"quality", "freshness", "lineage"}
    html = Path(payload["html"]).read_text()
    assert html.count("Data missing.") >= 6 and "smartflow-gov nightly" in html


def test_unknown_report_kind_is_bad_input(tmp_path: Path) -> None:
    config = copy_project(tmp_path / "p")
    assert run_cli("--config", str(config), "report", "weekly").returncode == 2
