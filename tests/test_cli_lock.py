"""SPEC §6.1: every command that writes state holds the project lock; a second one waits up to --wait and
then exits 3 naming the holder. Two real processes: the holder is a real `quality run`, paused with
SIGSTOP once it holds the lock, so the test never depends on timing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import run_cli

pytestmark = pytest.mark.slow  # external processes, a demo lake

WRITERS = [
    ("quality", "run"),
    ("pii", "scan"),
    ("freshness", "check"),
    ("sync-glossary", "--apply"),
    ("sync-classifications", "--apply"),
    ("alerts", "evaluate", "--no-notify"),
    ("metrics", "emit"),
    ("lineage", "build"),
    ("nightly",),
]


def _start(config: Path, *args: str) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("smartflow-gov")
    return subprocess.Popen(
        [str(exe), "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_holder(lock: Path, pid: int, proc: subprocess.Popen[str]) -> dict[str, object]:
    for _ in range(6000):  # the holder writes its name once it has the lock
        try:
            holder = json.loads(lock.read_text() or "{}")
        except (OSError, ValueError):
            holder = {}
        if holder.get("pid") == pid:
            return holder
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError("the first command never took the lock")


@pytest.fixture(scope="module")
def project(small_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lock") / "project"
    shutil.copytree(small_demo, root)
    return root / "smartflow.yaml"


def test_a_second_writer_exits_3_naming_the_holder_then_waits_for_it(project: Path) -> None:
    lock = project.parent / ".smartflow" / "project.lock"
    holder_proc = _start(project, "quality", "run")
    try:
        holder = _wait_for_holder(lock, holder_proc.pid, holder_proc)
        os.kill(holder_proc.pid, signal.SIGSTOP)  # holds the lock, does nothing
        assert holder["command"] == "smartflow-gov quality run"
        for args in WRITERS:
            proc = run_cli("--config", str(project), *args)
            assert proc.returncode == 3, (args, proc.stderr)
            assert f"pid {holder_proc.pid}" in proc.stderr and "smartflow-gov quality run" in proc.stderr
            assert f"since {holder['since']}" in proc.stderr, proc.stderr
        # readers do not take the lock
        run_cli("--config", str(project), "validate", "--no-data", check=0)
        # --wait: blocks while the holder is paused, runs once it has finished
        waiting = _start(project, "freshness", "check", "--wait", "600", "--as-of", "2026-11-30T06:00:00Z")
        time.sleep(0.5)
        assert waiting.poll() is None, waiting.communicate()
        os.kill(holder_proc.pid, signal.SIGCONT)
        assert holder_proc.wait(timeout=600) in (0, 1)
        out, err = waiting.communicate(timeout=600)
        assert waiting.returncode in (0, 1), err
    finally:
        os.kill(holder_proc.pid, signal.SIGCONT) if holder_proc.poll() is None else None
        holder_proc.kill()
        holder_proc.wait()


def test_a_killed_holder_leaves_no_stale_lock(project: Path) -> None:
    lock = project.parent / ".smartflow" / "project.lock"
    proc = _start(project, "quality", "run")
    _wait_for_holder(lock, proc.pid, proc)
    proc.kill()
    proc.wait()
    run_cli("--config", str(project), "lineage", "build", check=0)


def test_plan_modes_and_reads_do_not_wait_for_the_lock(project: Path) -> None:
    lock = project.parent / ".smartflow" / "project.lock"
    holder_proc = _start(project, "quality", "run")
    try:
        _wait_for_holder(lock, holder_proc.pid, holder_proc)
        os.kill(holder_proc.pid, signal.SIGSTOP)
        for args in (("sync-glossary", "--plan"), ("metrics", "show"), ("catalog", "drift")):
            proc = run_cli("--config", str(project), *args)
            assert proc.returncode != 3, (args, proc.stderr)
    finally:
        os.kill(holder_proc.pid, signal.SIGCONT)
        holder_proc.kill()
        holder_proc.wait()
