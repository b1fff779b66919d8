"""`smartflow-gov lineage build|show|impact|push|export`: the lineage graph (SPEC §3, §4)."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.output import emit


@click.group("lineage")
def command() -> None:
    """Dataset and column lineage from job manifests and their SQL."""


@command.command("build")
@pass_app
@writes_state
def build_cmd(app: App) -> int:
    """Build and check the graph; exit 1 on unknown datasets, cycles, orphans, bad SQL or columns."""
    from governance.lineage.service import build

    result = build(app.project())
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("show")
@click.argument("dataset")
@click.option("--depth", type=int, default=0, help="Levels to show each way (0: all).")
@pass_app
def show_cmd(app: App, dataset: str, depth: int) -> int:
    """Upstream and downstream tree of DATASET."""
    from governance.lineage.explain import render_show, show
    from governance.lineage.service import checked_graph

    project = app.project()
    payload = show(project, checked_graph(project), dataset, depth or None)
    emit(app.output, payload, lambda: render_show(payload))
    return 0


@command.command("impact")
@click.argument("target", metavar="DATASET[.COLUMN]")
@pass_app
def impact_cmd(app: App, target: str) -> int:
    """Every downstream dataset and column, and the suites and alert rules that watch them."""
    from governance.lineage.explain import impact, render_impact
    from governance.lineage.service import checked_graph

    project = app.project()
    payload = impact(project, checked_graph(project), target)
    emit(app.output, payload, lambda: render_impact(payload))
    return 0


@command.command("push")
@pass_app
@writes_state
def push_cmd(app: App) -> int:
    """Push the lineage graph to the catalog (local, or Purview Process entities with columnMapping)."""
    from governance.lineage.service import push

    result = push(app.project())
    emit(app.output, result.payload, result.text or "lineage pushed")
    return result.exit_code


@command.command("export")
@click.option(
    "--openlineage",
    "directory",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for the OpenLineage events (one JSON line per job).",
)
@click.option("--url", default=None, help="Also POST each event to this OpenLineage endpoint (e.g. Marquez).")
@pass_app
def export_cmd(app: App, directory: str, url: str | None) -> int:
    """Export one COMPLETE OpenLineage RunEvent per job (sql, schema, columnLineage facets)."""
    from governance.lineage.openlineage import export

    result = export(app.project(), directory, url)
    emit(app.output, result.payload, result.text)
    return result.exit_code
