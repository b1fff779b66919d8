"""`smartflow-gov posture check`: storage accounts and containers holding datasets, against posture.yaml."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.output import emit


@click.group("posture")
def command() -> None:
    """Storage posture: encryption, TLS, public access of the accounts and containers holding datasets."""


@command.command("check")
@pass_app
def check_cmd(app: App) -> int:
    """Exit 1 on a finding against policies/posture.yaml (reads ARM metadata only)."""
    from governance.access.azure_service import posture_check

    result = posture_check(app.project())
    emit(app.output, result.payload, result.text)
    return result.exit_code
