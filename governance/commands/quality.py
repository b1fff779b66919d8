"""`smartflow-gov quality run | export-gx | import-gx`: quality suites compiled to one scan per dataset."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.output import emit


@click.group("quality")
def command() -> None:
    """Quality suites (Great Expectations vocabulary) run where the data lives."""


@command.command("run")
@click.option(
    "--suite", "suites", multiple=True, metavar="NAME", help="Suite to run (repeatable; default all)."
)
@click.option(
    "--dataset", "datasets", multiple=True, metavar="NAME", help="Only suites of this dataset (repeatable)."
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "sql", "spark", "gx"]),
    default=None,
    help="duckdb (default; Delta/Parquet), sql (SQLAlchemy), spark, gx (Great Expectations itself).",
)
@click.option("--partition", "partitions", multiple=True, metavar="K=V", help="Validate only this partition.")
@click.option(
    "--quarantine", is_flag=True, help="Write failing rows of error-severity expectations to Delta."
)
@pass_app
@writes_state
def run_command(
    app: App,
    suites: tuple[str, ...],
    datasets: tuple[str, ...],
    engine: str | None,
    partitions: tuple[str, ...],
    quarantine: bool,
) -> int:
    """Run quality suites (exit 1: an error-severity expectation failed; warn failures do not fail)."""
    from governance.quality.service import run

    result = run(
        app.project(),
        suites=list(suites) or None,
        datasets=list(datasets) or None,
        engine=engine,
        partitions=list(partitions) or None,
        quarantine=quarantine,
    )
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("export-gx")
@click.argument("suite")
@click.option(
    "--out", type=click.Path(dir_okay=False, writable=True), default=None, help="File (default stdout)."
)
@pass_app
def export_command(app: App, suite: str, out: str | None) -> int:
    """Export a suite as a GX 1.x ExpectationSuite JSON."""
    from pathlib import Path

    from governance.output import dumps
    from governance.quality.gx_suite import export_suite
    from governance.quality.service import select_suites

    doc = export_suite(select_suites(app.project(), [suite], None)[0])
    if out:
        Path(out).write_text(dumps(doc) + "\n")
    else:
        click.echo(dumps(doc))
    return 0


@command.command("import-gx")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dataset", default=None, help="Dataset the suite validates (default: from the suite's meta).")
@pass_app
def import_command(app: App, path: str, dataset: str | None) -> int:
    """Print a GX ExpectationSuite JSON as a suite YAML for expectations/."""
    import json
    import sys
    from pathlib import Path

    from ruamel.yaml import YAML

    from governance.errors import InputError
    from governance.quality.gx_suite import import_suite

    try:
        doc = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(import_suite(doc, dataset), sys.stdout)
    return 0
