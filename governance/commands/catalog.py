"""`smartflow-gov catalog show DATASET|TERM` and `catalog drift [--detailed-exitcode]`."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.errors import ExitCode
from governance.output import emit


@click.group("catalog")
def command() -> None:
    """Read the catalog: one dataset or term, or the drift between the catalog and the files."""


@command.command("show")
@click.argument("name")
@pass_app
def show_cmd(app: App, name: str) -> int:
    """Show a dataset (columns, classifications, terms) or a term (definition, assignments)."""
    from governance.catalog.service import show

    result = show(app.project(), name)
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("drift")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 1 when there is drift.")
@pass_app
def drift_cmd(app: App, detailed_exitcode: bool) -> int:
    """Managed objects changed outside the files, declared ones missing, and unmanaged additions."""
    from governance.catalog.service import drift

    result = drift(app.project())
    emit(app.output, result.payload, result.text)
    if detailed_exitcode and result.extra.get("drift"):
        return ExitCode.CHECK_FAILED
    return result.exit_code
