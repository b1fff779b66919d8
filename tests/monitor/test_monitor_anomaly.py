"""Anomalies on the metric history: median/MAD with weekday seasonality; partial partitions not judged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from governance import metrics
from governance.monitor.anomaly import detect, judge
from governance.project import load_project

MONDAY = datetime(2026, 9, 7, tzinfo=UTC)


def _project(tmp_path: Path) -> Path:
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\ndatasets:\n  silver.orders: {format: delta, path: silver/orders, layer: silver}\n"
    )
    return tmp_path / "smartflow.yaml"


def _weekly(days: int) -> list[tuple[datetime, float]]:
    """Weekdays ~1000 rows, weekends ~300: strongly seasonal."""
    out = []
    for i in range(days):
        t = MONDAY + timedelta(days=i)
        out.append((t, (300.0 if t.weekday() >= 5 else 1000.0) + (i * 7 % 11)))
    return out


def test_weekday_seasonality_keeps_quiet_sunday_normal() -> None:
    history = _weekly(56)
    sunday = MONDAY + timedelta(days=62)
    verdict = judge(history, (sunday, 305.0))
    assert verdict is not None and verdict.baseline == "weekday" and abs(verdict.score) < 3.5
    # without seasonality the same value would look like a collapse
    flat = judge([(t, v) for t, v in history][-7:], (sunday, 305.0))
    assert flat is not None and flat.baseline == "trailing" and flat.score < -3.5
    # a Wednesday with Sunday's volume is an anomaly
    wednesday = MONDAY + timedelta(days=58)
    assert judge(history, (wednesday, 310.0)).score < -3.5  # type: ignore[union-attr]


def test_flat_series_and_short_history() -> None:
    flat = [(MONDAY + timedelta(hours=i), 100.0) for i in range(10)]
    assert judge(flat, (MONDAY + timedelta(hours=11), 80.0)).score < -3.5  # type: ignore[union-attr]
    assert abs(judge(flat, (MONDAY + timedelta(hours=11), 100.0)).score) < 1  # type: ignore[union-attr]
    assert judge(flat[:3], (MONDAY, 1.0)) is None


def test_detect_on_history_flags_row_drop_and_records(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for i in range(40, 1, -1):  # complete daily partitions, 40 to 2 days old
        day = now - timedelta(days=i)
        value = 1000.0 + (i % 5) * 10
        rows.append(
            metrics.Metric(
                "row_count",
                value,
                {"dataset": "silver.orders", "layer": "silver", "partition": day.date().isoformat()},
                day,
            )
        )
    rows[-1] = metrics.Metric(
        "row_count", 120.0, rows[-1].dimensions, rows[-1].ts
    )  # the latest one collapsed
    # today's partition is still filling: small, but not judged
    rows.append(
        metrics.Metric(
            "row_count",
            15.0,
            {"dataset": "silver.orders", "layer": "silver", "partition": now.date().isoformat()},
            now,
        )
    )
    for i in range(10):
        rows.append(
            metrics.Metric(
                "quality_success_percent",
                99.0 + (i % 2) * 0.5,
                {"dataset": "silver.orders", "suite": "s"},
                now - timedelta(hours=10 - i),
            )
        )
    metrics.record(project.state_dir, rows)
    result = detect(project)
    found = {(a["metric"], a["dimensions"].get("partition")) for a in result.payload["anomalies"]}
    yesterday = (now - timedelta(days=2)).date().isoformat()
    assert found == {("row_count", yesterday)}
    a = result.payload["anomalies"][0]
    assert a["direction"] == "low" and a["value"] == 120.0 and a["median"] >= 1000
    assert result.payload["series_judged"] == 2 and result.exit_code == 0
    recorded = metrics.query(project.state_dir, "anomalies", {"dataset": "silver.orders"})
    assert [m.value for m in recorded] == [1.0]
