"""`smartflow-gov quality run | export-gx | import-gx | suggest`: quality suites compiled to one scan per dataset."""

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


@command.command("suggest")
@click.option("--dataset", required=True, metavar="NAME", help="Dataset to profile.")
@click.option(
    "--out", type=click.Path(dir_okay=False, writable=True), default=None, help="File (default stdout)."
)
@click.option(
    "--false-alarm-rate",
    type=float,
    default=0.02,
    show_default=True,
    metavar="R",
    help="Chance that a clean partition fails a history bound of the suite.",
)
@pass_app
def suggest_command(app: App, dataset: str, out: str | None, false_alarm_rate: float) -> int:
    """Propose a suite for a dataset from a profile (≤ 2 queries) and its partitions' history."""
    from governance.quality.suggest.service import suggest

    result = suggest(app.project(), dataset, out, false_alarm_rate)
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("enforce")
@click.option(
    "--suite", "suites", multiple=True, metavar="NAME", help="Suite to enforce (repeatable; default all)."
)
@click.option(
    "--plan", "mode", flag_value="plan", default=True, help="Show the constraints to add/drop (default)."
)
@click.option("--apply", "mode", flag_value="apply", help="Add/drop the Delta CHECK constraints.")
@click.option("--prune", is_flag=True, help="Also drop sfg_ constraints no suite asks for any more.")
@pass_app
def enforce_command(app: App, suites: tuple[str, ...], mode: str, prune: bool) -> int:
    """Row-level error expectations as Delta CHECK constraints (exit 1: existing rows violate one)."""
    from governance.quality.enforce import enforce
    from governance.quality.service import select_suites

    project = app.project()
    result = enforce(project, select_suites(project, list(suites) or None, None), mode == "apply", prune)
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("export")
@click.argument("suite")
@click.option("--format", "fmt", type=click.Choice(["dlt"]), required=True, help="dlt: Delta Live Tables.")
@click.option(
    "--on-error",
    type=click.Choice(["drop", "fail"]),
    default="drop",
    show_default=True,
    help="What DLT does with rows failing an error-severity rule.",
)
@pass_app
def export_format_command(app: App, suite: str, fmt: str, on_error: str) -> int:
    """Print a suite in another tool's vocabulary (Delta Live Tables Python expectations)."""
    from governance.quality.dlt import export_dlt
    from governance.quality.service import select_suites

    text = export_dlt(select_suites(app.project(), [suite], None)[0], on_error)
    emit(app.output, {"suite": suite, "format": fmt, "source": text}, text)
    return 0
