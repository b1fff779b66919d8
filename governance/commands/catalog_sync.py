"""The click command behind `sync-glossary` and `sync-classifications` (one body, two kinds). It lives
with the commands: a capability never imports the CLI layer."""

from __future__ import annotations

import contextlib

import click

from governance.cli import App, pass_app
from governance.commands.locking import holding_lock, wait_option
from governance.errors import ExitCode
from governance.output import emit


def sync_command(name: str, kind: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.option("--plan", "mode", flag_value="plan", default=True, help="Show the changes (default).")
    @click.option("--apply", "mode", flag_value="apply", help="Make the catalog match the files.")
    @click.option("--prune", is_flag=True, help="Also delete managed objects that left the files.")
    @click.option("--force", is_flag=True, help="With --prune: delete terms and types that are still in use.")
    @click.option("--detailed-exitcode", is_flag=True, help="Exit 1 when the plan has changes.")
    @wait_option
    @pass_app
    def command(app: App, mode: str, prune: bool, force: bool, detailed_exitcode: bool, wait: float) -> int:
        from governance.catalog.service import sync

        with holding_lock(app, wait) if mode == "apply" else contextlib.nullcontext():
            result = sync(app.project(), kind, apply=mode == "apply", prune=prune, force=force)
        emit(app.output, result.payload, result.text)
        if mode == "apply":
            req = result.payload["requests"]
            click.echo(f"requests: {req['read']} read, {req['write']} write", err=True)
        if detailed_exitcode and mode == "plan" and result.extra.get("changes"):
            return ExitCode.CHECK_FAILED
        return result.exit_code

    return command
