"""`smartflow-gov sync-domains [--plan|--apply] [--prune] [--detailed-exitcode]`: Unified Catalog
governance domains, data products, critical data elements and their relationships (SPEC §6.7)."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.errors import ExitCode
from governance.output import emit


@click.command("sync-domains")
@click.option("--plan", "mode", flag_value="plan", default=True, help="Show the changes (default).")
@click.option("--apply", "mode", flag_value="apply", help="Make the catalog match domains/*.yaml.")
@click.option("--prune", is_flag=True, help="Also delete managed objects that left the files.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 1 when the plan has changes.")
@click.option(
    "--refresh",
    is_flag=True,
    help="With --apply, list every object's relationships again instead of reusing the record of the "
    "last run for objects unchanged since (a plan always lists them).",
)
@pass_app
def command(app: App, mode: str, prune: bool, detailed_exitcode: bool, refresh: bool) -> int:
    """Sync governance domains, data products and critical data elements (Purview Unified Catalog, or the
    local catalog) with domains/*.yaml."""
    from governance.catalog.unified.service import sync_domains

    result = sync_domains(app.project(), apply=mode == "apply", prune=prune, refresh=refresh)
    emit(app.output, result.payload, result.text)
    if mode == "apply":
        req = result.payload["requests"]
        click.echo(f"requests: {req['read']} read, {req['write']} write", err=True)
    if detailed_exitcode and mode == "plan" and result.extra.get("changes"):
        return ExitCode.CHECK_FAILED
    return result.exit_code
