"""`smartflow-gov access check`: who can read each labelled dataset, against policies/access.yaml."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.output import emit


@click.group("access")
def command() -> None:
    """Access policies: warehouse grants, Azure RBAC on the lake, Synapse roles and SQL grants."""


@command.command("check")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(["postgres", "azure", "synapse"]),
    help="Where to look (repeatable; default: every configured source).",
)
@pass_app
def check_cmd(app: App, sources: tuple[str, ...]) -> int:
    """Exit 1 when a principal can read labelled data its label's policy does not allow."""
    from governance.access.azure_service import access_check

    result = access_check(app.project(), list(sources) or None)
    emit(app.output, result.payload, result.text)
    return result.exit_code
