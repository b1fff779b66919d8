"""What a local Delta table's JSON commits say about the change between two versions.

The rule for "the commits after version X up to Y only appended": every action of those commits is an
`add`, a `commitInfo` or a `txn` (no `remove`, no `metaData` or `protocol` change, no CDC file), and no
`add` carries a deletion vector or says `dataChange: false` (a compaction rewrites rows it already had).
Such a table at Y holds exactly the rows it held at X plus the rows of the added files. Used by PII
scans (`governance.pii.carry`) and by whole-table quality checks (`governance.quality.appended`) to
read only what was added.
"""

from __future__ import annotations

import json
import os

# log actions an append may hold besides `add`
APPEND_ACTIONS = {"add", "commitInfo", "txn"}


def appended_files(uri: str, since: int, until: int) -> list[str] | None:
    """The data files (paths as the log spells them) that the commits after `since` up to `until` added,
    when those commits only appended; None for anything else, or when the commits cannot be read here
    (a remote table, commit files cleaned up after a checkpoint)."""
    if "://" in uri or until < since:
        return None
    added: list[str] = []
    for version in range(since + 1, until + 1):
        try:
            with open(os.path.join(uri, "_delta_log", f"{version:020d}.json"), encoding="utf-8") as fh:
                actions = [json.loads(line) for line in fh if line.strip()]
        except (OSError, ValueError):
            return None
        for action in actions:
            if not set(action) <= APPEND_ACTIONS:
                return None
            add = action.get("add")
            if add is not None:
                if add.get("deletionVector") or not add.get("dataChange", True):
                    return None
                added.append(str(add["path"]))
    return added
