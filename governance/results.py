"""What every capability's service returns, so the CLI and `nightly` can compose them the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.errors import ExitCode


@dataclass
class StepResult:
    """A service's machine-readable result (the `--output json` payload of SPEC §4) and its exit code."""

    payload: dict[str, Any]
    exit_code: int = ExitCode.OK
    text: str = ""  # the human rendering, when the service has one
    extra: dict[str, Any] = field(default_factory=dict)  # anything nightly/reports may use, not printed

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK


def worst(*codes: int) -> int:
    """Combine exit codes: an infrastructure fault outranks a bad input, which outranks a failed check."""
    order = {ExitCode.OK: 0, ExitCode.CHECK_FAILED: 1, ExitCode.BAD_INPUT: 2, ExitCode.INFRA: 3}
    return max(codes, key=lambda c: order.get(ExitCode(c), 3), default=ExitCode.OK)
