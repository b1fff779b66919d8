"""`smartflow-gov demo init`: build the embedded demo lake (bronze → silver → gold)."""

from __future__ import annotations

from typing import Any

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.errors import ExitCode, InputError
from governance.output import emit


@click.group("demo")
def command() -> None:
    """The embedded demo lake."""


@command.command("init")
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="1 ≈ 100,000 transactions over 90 days; 0.2 for tests; 100 for benchmarks.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed and --as-of, same data.")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="ISO",
    help="End of the 90-day calendar (default: now, UTC, truncated to the hour).",
)
@click.option("--force", is_flag=True, help="Replace an existing lake.")
@pass_app
@writes_state
def init_command(app: App, scale: float, seed: int, as_of: str | None, force: bool) -> int:
    """Write raw bronze Delta tables with injected defects, then build silver and gold from the manifests' SQL."""
    from governance.lake.demo.build import init
    from governance.lake.demo.calendar import parse_as_of
    from governance.lake.demo.progress import Progress

    moment = None
    if as_of:
        try:
            moment = parse_as_of(as_of)
        except ValueError:
            raise InputError(f"--as-of {as_of!r} is not an ISO-8601 date-time") from None
    project = app.project()
    with Progress() as progress:
        payload = init(project, scale=scale, seed=seed, as_of=moment, force=force, progress=progress)
    emit(app.output, payload, lambda: _text(payload))
    return ExitCode.OK


def _text(p: dict[str, Any]) -> str:
    lines = [
        f"demo lake at {p['lake']} (seed {p['seed']}, scale {p['scale']}, as of {p['as_of']}, "
        f"{p['duration_seconds']}s)"
    ]
    for d in p["datasets"]:
        lines.append(f"  {d['dataset']:<38} {d['rows']:>11,} rows  {d['partitions']:>4} partitions")
    lines.append("injected defects:")
    for key, d in p["defects"].items():
        if "count" in d:
            lines.append(f"  {key:<26} {d['count']:>7,}")
        elif d:
            lines.append(f"  {key:<26} {d.get('dataset')} {d.get('partition')}")
    lines.append(f"(details in {p['defects_file']})")
    return "\n".join(lines)
