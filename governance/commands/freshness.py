"""`smartflow-gov freshness check`: lag against SLA, missing partitions and late arrivals per dataset."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.errors import InputError
from governance.output import emit


@click.group("freshness")
def command() -> None:
    """Freshness SLAs: lag, missing partitions, late arrivals."""


@command.command("check")
@click.option("--dataset", "datasets", multiple=True, help="Only this dataset (repeatable).")
@click.option(
    "--source",
    type=click.Choice(["lake", "log-analytics"]),
    default="lake",
    show_default=True,
    help="lake: Delta log and data; log-analytics: the shipped KQL on the configured workspace.",
)
@click.option("--as-of", "as_of", help="Judge lag as of this ISO-8601 time (default: now, UTC).")
@pass_app
@writes_state
def check_cmd(app: App, datasets: tuple[str, ...], source: str, as_of: str | None) -> int:
    """Check every dataset that declares `freshness:`; exit 1 if one is stale or misses a partition."""
    from governance.monitor.freshness import check

    when = None
    if as_of:
        try:
            when = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"--as-of {as_of!r} is not an ISO-8601 time") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    result = check(app.project(), source=source, datasets=list(datasets) or None, as_of=when)
    emit(app.output, result.payload, result.text)
    return result.exit_code
