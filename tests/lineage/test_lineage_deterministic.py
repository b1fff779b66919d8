"""The same project prints the same `lineage build` JSON, whatever Python's string hashing does."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import copy_project, run_cli


def test_lineage_build_json_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    cfg = copy_project(tmp_path)
    outputs = []
    for seed in ("1", "2", "3"):
        proc = run_cli(
            "--config", str(cfg), "--output", "json", "lineage", "build", env={"PYTHONHASHSEED": seed}
        )
        assert proc.returncode in (0, 1), proc.stderr
        doc = json.loads(proc.stdout)
        doc.pop("seconds", None)
        outputs.append(doc)
        for cache in (tmp_path / ".smartflow" / "lineage").rglob("*.json"):
            cache.unlink()  # each run analyses the SQL itself
    assert outputs[0]["column_edges"]
    assert outputs[0] == outputs[1] == outputs[2]
