"""What `validate` learnt by compiling each expectation (quality/validate.runnable), kept across runs.

Compiling every expectation for its engine is the most expensive cross-file check (~0.3 s of CPU for the
demo's 101 expectations, every nightly). Its answer depends only on what goes in: the expectation's type
and kwargs, the dataset's column names and types, its key, the engine and SQL dialect, and the code that
compiles it. The answer is kept in `state_dir/cache/runnable.json` under a hash of exactly those inputs,
the code included (the size and mtime of each module under governance/quality/expectations and
governance/lake/dialects.py, and the sqlglot release), so an edited expectation, another schema or another
release is compiled again.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from governance.statecache import StateCache

FORMAT = "runnable/1"


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
    return json.dumps([sqlglot.__version__, stats])


def key(*inputs: Any) -> str:
    """The hash of the inputs of one compilation (and of the code that compiles)."""
    text = json.dumps([_code(), *inputs], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class RunnableCache(StateCache):
    """key -> None (it compiles) or [message, the kwarg the message names or None]."""

    def __init__(self, state_dir: Path | None) -> None:
        super().__init__(state_dir, "runnable", FORMAT)

    def get(self, k: str) -> tuple[bool, list[Any] | None]:
        """(known, answer)."""
        if k not in self.entries:
            return False, None
        return True, self.entries[k]
