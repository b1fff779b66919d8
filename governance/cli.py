"""The `smartflow-gov` command line: parse, call one service, render. No logic lives here.

Each file in governance/commands/ contributes one click command or group (its `command` attribute), so
capabilities add their commands without touching this file. Heavy libraries are imported inside the
commands that need them, which keeps `smartflow-gov --help` fast.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from governance import __version__
from governance.errors import ExitCode, GovernanceError, InputError

if TYPE_CHECKING:  # pydantic models load only when a command needs the project
    from governance.project import Project


@dataclass
class App:
    """What every command receives: the global options and the lazily loaded project."""

    config: str
    output: str
    verbose: int
    _project: Project | None = field(default=None, repr=False)

    @property
    def json(self) -> bool:
        return self.output == "json"

    def project(self) -> Project:
        if self._project is None:
            from governance.project import load_project

            self._project = load_project(self.config)
        return self._project


pass_app = click.make_pass_decorator(App)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "--config",
    "config",
    default="smartflow.yaml",
    show_default=True,
    envvar="SMARTFLOW_CONFIG",
    help="Project config; the project root is the folder that holds it.",
)
@click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines (stdout only; progress goes to stderr).",
)
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for queries).")
@click.version_option(__version__, prog_name="smartflow-gov")
@click.pass_context
def cli(ctx: click.Context, config: str, output: str, verbose: int) -> None:
    """Governance and data-quality control plane of the SmartFlow lakehouse.

    Exit codes: 0 success, 1 a check of error severity failed, 2 bad input (nothing changed),
    3 infrastructure fault (engine, catalog or Azure unreachable after retries).
    """
    ctx.obj = App(config=config, output=output, verbose=verbose)
    if verbose:
        import logging

        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(levelname)s %(name)s: %(message)s",
        )


def _register() -> None:
    import governance.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"governance.commands.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps errors to the exit codes of SPEC §3 and never shows a traceback for bad input."""
    try:
        rc = cli.main(args=argv, prog_name="smartflow-gov", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.BAD_INPUT)
    except InputError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing was changed", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except GovernanceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(int(rc or 0))
