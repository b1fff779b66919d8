"""Anomalies in the metric history: a value far outside its trailing window, by robust statistics.

Each series (metric name + dimensions, the `partition` dimension aside so rows per partition form one series
over the calendar) is judged at its latest point against the trailing window before it: robust z-score
0.6745·(x − median)/MAD (Iglewicz–Hoaglin), flagged beyond 3.5. With enough history (three earlier points on
the same weekday) the window is the same weekday only, so a quiet Sunday is not an anomaly. A MAD of zero
(a flat series) falls back to a floor of 5% of the median, so a drop from a constant 100 still counts.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from governance import metrics
from governance.errors import ExitCode
from governance.results import StepResult

if TYPE_CHECKING:
    from governance.project import Project

WATCHED = ("row_count", "rows_validated", "quality_success_percent", "freshness_lag_minutes")
THRESHOLD = 3.5
MIN_POINTS = 7  # fewer trailing points than this says nothing
MIN_SEASONAL = 3  # same-weekday points needed to use weekday seasonality


@dataclass(frozen=True)
class Verdict:
    value: float
    median: float
    mad: float
    score: float
    baseline: str  # "weekday" | "trailing"
    window: int


def judge(
    history: list[tuple[datetime, float]], point: tuple[datetime, float], size: int = 28
) -> Verdict | None:
    """Score `point` against `history` (oldest first); None when the history is too short.

    Daily-or-slower series (partitions, nightly runs) use the same weekday's last `size` points when there
    are at least MIN_SEASONAL of them; otherwise the last `size` points."""
    trailing = [v for _, v in history][-size:]
    if len(trailing) < MIN_POINTS:
        return None
    window, baseline = trailing, "trailing"
    if _daily(history):
        same_day = [v for t, v in history if t.weekday() == point[0].weekday()][-size:]
        if len(same_day) >= MIN_SEASONAL:
            window, baseline = same_day, "weekday"
    med = statistics.median(window)
    mad = statistics.median(abs(v - med) for v in window)
    scale = max(mad / 0.6745, 0.05 * abs(med), 1e-9)
    score = (point[1] - med) / scale
    return Verdict(point[1], med, mad, round(score, 2), baseline, len(window))


def _daily(history: list[tuple[datetime, float]]) -> bool:
    if len(history) < 2:
        return False
    span = (history[-1][0] - history[0][0]).total_seconds()
    return span / (len(history) - 1) >= 20 * 3600


def _series(state_dir: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[metrics.Metric]]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], list[metrics.Metric]] = {}
    for name in WATCHED:
        latest: dict[tuple[tuple[tuple[str, str], ...], str, datetime], metrics.Metric] = {}
        for m in metrics.query(state_dir, name):
            dims = tuple(sorted((k, v) for k, v in m.dimensions.items() if k != "partition"))
            latest[(dims, m.dimensions.get("partition", ""), m.ts)] = m  # the last value recorded wins
        for (dims, _, _), m in latest.items():
            out.setdefault((name, dims), []).append(m)
    return {k: sorted(v, key=lambda m: m.ts) for k, v in out.items()}


def detect(project: Project, window: int | None = None, record: bool = True) -> StepResult:
    """Judge the latest point of every watched series. Anomalies are warnings: exit 0."""
    size = window or project.config.monitor.anomaly_window
    found: list[dict[str, Any]] = []
    judged = 0
    now = datetime.now(UTC)
    for (name, _dims), series in sorted(_series(project.state_dir).items()):
        # a partition still filling (its day has not ended) is not judged yet
        points = [m for m in series if "partition" not in m.dimensions or m.ts + timedelta(days=1) <= now]
        if not points:
            continue
        last = points[-1]
        history = [(m.ts, m.value) for m in points[:-1]][-size * 7 :]  # room for the weekday baseline
        verdict = judge(history, (last.ts, last.value), size)
        if verdict is None:
            continue
        judged += 1
        if abs(verdict.score) > THRESHOLD:
            found.append(
                {
                    "metric": name,
                    "dimensions": last.dimensions,
                    "timestamp": last.ts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    "value": verdict.value,
                    "median": verdict.median,
                    "mad": verdict.mad,
                    "score": verdict.score,
                    "direction": "high" if verdict.score > 0 else "low",
                    "baseline": verdict.baseline,
                    "window": verdict.window,
                }
            )
    payload = {
        "checked_at": now.isoformat().replace("+00:00", "Z"),
        "threshold": THRESHOLD,
        "series_judged": judged,
        "anomalies": found,
    }
    if record:
        per_dataset: dict[str, int] = {}
        for a in found:
            ds = a["dimensions"].get("dataset", "")
            per_dataset[ds] = per_dataset.get(ds, 0) + 1
        metrics.record(
            project.state_dir,
            [
                metrics.Metric("anomalies", n, {"dataset": ds} if ds else {}, now)
                for ds, n in per_dataset.items()
            ]
            + [metrics.Metric("anomalies", len(found), {}, now)],
        )
    lines = [f"{judged} series judged, {len(found)} anomalies (|robust z| > {THRESHOLD})"]
    for a in found:
        dims = ", ".join(f"{k}={v}" for k, v in a["dimensions"].items())
        lines.append(
            f"  {a['metric']} [{dims}] {a['value']:g} vs median {a['median']:g} "
            f"(z {a['score']:+.1f}, {a['baseline']} baseline of {a['window']})"
        )
    return StepResult(payload, ExitCode.OK, "\n".join(lines))
