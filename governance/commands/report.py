"""`smartflow-gov report nightly|audit [--out DIR]`: render a report from the latest stored nightly run."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.output import emit


@click.command("report")
@click.argument("kind", type=click.Choice(["nightly", "audit"]))
@click.option(
    "--out", "out", type=click.Path(file_okay=False), help="Folder to write to (default: reports_dir)."
)
@pass_app
def command(app: App, kind: str, out: str | None) -> int:
    """Render the nightly quality report or the governance audit as self-contained HTML plus JSON.

    Reads the latest run stored by `smartflow-gov nightly` and the metric history; sections whose step
    failed or did not run say so in the report.
    """
    from governance.reports.service import render

    result = render(app.project(), kind, out)
    emit(app.output, result.payload, result.text)
    return int(result.exit_code)
