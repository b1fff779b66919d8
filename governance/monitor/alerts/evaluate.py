"""`alerts evaluate`: the same rules against the local metric history, with real notifications.

A metric rule is evaluated as Azure would: the metric's points in the last `window`, filtered by the
rule's dimensions (a `*` value splits the rule per value of that dimension), aggregated, compared with
the threshold. A log rule uses its `local:` equivalent. State lives in state_dir/monitor/alerts.json:
a rule that starts firing notifies once ("Fired"), stays quiet while it keeps firing, and says "Resolved"
once when it clears. No data in the window changes nothing. A failed delivery keeps the previous state so
the next run tries again (exit 3).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance import metrics
from governance.durations import parse_duration
from governance.errors import ExitCode
from governance.lock import write_atomic
from governance.monitor.alerts.notify import Event, deliver
from governance.results import StepResult, worst

if TYPE_CHECKING:
    from governance.project import Project
    from governance.specs.alerts import AlertRule

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThan": lambda v, t: v > t,
    "GreaterThanOrEqual": lambda v, t: v >= t,
    "LessThan": lambda v, t: v < t,
    "LessThanOrEqual": lambda v, t: v <= t,
    "Equals": lambda v, t: v == t,
    "NotEquals": lambda v, t: v != t,
}
AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "Average": statistics.fmean,
    "Minimum": min,
    "Maximum": max,
    "Total": sum,
    "Count": lambda v: float(len(v)),
}


def state_path(project: Project) -> Path:
    return project.state_dir / "monitor" / "alerts.json"


def _load_state(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _save_state(path: Path, state: dict[str, dict[str, Any]]) -> None:
    write_atomic(path, json.dumps(state, indent=2, sort_keys=True))


def _condition(rule: AlertRule) -> tuple[str, str, float, str, dict[str, str]] | None:
    """(metric, operator, threshold, aggregation, dimensions) evaluated locally, or None."""
    if rule.kind == "metric" and rule.metric:
        return rule.metric, rule.operator, rule.threshold, rule.aggregation, rule.dimensions
    if rule.local is not None:
        lc = rule.local
        return lc.metric, lc.operator, lc.threshold, lc.aggregation, lc.dimensions
    return None


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def evaluate_rule(project: Project, rule: AlertRule, now: datetime) -> list[dict[str, Any]]:
    """One evaluation per split (dimension values of `*` keys): value, firing, breaching series."""
    cond = _condition(rule)
    if cond is None:
        return [{"key": rule.name, "dimensions": {}, "status": "no_local_equivalent"}]
    metric, operator, threshold, aggregation, dims = cond
    fixed = {k: v for k, v in dims.items() if v != "*"}
    split = sorted(k for k, v in dims.items() if v == "*")
    since = now - parse_duration(rule.window)
    points = [m for m in metrics.query(project.state_dir, metric, fixed or None, since=since) if m.ts <= now]
    groups: dict[tuple[str, ...], list[metrics.Metric]] = defaultdict(list)
    for m in points:
        if all(k in m.dimensions for k in split):
            groups[tuple(m.dimensions[k] for k in split)].append(m)
    if not split and not groups:
        groups[()] = []
    out = []
    compare, agg = OPERATORS[operator], AGGREGATIONS[aggregation]
    for values, pts in sorted(groups.items()):
        split_dims = fixed | dict(zip(split, values, strict=True))
        key = rule.name + "".join(
            f"|{k}={v}" for k, v in sorted(dict(zip(split, values, strict=True)).items())
        )
        if not pts:
            out.append({"key": key, "dimensions": split_dims, "status": "no_data"})
            continue
        value = float(agg([p.value for p in pts]))
        per_series: dict[tuple[tuple[str, str], ...], list[float]] = defaultdict(list)
        for p in pts:
            per_series[tuple(sorted(p.dimensions.items()))].append(p.value)
        breaching = [
            {"dimensions": dict(d), "value": float(agg(v))}
            for d, v in sorted(per_series.items())
            if compare(float(agg(v)), threshold)
        ]
        row: dict[str, Any] = {
            "key": key,
            "dimensions": split_dims,
            "status": "firing" if compare(value, threshold) else "ok",
            "value": value,
            "points": len(pts),
            "breaching": breaching if compare(value, threshold) else [],
            "condition": f"{aggregation} {metric} {operator} {threshold:g} over {rule.window}",
        }
        out.append(row)
    return out


def evaluate(project: Project, now: datetime | None = None, notify: bool = True) -> StepResult:
    now = (now or datetime.now(UTC)).astimezone(UTC)  # not truncated: a point recorded this second counts
    path = state_path(project)
    state = _load_state(path)
    groups = {g.name: g for g in project.action_groups}
    results: list[dict[str, Any]] = []
    codes = [ExitCode.OK]
    for rule in project.alert_rules:
        if not rule.enabled:
            results.append(
                {"rule": rule.name, "kind": rule.kind, "severity": rule.severity, "status": "disabled"}
            )
            continue
        for ev in evaluate_rule(project, rule, now):
            prev = state.get(ev["key"], {}).get("state", "ok")
            entry = {"rule": rule.name, "kind": rule.kind, "severity": rule.severity} | ev
            transition = None
            if ev["status"] == "firing":
                transition = None if prev == "fired" else "Fired"
            elif ev["status"] == "ok" and prev == "fired":
                transition = "Resolved" if rule.auto_mitigate else None
            entry["transition"] = transition
            if ev["status"] == "firing":
                codes.append(ExitCode.CHECK_FAILED)
            if transition:
                event = Event(
                    rule=rule.name,
                    status=transition,
                    severity=rule.severity,
                    description=rule.description or ev.get("condition", rule.name),
                    condition=ev["condition"],
                    value=ev.get("value"),
                    dimensions=ev["dimensions"],
                    at=_iso(now),
                    breaching=ev.get("breaching", []),
                )
                deliveries = []
                if notify:
                    for name in rule.action_groups:
                        if name in groups and groups[name].enabled:
                            deliveries += deliver(groups[name], event, project.config.notify)
                entry["notifications"] = deliveries
                if any(d["status"] == "failed" for d in deliveries):
                    codes.append(ExitCode.INFRA)  # keep the old state: notify again next run
                else:
                    state[ev["key"]] = {
                        "state": "fired" if transition == "Fired" else "resolved",
                        "since": _iso(now),
                        "value": ev.get("value"),
                        "rule": rule.name,
                    }
            elif ev["status"] in ("firing", "ok") and ev["key"] in state:
                state[ev["key"]]["value"] = ev.get("value")
            results.append(entry)
    _save_state(path, state)
    firing = [r for r in results if r.get("status") == "firing"]
    payload = {
        "evaluated_at": _iso(now),
        "rules": results,
        "summary": {
            "rules": len(project.alert_rules),
            "firing": len(firing),
            "fired": sum(1 for r in results if r.get("transition") == "Fired"),
            "resolved": sum(1 for r in results if r.get("transition") == "Resolved"),
            "no_data": sum(1 for r in results if r.get("status") == "no_data"),
            "notifications_failed": sum(
                1 for r in results for d in r.get("notifications", []) if d["status"] == "failed"
            ),
        },
    }
    return StepResult(payload, worst(*codes), _text(payload))


def _text(payload: dict[str, Any]) -> str:
    lines = []
    for r in payload["rules"]:
        if r["status"] in ("no_data", "disabled", "no_local_equivalent", "ok") and not r.get("transition"):
            continue
        dims = ", ".join(f"{k}={v}" for k, v in r.get("dimensions", {}).items())
        line = f"{r['status'].upper():<7} sev{r['severity']} {r['rule']}" + (f" [{dims}]" if dims else "")
        if r.get("value") is not None:
            line += f" value {r['value']:g}"
        if r.get("transition"):
            sent = [f"{d['channel']}:{d['status']}" for d in r.get("notifications", [])]
            line += f" — {r['transition'].lower()}, notified ({', '.join(sent) or 'no receivers'})"
        lines.append(line)
    s = payload["summary"]
    lines.append(
        f"{s['rules']} rules: {s['firing']} firing ({s['fired']} newly fired), {s['resolved']} resolved, "
        f"{s['no_data']} without data"
    )
    return "\n".join(lines)
