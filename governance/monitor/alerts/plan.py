"""`alerts plan`: desired resources vs a GET of each live one (read-only fields stripped).

A live resource matches when every value we declare is there with the same value (keys Azure adds, such
as defaults, do not count as drift; lists must match element by element). With prune, resources of our
three types in the resource group that carry `managed-by: smartflow-gov` and are no longer declared are
deleted; anything without the tag is never touched.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from governance.errors import ExitCode
from governance.monitor.alerts.resources import (
    ACTION_GROUP,
    MANAGED_TAG,
    METRIC_ALERT,
    QUERY_RULE,
    TYPES,
    desired,
)
from governance.results import StepResult

if TYPE_CHECKING:
    from governance.monitor.alerts.arm import Arm
    from governance.project import Project

ORDER = {ACTION_GROUP[0]: 0, METRIC_ALERT[0]: 1, QUERY_RULE[0]: 1}


@dataclass
class Change:
    id: str
    type: str
    api_version: str
    name: str
    action: str  # create | update | delete | noop
    body: dict[str, Any] | None
    model: Any = None
    changed: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "type": self.type,
            "api_version": self.api_version,
            "action": self.action,
            "body": _redact(self.body, self.secrets),
        }
        if self.changed:
            out["changed"] = self.changed
        return out


def _redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    if isinstance(value, str) and value in secrets:
        return "***"
    return value


def _same(a: Any, b: Any, key: str) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    if (
        isinstance(a, str)
        and isinstance(b, str)
        and key.rsplit(".", 1)[-1] in ("location", "actionGroupId", "id")
    ):
        return a.lower() == b.lower()  # ARM normalises the case of locations and resource ids
    return bool(a == b)


def differences(want: Any, live: Any, path: str = "") -> list[str]:
    """Paths where `live` does not hold what `want` declares."""
    if isinstance(want, dict):
        if not isinstance(live, dict):
            return [path or "."]
        out = []
        for key, value in want.items():
            sub = f"{path}.{key}" if path else key
            if value is None:
                continue
            if key not in live:
                out.append(sub)
            else:
                out += differences(value, live[key], sub)
        return out
    if isinstance(want, list):
        if not isinstance(live, list) or len(want) != len(live):
            return [path]
        return [
            d
            for i, (w, v) in enumerate(zip(want, live, strict=True))
            for d in differences(w, v, f"{path}[{i}]")
        ]
    return [] if _same(want, live, path) else [path]


def compute(project: Project, arm: Arm, prune: bool = False) -> list[Change]:
    from concurrent.futures import ThreadPoolExecutor

    wanted = desired(project)  # raises InputError (exit 2) before any request
    with ThreadPoolExecutor(max_workers=8) as pool:  # ARM reads are independent; the client is thread-safe
        lives = list(pool.map(lambda d: arm.get(d.type, d.name), wanted))
    changes: list[Change] = []
    for d, live in zip(wanted, lives, strict=True):
        if live is None:
            action, changed = "create", []
        else:
            changed = differences(d.body, live)
            action = "update" if changed else "noop"
            extra = {k: v for k, v in (live.get("tags") or {}).items() if k not in d.body.get("tags", {})}
            if extra:  # tags others put there (policies, cost centres) survive our update
                d.model.tags = {**extra, **(d.model.tags or {})}
                d.body = d.model.serialize()
        changes.append(
            Change(d.id, d.type, d.api_version, d.name, action, d.body, d.model, changed, d.secrets)
        )
    if prune:
        declared = {(d.type, d.name.lower()) for d in wanted}
        for rtype, api_version in TYPES.items():
            for rid, name, tags in arm.list(rtype):
                if tags.get(MANAGED_TAG[0]) == MANAGED_TAG[1] and (rtype, name.lower()) not in declared:
                    changes.append(Change(rid, rtype, api_version, name, "delete", None))
    return changes


def summary(changes: list[Change]) -> dict[str, int]:
    out = {"create": 0, "update": 0, "delete": 0, "noop": 0}
    for c in changes:
        out[c.action] += 1
    return out


def render(changes: list[Change], applied: bool) -> str:
    marks = {"create": "+", "update": "~", "delete": "-", "noop": " "}
    lines = []
    for c in changes:
        if c.action == "noop":
            continue
        line = f"{marks[c.action]} {c.action:<6} {c.type.split('/')[-1]}/{c.name}"
        if c.changed:
            line += f"  ({', '.join(c.changed[:6])}{', …' if len(c.changed) > 6 else ''})"
        lines.append(line)
    s = summary(changes)
    if applied:
        lines.append(
            f"Applied: {s['create']} created, {s['update']} updated, {s['delete']} deleted, {s['noop']} unchanged."
        )
    else:
        lines.append(
            f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete, {s['noop']} unchanged."
        )
    return "\n".join(lines)


def payload(changes: list[Change], arm: Arm, applied: bool) -> dict[str, Any]:
    return {
        "applied": applied,
        "resources": [c.as_json() for c in changes],
        "summary": summary(changes),
        "requests": {"read": arm.reads, "write": arm.writes},
    }


def plan(
    project: Project, prune: bool = False, detailed_exitcode: bool = False, credential: Any = None
) -> StepResult:
    from governance.monitor.alerts.arm import Arm

    arm = Arm(project, credential)
    try:
        changes = compute(project, arm, prune)
    finally:
        arm.close()
    pending = any(c.action != "noop" for c in changes)
    code = ExitCode.CHECK_FAILED if detailed_exitcode and pending else ExitCode.OK
    return StepResult(
        payload(changes, arm, False), code, render(changes, False), {"changes": copy.copy(changes)}
    )
