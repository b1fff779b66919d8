"""alerts/*.yaml → the desired ARM resources, built with azure-mgmt-monitor 7.x models.

Metric rules become `Microsoft.Insights/metricAlerts` (2018-03-01) on our custom metric namespace with
`skipMetricValidation` (the metric may not have been emitted yet); log rules become
`Microsoft.Insights/scheduledQueryRules` (2023-12-01) on the Log Analytics workspace; action groups
`Microsoft.Insights/actionGroups` (2023-01-01) with e-mail and webhook receivers. Every resource is tagged
`managed-by: smartflow-gov` so prune can tell ours from the rest. Everything Azure would reject is
reported first as FILE:LINE (nothing is sent when one problem is found).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from governance.config import check_endpoint, expand_env
from governance.durations import parse_duration
from governance.errors import InputError, Location, Problem
from governance.metrics import NAMESPACE

if TYPE_CHECKING:
    from governance.project import Project
    from governance.specs.alerts import ActionGroup, AlertRule

MANAGED_TAG = ("managed-by", "smartflow-gov")
METRIC_ALERT = ("Microsoft.Insights/metricAlerts", "2018-03-01")
QUERY_RULE = ("Microsoft.Insights/scheduledQueryRules", "2023-12-01")
ACTION_GROUP = ("Microsoft.Insights/actionGroups", "2023-01-01")
TYPES = {t: v for t, v in (METRIC_ALERT, QUERY_RULE, ACTION_GROUP)}

# what Azure accepts (metric alerts: documented fixed sets; log alerts: 1 minute to 1 day / 2 days)
METRIC_FREQUENCIES = {timedelta(minutes=m) for m in (1, 5, 15, 30, 60)}
METRIC_WINDOWS = {timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 360, 720, 1440)}
LOG_FREQUENCY = (timedelta(minutes=1), timedelta(days=1))
LOG_WINDOW = (timedelta(minutes=1), timedelta(days=2))
METRIC_DIMENSIONS = {"dataset", "layer", "suite"}  # what the custom metrics carry (see sinks/azure.py)
MAX_DIMENSIONS = 10


@dataclass
class Desired:
    """One resource we want: its ARM id, type, api-version, the SDK model and its REST body."""

    id: str
    type: str
    api_version: str
    name: str
    model: Any
    body: dict[str, Any]
    secrets: list[str] = field(default_factory=list)  # values to hide when the body is shown
    where: Location = Location("<memory>")


def resource_id(sub: str, rg: str, rtype: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}"


def resource_type(rid: str) -> str:
    """`Microsoft.Storage/storageAccounts` of `/subscriptions/…/providers/Microsoft.Storage/storageAccounts/x`."""
    parts = rid.strip("/").split("/")
    if "providers" not in parts:
        return ""
    rest = parts[len(parts) - parts[::-1].index("providers") :]
    return "/".join([rest[0], *rest[1::2]]) if rest else ""


def _receiver_name(text: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "_", text.split("@")[0])[:100] or "receiver"
    name, i = base, 2
    while name in used:
        name, i = f"{base}_{i}", i + 1
    used.add(name)
    return name


class _Builder:
    def __init__(self, project: Project) -> None:
        self.p = project
        self.problems: list[Problem] = []
        cfg = project.config.alerts
        self.sub = cfg.subscription_id or ""
        self.rg = cfg.resource_group or ""

    def problem(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message))

    def at(self, obj: object, *keys: str | int) -> Location:
        return self.p.locate(obj, *keys)

    # --- action groups -----------------------------------------------------------------------------
    def action_group(self, g: ActionGroup) -> Desired | None:
        from azure.mgmt.monitor import models

        if not 1 <= len(g.short_name) <= 12:
            self.problem(
                self.at(g, "short_name"), f"action group {g.name}: short_name must be 1-12 characters"
            )
        used: set[str] = set()
        emails = []
        for i, addr in enumerate(g.email):
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", addr):
                self.problem(
                    self.at(g, "email", i), f"action group {g.name}: '{addr}' is not an e-mail address"
                )
            emails.append(
                models.EmailReceiver(
                    name=_receiver_name(addr, used), email_address=addr, use_common_alert_schema=True
                )
            )
        hooks, secrets = [], []
        for i, raw in enumerate(g.webhook):
            where = self.at(g, "webhook", i)
            try:
                url = expand_env(raw, where)
                check_endpoint(url, where)
            except InputError as exc:
                self.problems += exc.problems
                continue
            if url != raw:
                secrets.append(url)
            hooks.append(
                models.WebhookReceiver(
                    name=_receiver_name(f"webhook{i + 1}", used),
                    service_uri=url,
                    use_common_alert_schema=True,
                )
            )
        model = models.ActionGroupResource(
            location="Global",
            tags=dict([MANAGED_TAG]),
            group_short_name=g.short_name,
            enabled=g.enabled,
            email_receivers=emails,
            webhook_receivers=hooks,
        )
        return self._desired(ACTION_GROUP, g.name, model, g, secrets)

    # --- rules ---------------------------------------------------------------------------------------
    def _timing(self, r: AlertRule) -> tuple[timedelta, timedelta]:
        window, freq = parse_duration(r.window), parse_duration(r.frequency)
        if window < freq:
            self.problem(
                self.at(r, "window"),
                f"rule {r.name}: window {r.window} is shorter than frequency {r.frequency}",
            )
        if not 0 <= r.severity <= 4:
            self.problem(self.at(r, "severity"), f"rule {r.name}: severity must be 0-4")
        if r.kind == "metric":
            if freq not in METRIC_FREQUENCIES:
                self.problem(
                    self.at(r, "frequency"),
                    f"rule {r.name}: a metric alert runs every PT1M, PT5M, PT15M, PT30M or PT1H, not {r.frequency}",
                )
            if window not in METRIC_WINDOWS:
                self.problem(
                    self.at(r, "window"),
                    f"rule {r.name}: a metric alert window is one of PT1M, PT5M, PT15M, PT30M, PT1H, PT6H, PT12H, P1D, not {r.window}",
                )
        else:
            if not LOG_FREQUENCY[0] <= freq <= LOG_FREQUENCY[1]:
                self.problem(
                    self.at(r, "frequency"), f"rule {r.name}: a log alert runs between every PT1M and P1D"
                )
            if not LOG_WINDOW[0] <= window <= LOG_WINDOW[1]:
                self.problem(
                    self.at(r, "window"), f"rule {r.name}: a log alert window is between PT1M and P2D"
                )
        return window, freq

    def _actions(self, r: AlertRule) -> list[str]:
        ids = []
        known = {g.name for g in self.p.action_groups}
        for i, g in enumerate(r.action_groups):
            if g not in known:
                self.problem(self.at(r, "action_groups", i), f"rule {r.name}: unknown action group '{g}'")
            ids.append(resource_id(self.sub, self.rg, ACTION_GROUP[0], g))
        return ids

    def metric_rule(self, r: AlertRule) -> Desired | None:
        from azure.mgmt.monitor import models

        window, freq = self._timing(r)
        azure = self.p.config.monitor.azure
        scopes = self.p.config.alerts.metric_scopes or ([azure.resource_id] if azure else [])
        if not scopes:
            self.problem(
                self.at(r, "kind"),
                f"rule {r.name}: metric rules need monitor.azure.resource_id (the "
                "resource the custom metrics are emitted against)",
            )
        if len(r.dimensions) > MAX_DIMENSIONS:
            self.problem(self.at(r, "dimensions"), f"rule {r.name}: at most {MAX_DIMENSIONS} dimensions")
        for key in r.dimensions:
            if key not in METRIC_DIMENSIONS:
                self.problem(
                    self.at(r, "dimensions", key),
                    f"rule {r.name}: custom metrics carry the dimensions {sorted(METRIC_DIMENSIONS)}, not '{key}'",
                )
        dims = [
            models.MetricDimension(name=k, operator="Include", values=[v])
            for k, v in sorted(r.dimensions.items())
        ]
        criterion = models.MetricCriteria(
            name="criterion1",
            metric_name=r.metric or "",
            metric_namespace=NAMESPACE,
            time_aggregation=r.aggregation,
            operator=r.operator,
            threshold=r.threshold,
            dimensions=dims or None,
            skip_metric_validation=True,
        )
        criteria: Any = models.MetricAlertSingleResourceMultipleMetricCriteria(all_of=[criterion])
        target: dict[str, str] = {}
        if len(scopes) > 1:  # one rule over several resources of one type and region
            types = {resource_type(s) for s in scopes}
            if len(types) != 1:
                self.problem(
                    self.p.locate(self.p.config.alerts, "metric_scopes"),
                    f"metric_scopes mix resource types {sorted(types)}; a metric alert watches one type",
                )
            criteria = models.MetricAlertMultipleResourceMultipleMetricCriteria(all_of=[criterion])
            target = {
                "target_resource_type": sorted(types)[0],
                "target_resource_region": self.p.config.alerts.location,
            }
        model = models.MetricAlertResource(
            location="global",
            tags=dict([MANAGED_TAG]),
            description=r.description or _describe(r),
            severity=r.severity,
            enabled=r.enabled,
            scopes=scopes or [""],
            evaluation_frequency=freq,
            window_size=window,
            criteria=criteria,
            auto_mitigate=r.auto_mitigate,
            actions=[models.MetricAlertAction(action_group_id=i) for i in self._actions(r)],
            **target,
        )
        return self._desired(METRIC_ALERT, r.name, model, r)

    def log_rule(self, r: AlertRule) -> Desired | None:
        from azure.mgmt.monitor import models

        window, freq = self._timing(r)
        workspace = self.p.config.alerts.workspace_resource_id
        if not workspace:
            self.problem(
                self.at(r, "kind"),
                f"rule {r.name}: log rules need alerts.workspace_resource_id "
                "(the Log Analytics workspace the KQL runs on)",
            )
        if r.aggregation != "Count":
            self.problem(
                self.at(r, "aggregation"),
                f"rule {r.name}: a log rule compares the row count of its query (aggregation: Count)",
            )
        if r.dimensions:
            self.problem(self.at(r, "dimensions"), f"rule {r.name}: put filters of a log rule into its query")
        if r.operator == "NotEquals":
            self.problem(self.at(r, "operator"), f"rule {r.name}: log alerts do not support NotEquals")
        condition = models.Condition(
            query=(r.query or "").strip(),
            time_aggregation="Count",
            operator=r.operator,
            threshold=r.threshold,
            failing_periods=models.ConditionFailingPeriods(
                number_of_evaluation_periods=1, min_failing_periods_to_alert=1
            ),
        )
        model = models.ScheduledQueryRuleResource(
            location=self.p.config.alerts.location,
            tags=dict([MANAGED_TAG]),
            kind="LogAlert",
            display_name=r.name,
            description=r.description or _describe(r),
            severity=r.severity,
            enabled=r.enabled,
            scopes=[workspace or ""],
            evaluation_frequency=freq,
            window_size=window,
            criteria=models.ScheduledQueryRuleCriteria(all_of=[condition]),
            auto_mitigate=r.auto_mitigate,
            actions=models.Actions(
                action_groups=self._actions(r), custom_properties={"source": "smartflow-gov"}
            ),
        )
        return self._desired(QUERY_RULE, r.name, model, r)

    def _desired(
        self, kind: tuple[str, str], name: str, model: Any, obj: object, secrets: list[str] | None = None
    ) -> Desired:
        rid = resource_id(self.sub, self.rg, kind[0], name)
        return Desired(rid, kind[0], kind[1], name, model, model.serialize(), secrets or [], self.at(obj))


def _describe(r: AlertRule) -> str:
    what = r.metric if r.kind == "metric" else "the query's row count"
    return f"{what} {r.aggregation} {r.operator} {r.threshold:g} over {r.window} (smartflow-gov)"


def desired(project: Project) -> list[Desired]:
    """Every resource alerts/*.yaml asks for, in apply order (action groups first). Raises InputError
    with every problem found (exit 2) before anything is sent."""
    b = _Builder(project)
    cfg = project.config.alerts
    where = project.locate(cfg) if cfg.where.file != "<memory>" else project.locate(project.config)
    if not cfg.subscription_id:
        b.problem(where, "alerts.subscription_id is required to plan or apply alert resources")
    if not cfg.resource_group:
        b.problem(where, "alerts.resource_group is required to plan or apply alert resources")
    out: list[Desired] = []
    seen: dict[tuple[str, str], Location] = {}
    items: list[tuple[Any, Any]] = [(b.action_group, g) for g in project.action_groups]
    items += [(b.metric_rule if r.kind == "metric" else b.log_rule, r) for r in project.alert_rules]
    for build, obj in items:
        d = build(obj)
        if d is None:
            continue
        key = (d.type, d.name.lower())
        if key in seen:
            b.problem(d.where, f"duplicate {d.type.split('/')[-1]} name '{d.name}' (first at {seen[key]})")
        seen[key] = d.where
        out.append(d)
    if b.problems:
        raise InputError(b.problems)
    return out
