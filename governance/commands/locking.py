"""`@writes_state`: a command that writes the state dir holds the project lock (SPEC §6.1).

Adds `--wait SECONDS` (default 0): how long to wait for another holder before exiting 3 with its name.
New state-writing commands use the same decorator (or `holding_lock` when only some modes write).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from governance.cli import App

F = TypeVar("F", bound=Callable[..., Any])

wait_option = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for another command holding the project lock (then exit 3 naming it).",
)


@contextmanager
def holding_lock(app: App, wait: float) -> Iterator[None]:
    from governance.lock import project_lock

    ctx = click.get_current_context(silent=True)
    name = f"smartflow-gov {ctx.command_path.split(' ', 1)[-1]}" if ctx else "smartflow-gov"
    project = app.project()
    with project_lock(project.state_dir, name, wait):
        project.keep_parsed()  # the state dir exists now
        yield


def writes_state(fn: F) -> F:
    """Decorate a command body taking `app: App` first (put it under `@pass_app`)."""

    @wait_option
    @functools.wraps(fn)
    def wrapper(app: App, *args: Any, wait: float, **kwargs: Any) -> Any:
        with holding_lock(app, wait):
            return fn(app, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
