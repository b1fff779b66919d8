"""Progress on stderr: a rich progress bar on a terminal, plain lines otherwise (CI, pipes)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any


class Progress:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty() and not quiet
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._started: dict[str, float] = {}

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            from governance.output import stderr_console

            self._bar = RichProgress(
                TextColumn("{task.description:<40}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rows]}"),
                TimeElapsedColumn(),
                console=stderr_console(),
            )
            self._bar.__enter__()
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(typ, exc, tb)

    def start(self, name: str, total: int | None) -> None:
        self._started[name] = time.monotonic()
        if self._bar is not None:
            self._tasks[name] = self._bar.add_task(name, total=total, rows="")

    def advance(self, name: str, rows: int) -> None:
        if self._bar is not None:
            self._bar.update(self._tasks[name], advance=1, rows=f"{rows:,} rows")

    def done(self, name: str, rows: int, partitions: int) -> None:
        seconds = time.monotonic() - self._started.get(name, time.monotonic())
        if self._bar is not None:
            task = self._tasks[name]
            self._bar.update(
                task,
                completed=self._bar.tasks[task].total or 1,
                total=self._bar.tasks[task].total or 1,
                rows=f"{rows:,} rows, {partitions} partitions",
            )
        elif not self.quiet:
            print(
                f"{name}: {rows:,} rows in {partitions} partitions ({seconds:.1f}s)",
                file=sys.stderr,
                flush=True,
            )

    def note(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text)
        elif not self.quiet:
            print(text, file=sys.stderr, flush=True)
