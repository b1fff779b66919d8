"""The run store: each nightly run's summary (with its step payloads) under state_dir/runs/.

`runs/<run_id>.json` and `runs/latest.json` (atomic writes) and `runs/history.jsonl` (one brief line per
run). Written by the nightly job, read by reports; neither imports the other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def runs_dir(state_dir: Path) -> Path:
    return state_dir / "runs"


def store_run(state_dir: Path, summary: dict[str, Any]) -> Path:
    """runs/<run_id>.json (summary + step payloads) and runs/latest.json; atomic writes. Written compact:
    indented JSON is encoded by the json module's pure-Python encoder, ~0.15 s per half-megabyte run."""
    from governance.lock import write_atomic
    from governance.output import dumps

    d = runs_dir(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    text = dumps(summary, indent=None)
    path = d / f"{summary['run_id']}.json"
    for target in (path, d / "latest.json"):
        write_atomic(target, text)
    return path


def append_history(state_dir: Path, summary: dict[str, Any]) -> None:
    from governance.output import dumps

    brief = {k: v for k, v in summary.items() if k != "results"}
    with (runs_dir(state_dir) / "history.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(dumps(brief, indent=None) + "\n")


def latest_run(state_dir: Path) -> dict[str, Any] | None:
    path = runs_dir(state_dir) / "latest.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def run_history(state_dir: Path, limit: int = 60) -> list[dict[str, Any]]:
    path = runs_dir(state_dir) / "history.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[-limit:]
    return [json.loads(line) for line in lines if line.strip()]
