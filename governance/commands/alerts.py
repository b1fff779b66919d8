"""`smartflow-gov alerts plan|apply|evaluate`: alert rules as code (Azure Monitor) and local evaluation."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.output import emit


@click.group("alerts")
def command() -> None:
    """Alert rules and action groups: ARM plan/apply, local evaluation with notifications."""


@command.command("plan")
@click.option("--prune", is_flag=True, help="Also plan deleting managed resources no longer declared.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 1 when the plan has changes.")
@pass_app
def plan_cmd(app: App, prune: bool, detailed_exitcode: bool) -> int:
    """Diff alerts/*.yaml against the live Azure Monitor resources (nothing is changed)."""
    from governance.monitor.alerts.plan import plan

    result = plan(app.project(), prune=prune, detailed_exitcode=detailed_exitcode)
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("apply")
@click.option(
    "--prune", is_flag=True, help="Delete managed resources no longer declared (never unmanaged ones)."
)
@pass_app
@writes_state
def apply_cmd(app: App, prune: bool) -> int:
    """Create or update metric alerts, scheduled query rules and action groups to match alerts/*.yaml."""
    from governance.monitor.alerts.apply import apply

    result = apply(app.project(), prune=prune)
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("evaluate")
@click.option("--no-notify", is_flag=True, help="Evaluate and keep state, but send nothing.")
@pass_app
@writes_state
def evaluate_cmd(app: App, no_notify: bool) -> int:
    """Evaluate the rules on the local metric history and notify action groups (webhook, e-mail) on
    fired/resolved transitions; exit 1 while an alert is firing, 3 if a notification could not be sent."""
    from governance.monitor.alerts.evaluate import evaluate

    result = evaluate(app.project(), notify=not no_notify)
    emit(app.output, result.payload, result.text)
    return result.exit_code
