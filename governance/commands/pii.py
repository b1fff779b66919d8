"""`smartflow-gov pii scan`: PII discovery on samples, compared with the declared classifications."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.commands.locking import writes_state
from governance.output import emit


@click.group("pii")
def command() -> None:
    """PII discovery: detection rules from classifications/ run where the data lives."""


@command.command("scan")
@click.option(
    "--dataset", "datasets", multiple=True, metavar="NAME", help="Dataset to scan (repeatable; default all)."
)
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=None,
    help="Rows sampled per dataset (0: every row; default pii.sample_size, 10000).",
)
@click.option(
    "--suggest",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the missing assignments as a classifications YAML file for review.",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "sql", "spark"]),
    default=None,
    help="Engine for the datasets it can reach (default: where each dataset lives).",
)
@click.option(
    "--seed", type=int, default=None, help="Seed of the reproducible sample (default pii.seed, 42)."
)
@pass_app
@writes_state
def scan_command(
    app: App,
    datasets: tuple[str, ...],
    sample: int | None,
    suggest: str | None,
    engine: str | None,
    seed: int | None,
) -> int:
    """Report undeclared, confirmed and not-detected PII columns (exit 1: undeclared PII in silver/gold)."""
    from governance.pii.service import scan

    result = scan(app.project(), list(datasets) or None, sample, suggest, engine=engine, seed=seed)
    emit(app.output, result.payload, result.text)
    return result.exit_code
