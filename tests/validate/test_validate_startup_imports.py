"""`smartflow-gov --help` stays light: building the CLI imports none of the heavy libraries.

Not timed (bench/startup.py prints the figures); this checks the cause of slowness instead: which modules
end up in sys.modules after importing governance.cli, listing every command and subcommand, and
rendering --help, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import REPO

HEAVY = ("great_expectations", "pyspark", "azure", "duckdb", "deltalake", "sqlglot")

PROBE = r"""
import contextlib, io, json, sys
import click
from governance.cli import cli, main

def walk(group, ctx):
    names = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        names.append(name)
        if isinstance(cmd, click.Group):
            sub = click.Context(cmd, info_name=name, parent=ctx)
            names += [f"{name} {n}" for n in walk(cmd, sub)]
            cmd.get_help(sub)
        else:
            cmd.get_help(click.Context(cmd, info_name=name, parent=ctx))
    return names

ctx = click.Context(cli, info_name="smartflow-gov")
commands = walk(cli, ctx)
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["--help"])
    except SystemExit:
        pass
heavy = sys.argv[1].split(",")
loaded = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy})
print(json.dumps({"commands": commands, "heavy": loaded}))
"""


def test_building_the_cli_imports_no_heavy_library() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"validate", "schema", "schema export"} <= set(out["commands"])
    assert out["heavy"] == [], f"imported at start-up: {out['heavy']} (import them inside the function)"


def test_the_probe_would_see_a_heavy_import() -> None:
    """The check is real: the same probe reports a heavy module once something imports it."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sqlglot\n" + PROBE, ",".join(HEAVY)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(proc.stdout)["heavy"] == ["sqlglot"]
