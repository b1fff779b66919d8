"""A cache of answers kept between runs: one JSON file under `state_dir/cache/`, tagged with a format.

Each user keys its entries on everything its answer depends on, so a stale entry is never read, only not
found. The file is written only into a state dir that exists: a read-only command on a fresh checkout
creates nothing, and one that creates the state dir may save what it gathered before. A file of another
format, or one that cannot be read, is an empty cache; a failed write only costs time on the next run.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class StateCache:
    def __init__(self, state_dir: Path | None, name: str, tag: str, limit: int = 20_000) -> None:
        self.target = state_dir / "cache" / f"{name}.json" if state_dir is not None else None
        self.path = self.target if state_dir is not None and state_dir.is_dir() else None
        self.tag = tag
        self.limit = limit  # entries kept; beyond that it starts again (old schemas, deleted files)
        self.entries: dict[str, Any] = {}
        self.changed = False
        if self.path is None:
            return
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if (
            isinstance(stored, dict)
            and stored.get("format") == tag
            and isinstance(stored.get("entries"), dict)
        ):
            self.entries = stored["entries"]

    def put(self, key: str, value: Any) -> None:
        if self.target is None:
            return
        if len(self.entries) >= self.limit and key not in self.entries:
            self.entries = {}
        self.entries[key] = value
        self.changed = True

    def save(self) -> None:
        """Write the file when something was put, into the state dir if it exists now."""
        if self.path is None and self.target is not None and self.target.parent.parent.is_dir():
            self.path = self.target
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.stem, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"format": self.tag, "entries": self.entries}, fh)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.debug("%s not written (%s)", self.path.name, type(exc).__name__)
        self.changed = False
