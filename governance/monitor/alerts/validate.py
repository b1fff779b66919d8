"""`validate` rules of alerts/*.yaml: action groups, rule shape, metrics and dimensions, and the
evaluation frequencies and windows Azure Monitor accepts (the constants ARM applies live beside them)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from governance.config import LAYERS
from governance.durations import parse_duration
from governance.metrics import METRIC_NAMES
from governance.monitor.alerts.resources import LOG_FREQUENCY, LOG_WINDOW, METRIC_FREQUENCIES, METRIC_WINDOWS

if TYPE_CHECKING:
    from governance.specs.alerts import AlertRule
    from governance.validation import Validator

METRICS = frozenset(METRIC_NAMES) | {
    # recorded beside the SPEC §5 set (monitoring, quality)
    "late_partitions",
    "anomalies",
    "pipeline_failures",
    "quality_error",
    "row_count",
}
DIMENSIONS = frozenset({"dataset", "layer", "suite", "expectation"})


def rules(v: Validator) -> None:
    v.duplicates(v.p.action_groups, lambda g: g.name, "action group")
    v.duplicates(v.p.alert_rules, lambda r: r.name, "alert rule")
    groups = {g.name for g in v.p.action_groups}
    for ag in v.p.action_groups:
        for i, mail in enumerate(ag.email):
            if not re.fullmatch(r"[^@\s]+@[^@\s]+", mail):
                v.add(v.at(ag, "email", i), f"action group {ag.name}: '{mail}' is not an e-mail address")
        for i, url in enumerate(ag.webhook):
            if "${" not in url and not re.match(r"https://|http://(127\.|localhost|\[::1\])", url):
                v.add(
                    v.at(ag, "webhook", i),
                    f"action group {ag.name}: a webhook must be an https:// URL or ${{VAR}} (secrets never in files)",
                )
    for r in v.p.alert_rules:
        for i, g in enumerate(r.action_groups):
            if g not in groups and not v.excused("action_groups", g):
                v.add(
                    v.at(r, "action_groups", i),
                    f"rule {r.name}: unknown action group '{g}'{v.suggest(g, groups)}",
                )
        alert_timing(v, r)
        if r.kind == "log" and r.metric:
            v.add(v.at(r, "metric"), f"rule {r.name}: a log rule alerts on its query, not on 'metric'")
        if r.kind == "metric" and r.query:
            v.add(v.at(r, "query"), f"rule {r.name}: a metric rule takes no 'query'")
        if r.metric and r.metric not in METRICS:
            v.add(
                v.at(r, "metric"),
                f"rule {r.name}: '{r.metric}' is not a metric smartflow-gov emits{v.suggest(r.metric, METRICS)}",
            )
        if r.local and r.local.metric not in METRICS:
            v.add(
                v.at(r.local, "metric"),
                f"rule {r.name}: '{r.local.metric}' is not a metric smartflow-gov emits"
                + v.suggest(r.local.metric, METRICS),
            )
        for owner, dims in ((r, r.dimensions), (r.local, r.local.dimensions if r.local else {})):
            for dim, value in dims.items():
                where = v.at(owner, "dimensions", dim)
                if dim not in DIMENSIONS:
                    v.add(
                        where,
                        f"rule {r.name}: unknown dimension '{dim}' (one of: {', '.join(sorted(DIMENSIONS))})",
                    )
                elif value == "*":
                    continue
                elif dim == "dataset":
                    v.dataset_ref(value, where)
                elif dim == "layer" and value not in LAYERS:
                    v.add(where, f"rule {r.name}: unknown layer '{value}' (bronze, silver, gold)")
                elif dim == "suite" and value not in {s.suite for s in v.p.suites}:
                    v.add(where, f"rule {r.name}: unknown suite '{value}'")


def alert_timing(v: Validator, r: AlertRule) -> None:
    """The evaluation frequencies and windows Azure Monitor accepts (ARM rejects others at apply)."""
    window, freq = parse_duration(r.window), parse_duration(r.frequency)
    if r.kind == "metric":
        if freq not in METRIC_FREQUENCIES:
            v.add(
                v.at(r, "frequency"),
                f"rule {r.name}: a metric alert runs every PT1M, PT5M, PT15M, PT30M or PT1H, not {r.frequency}",
            )
        if window not in METRIC_WINDOWS:
            v.add(
                v.at(r, "window"),
                f"rule {r.name}: a metric alert window is one of PT1M, PT5M, PT15M, PT30M, PT1H, PT6H,"
                f" PT12H, P1D, not {r.window}",
            )
    else:
        if not LOG_FREQUENCY[0] <= freq <= LOG_FREQUENCY[1]:
            v.add(v.at(r, "frequency"), f"rule {r.name}: a log alert runs between every PT1M and P1D")
        if not LOG_WINDOW[0] <= window <= LOG_WINDOW[1]:
            v.add(v.at(r, "window"), f"rule {r.name}: a log alert window is between PT1M and P2D")
