"""`alerts apply`: execute the plan — action groups first (rules refer to them), deletions of rules before
the groups they used. A second apply finds nothing to do and writes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.errors import ExitCode
from governance.monitor.alerts.plan import ORDER, compute, payload, render
from governance.results import StepResult

if TYPE_CHECKING:
    from governance.project import Project


def apply(project: Project, prune: bool = False, credential: Any = None) -> StepResult:
    from governance.monitor.alerts.arm import Arm

    arm = Arm(project, credential)
    try:
        changes = compute(project, arm, prune)
        for c in sorted(
            (c for c in changes if c.action in ("create", "update")), key=lambda c: ORDER[c.type]
        ):
            arm.put(c.type, c.name, c.model)
        for c in sorted((c for c in changes if c.action == "delete"), key=lambda c: -ORDER[c.type]):
            arm.delete(c.type, c.name)
    finally:
        arm.close()
    return StepResult(payload(changes, arm, True), ExitCode.OK, render(changes, True))
