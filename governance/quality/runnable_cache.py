"""What `validate` learnt by compiling each expectation (quality/validate.runnable), kept across runs.

Compiling every expectation for its engine is the most expensive cross-file check (~0.3 s of CPU for the
demo's 101 expectations, every nightly). Its answer depends only on what goes in: the expectation's type
and kwargs, the dataset's column names and types, its key, the engine and SQL dialect, and the code that
compiles it. The answer is kept in `state_dir/cache/runnable.json` under a hash of exactly those inputs,
the code included (the size and mtime of each module under governance/quality/expectations and
governance/lake/dialects.py, and the sqlglot release), so an edited expectation, another schema or another
release is compiled again. Like the YAML cache it is written only into a state dir that exists.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1
_LIMIT = 20_000  # entries kept; beyond that the file starts again (old schemas, deleted suites)


@cache
def _code() -> str:
    import sqlglot

    here = Path(__file__).resolve().parent
    files = sorted((here / "expectations").glob("*.py")) + [here.parent / "lake" / "dialects.py"]
    stats = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        stats.append([f.name, st.st_size, st.st_mtime_ns])
    return json.dumps([FORMAT, sqlglot.__version__, stats])


def key(*inputs: Any) -> str:
    """The hash of the inputs of one compilation (and of the code that compiles)."""
    text = json.dumps([_code(), *inputs], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class RunnableCache:
    """key -> None (it compiles) or [message, kwarg the message names or None]."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[Any] | None] = {}
        self.changed = False
        if path is None:
            return
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if (
            isinstance(stored, dict)
            and stored.get("format") == FORMAT
            and isinstance(stored.get("entries"), dict)
        ):
            self.entries = stored["entries"]

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> RunnableCache:
        return cls(state_dir / "cache" / "runnable.json" if state_dir.is_dir() else None)

    def get(self, k: str) -> tuple[bool, list[Any] | None]:
        """(known, answer)."""
        if k not in self.entries:
            return False, None
        return True, self.entries[k]

    def put(self, k: str, answer: list[Any] | None) -> None:
        if self.path is None:
            return
        if len(self.entries) >= _LIMIT:
            self.entries = {}
        self.entries[k] = answer
        self.changed = True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix="runnable", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"format": FORMAT, "entries": self.entries}, fh)
            os.replace(tmp, self.path)
        except OSError as exc:  # not keeping it only costs time next run
            log.debug("runnable cache not written (%s)", type(exc).__name__)
