"""`smartflow-gov contract export | import | test`: Open Data Contract Standard v3.1.0 documents."""

from __future__ import annotations

from pathlib import Path

import click

from governance.cli import App, pass_app
from governance.output import emit


@click.group("contract")
def command() -> None:
    """Data contracts (ODCS v3.1.0): export the project's promises, import and test others' contracts."""


@command.command("export")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="NAME",
    help="Dataset to export (repeatable; default all).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for DATASET.odcs.yaml.",
)
@pass_app
def export_command(app: App, datasets: tuple[str, ...], out: Path) -> int:
    """Write one DIR/<dataset>.odcs.yaml per dataset, valid against the ODCS JSON Schema."""
    from governance.contracts.export import export
    from governance.errors import InputError

    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    payload = export(app.project(), list(datasets) or None, out)
    emit(app.output, payload, lambda: "\n".join(f"wrote {c['file']}" for c in payload["contracts"]))
    return 0


@command.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--plan", "mode", flag_value="plan", default=True, help="Print the diff (default).")
@click.option("--write", "mode", flag_value="write", help="Write the project files.")
@click.option(
    "--dataset", default=None, metavar="NAME", help="Dataset the contract describes (default: from it)."
)
@pass_app
def import_command(app: App, files: tuple[Path, ...], mode: str, dataset: str | None) -> int:
    """The suite, classifications, glossary links and freshness a contract implies (plan or write)."""
    from governance.contracts.importer import run_import

    result = run_import(app.project(), list(files), dataset, mode == "write")
    emit(app.output, result.payload, result.text)
    return result.exit_code


@command.command("test")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--dataset", default=None, metavar="NAME", help="Dataset to test (default: the contract's server)."
)
@pass_app
def test_command(app: App, files: tuple[Path, ...], dataset: str | None) -> int:
    """Run contracts' schema and quality checks on their data (exit 1: an error-severity check failed)."""
    from governance.contracts.testing import run_tests

    result = run_tests(app.project(), list(files), dataset)
    emit(app.output, result.payload, result.text)
    return result.exit_code
