"""`smartflow-gov nightly`: validate, sync, lineage, quality, pii, freshness, access, metrics, alerts, reports."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.output import emit, is_ci, stderr_console

if TYPE_CHECKING:
    from governance.nightly import Step, StepRecord

STYLE = {"ok": ("✓", "green"), "failed": ("✗", "yellow"), "error": ("!", "red"), "skipped": ("-", "dim")}


def _plain(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class _Progress:
    """Rich spinner and coloured lines on a terminal; plain lines (one per step) in CI or a pipe."""

    def __init__(self) -> None:
        self.console = stderr_console()
        self.plain = is_ci() or not self.console.is_terminal
        self.status: Any = None

    def start(self, step: Step, index: int, total: int) -> None:
        if self.plain:
            _plain(f"nightly [{index}/{total}] {step.name} ...")
        else:
            self.status = self.console.status(f"[bold]{step.title}[/] ({index}/{total})")
            self.status.start()

    def done(self, rec: StepRecord, index: int, total: int) -> None:
        line = f"{rec.name}: {rec.status} (exit {rec.exit_code}, {rec.duration_seconds:.1f}s) {rec.summary}"
        if self.plain:
            _plain(f"nightly [{index}/{total}] {line}")
            return
        if self.status is not None:
            self.status.stop()
        mark, colour = STYLE.get(rec.status, ("?", "white"))
        from rich.text import Text

        text = Text.assemble(
            (f" {mark} ", f"bold {colour}"),
            (f"{rec.title:<32}", "bold"),
            (f"{rec.duration_seconds:6.1f}s  ", "dim"),
            (rec.summary, colour if rec.status != "ok" else ""),
        )
        self.console.print(text)


def _text(summary: dict[str, Any]) -> str:
    lines = [
        f"nightly run {summary['run_id']}: exit {summary['exit_code']} in {summary['duration_seconds']:.1f}s"
    ]
    for s in summary["steps"]:
        lines.append(f"  {s['name']:<22} {s['status']:<8} {s['duration_seconds']:7.1f}s  {s['summary']}")
        if s.get("error") and s["error"] != s["summary"]:
            lines.append(f"  {'':<22} {s['error'][:300]}")
    return "\n".join(lines)


@click.command("nightly")
@click.option(
    "--step",
    "steps",
    multiple=True,
    metavar="NAME",
    help="Run only these steps (repeatable), e.g. --step access --step reports.",
)
@pass_app
@writes_state
def command(app: App, steps: tuple[str, ...]) -> int:
    """The main job: every governance check in order; a failing step is recorded and the rest goes on.

    Exit code: the worst over the steps (0 ok, 1 a check failed, 2 bad input, 3 infrastructure).
    The run summary is stored under the state dir (runs/latest.json) and printed with --output json.
    """
    from governance.nightly import STEP_NAMES, run_nightly

    unknown = [s for s in steps if s not in STEP_NAMES]
    if unknown:
        raise click.BadParameter(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEP_NAMES)}")
    project = app.project()
    result = run_nightly(project, progress=_Progress(), only=list(steps) or None)
    emit(app.output, result.payload, lambda: _text(result.payload))
    return int(result.exit_code)
