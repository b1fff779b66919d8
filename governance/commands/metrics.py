"""`smartflow-gov metrics show|emit|anomalies`: the local metric history and its sinks."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.output import emit


@click.group("metrics")
def command() -> None:
    """Metric history: show it, send it to the configured sinks, find anomalies."""


@command.command("show")
@click.argument("name", required=False)
@click.option("--dataset", help="Only series of this dataset.")
@click.option("--last", default=20, show_default=True, type=click.IntRange(1, 500), help="Points per series.")
@pass_app
def show_cmd(app: App, name: str | None, dataset: str | None, last: int) -> int:
    """Recent values of each series (metric + dimensions) with a sparkline."""
    from governance.monitor.history import show

    result = show(app.project(), name, dataset, last)
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("emit")
@pass_app
@writes_state
def emit_cmd(app: App) -> int:
    """Send metrics not yet delivered (and anything spooled) to the configured sinks; exit 3 if a sink is
    unreachable (the metrics stay spooled for the next run)."""
    from governance.monitor.service import emit as emit_metrics

    result = emit_metrics(app.project())
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("anomalies")
@pass_app
def anomalies_cmd(app: App) -> int:
    """Latest values far outside their trailing window (median/MAD, weekday seasonality)."""
    from governance.monitor.anomaly import detect

    result = detect(app.project())
    emit(app.output, result.payload, result.text)
    return result.exit_code
