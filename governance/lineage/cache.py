"""A cache of SQL column lineage, so an unchanged nightly does no sqlglot work.

The key of one analysis is everything its answer depends on: the SQL text, the default target, the known
schemas of every dataset ({dataset: {column: type}}, read from the Delta logs and declarations), the
sqlglot version and this module's format version. A change to any of them is a miss, so a cached answer
is always the one a fresh analysis would give. Entries are JSON files under
`state_dir/lineage/cache/`; entries no build used are removed after the build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from governance.lineage.sql import ColumnEdge, SqlLineage, SqlProblem, analyze, mapping_schema

log = logging.getLogger(__name__)

FORMAT = 1


class LineageCache:
    def __init__(self, folder: Path, columns: dict[str, dict[str, str]]) -> None:
        import sqlglot

        self.folder = folder
        self.columns = columns
        self._schema_key = hashlib.sha256(
            json.dumps([FORMAT, sqlglot.__version__, columns], sort_keys=True).encode()
        ).hexdigest()
        self._prepared: Any = None
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0

    def key(self, sql: str, default_target: str | None) -> str:
        text = json.dumps([self._schema_key, default_target, sql])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def analyze(self, sql: str, default_target: str | None) -> SqlLineage:
        key = self.key(sql, default_target)
        self.used.add(key)
        path = self.folder / f"{key}.json"
        cached = _load(path)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        if self._prepared is None:  # building sqlglot's schema is costly: only on a miss
            self._prepared = mapping_schema(self.columns)
        result = analyze(sql, self.columns, default_target, prepared=self._prepared)
        _store(path, result)
        return result

    def forget_unused(self) -> None:
        if not self.folder.is_dir():
            return
        for entry in self.folder.glob("*.json"):
            if entry.stem not in self.used:
                entry.unlink(missing_ok=True)


def _load(path: Path) -> SqlLineage | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SqlLineage(
            targets=list(data["targets"]),
            inputs=list(data["inputs"]),
            outputs={k: list(v) for k, v in data["outputs"].items()},
            edges=[ColumnEdge(**e) for e in data["edges"]],
            row_count_columns={k: list(v) for k, v in data["row_count_columns"].items()},
            problems=[SqlProblem(**p) for p in data["problems"]],
            statement=data["statement"],
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged entry is a miss, not an error
        log.debug("lineage cache entry %s unreadable (%s); analysing again", path.name, type(exc).__name__)
        return None


def _store(path: Path, result: SqlLineage) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(result), fh)
        os.replace(tmp, path)
    except OSError as exc:  # a cache that cannot be written only costs time
        log.debug("lineage cache not written (%s)", type(exc).__name__)
