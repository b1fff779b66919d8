"""`smartflow-gov schema export DIR`: JSON Schemas of the declarative files, for editors."""

from __future__ import annotations

from pathlib import Path

import click

from governance.cli import App, pass_app
from governance.errors import ExitCode, InputError
from governance.output import emit


@click.group("schema")
def command() -> None:
    """JSON Schemas of the declarative files (for yaml-language-server and other editors)."""


@command.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def export_cmd(app: App, directory: Path) -> int:
    """Write one JSON Schema per file kind into DIRECTORY (created if missing)."""
    from governance.specs.schema_export import KINDS, export

    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    try:
        written = export(directory)
    except OSError as exc:
        raise InputError(f"cannot write schemas to {directory}: {exc.strerror or exc}") from None
    emit(
        app.output,
        {"directory": str(directory), "schemas": {k: str(p) for k, p in zip(KINDS, written, strict=True)}},
        lambda: "\n".join(f"wrote {p}" for p in written),
    )
    return ExitCode.OK
