"""The project lock (SPEC §6.1): one command at a time writes the state dir.

An advisory `flock` on `<state_dir>/project.lock`: the kernel releases it when the holder exits, however
it exits, so a crash never leaves a stale lock. The holder writes who it is (pid, host, command, since)
into the file, so a command that gives up can name it. Also atomic file writes with unique temporary
names, so two writers of one file never share a `.tmp`.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from governance.errors import InfraError

POLL_SECONDS = 0.1


def lock_file(state_dir: Path) -> Path:
    return state_dir / "project.lock"


@contextmanager
def project_lock(state_dir: Path, command: str, wait: float = 0) -> Iterator[None]:
    """Hold the project lock for the duration; wait up to `wait` seconds for another holder, then raise
    InfraError (exit 3) naming it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = lock_file(state_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise InfraError(_held_by(path, wait)) from None
                time.sleep(POLL_SECONDS)
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "since": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _held_by(path: Path, wait: float) -> str:
    holder: dict[str, object] = {}
    for _ in range(10):  # the holder writes its name just after taking the lock
        try:
            holder = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            holder = {}
        if holder:
            break
        time.sleep(0.05)
    who = (
        f"pid {holder.get('pid')} on {holder.get('host')} running `{holder.get('command')}` "
        f"since {holder.get('since')}"
        if holder
        else "another process"
    )
    waited = f" after waiting {wait:g}s" if wait else ""
    return f"the project lock {path} is held by {who}{waited}; retry later or pass --wait SECONDS"


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (a uniquely named temporary file in the same folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
