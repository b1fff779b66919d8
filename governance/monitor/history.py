"""`metrics show`: recent values of each metric series, with a unicode sparkline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance import metrics
from governance.errors import ExitCode
from governance.results import StepResult

if TYPE_CHECKING:
    from governance.project import Project

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        return BARS[3] * len(values)
    return "".join(BARS[round((v - lo) / (hi - lo) * (len(BARS) - 1))] for v in values)


def show(project: Project, name: str | None = None, dataset: str | None = None, last: int = 20) -> StepResult:
    """Series (name + dimensions) in the local history, each with its last `last` points."""
    rows = metrics.query(project.state_dir, name, {"dataset": dataset} if dataset else None)
    series: dict[tuple[str, tuple[tuple[str, str], ...]], list[metrics.Metric]] = {}
    for m in rows:  # rows per partition form one series over the calendar (latest count per partition)
        dims = tuple(sorted((k, v) for k, v in m.dimensions.items() if k != "partition"))
        series.setdefault((m.name, dims), []).append(m)
    for key, points in series.items():
        if any("partition" in p.dimensions for p in points):
            latest = {p.dimensions.get("partition", ""): p for p in points}
            series[key] = sorted(latest.values(), key=lambda p: (p.ts, p.id or 0))
    out: list[dict[str, Any]] = []
    for (mname, dims), points in sorted(series.items()):
        recent = points[-last:]
        values = [p.value for p in recent]
        out.append(
            {
                "name": mname,
                "dimensions": dict(dims),
                "count": len(points),
                "latest": values[-1],
                "min": min(values),
                "max": max(values),
                "sparkline": sparkline(values),
                "points": [
                    {"timestamp": metrics.as_dict(p)["timestamp"], "value": p.value}
                    | ({"partition": p.dimensions["partition"]} if "partition" in p.dimensions else {})
                    for p in recent
                ],
            }
        )
    payload = {"series": out, "store": str(metrics.store_path(project.state_dir))}
    if not out:
        return StepResult(payload, ExitCode.OK, "no metrics recorded yet" + (f" for {name}" if name else ""))
    width = max(len(s["name"]) for s in out)
    lines = []
    for s in out:
        dim_text = ",".join(f"{k}={v}" for k, v in s["dimensions"].items())
        lines.append(
            f"{s['name']:<{width}}  {s['sparkline']:<{last}}  latest {s['latest']:g} "
            f"(min {s['min']:g}, max {s['max']:g}, n={s['count']})  {dim_text}"
        )
    return StepResult(payload, ExitCode.OK, "\n".join(lines))
