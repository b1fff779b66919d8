"""Carried PII scans: a dataset whose data did not change since its last completed scan is not scanned again.

A scan's measurements (counts only, never values) depend on the data, the rules that ran, the sample
size, the seed, the candidate cap and the engine. The key is all of these: for a Delta table its URI and
log version (read from the log alone, no data file is opened), a hash of the rules' definitions, and the
settings. Any change is a fresh scan, so a carried scan is exactly the one a fresh scan would give (the
sample is reproducible: same rows, same seed). Findings are always recomputed from the measurements and
today's classification assignments, so an edited assignment takes effect without a scan.

Parquet folders, SQL and Spark tables have no version this tool can read cheaply: they are always scanned.
Stored under `state_dir/pii/scans/<dataset>.json`, written only after a scan that completed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from governance.pii.rules import DetectionRule
from governance.pii.scan import DatasetScan, Evidence
from governance.project import Project

log = logging.getLogger("governance.pii")

FORMAT = 1
_EVIDENCE_FIELDS = (
    "non_null",
    "value_rows",
    "value_distinct",
    "text_rows",
    "text_distinct",
    "candidates_checked",
    "estimated",
    "column_evidence",
)


def data_version(project: Project, dataset: str) -> str | None:
    """`<uri>@<log version>` of a Delta dataset, or None when its version cannot be known cheaply."""
    from governance.lake import resolve

    if project.dataset(dataset).format != "delta":
        return None
    try:
        loc = resolve.locate(project, dataset)
        if not resolve.exists(loc):
            return None
        return f"{loc.uri}@{resolve.delta_table(loc).version()}"
    except Exception as exc:  # unreadable here: the scan itself will report it
        log.debug("no Delta version for %s (%s)", dataset, type(exc).__name__)
        return None


def scan_key(
    version: str, rules: list[DetectionRule], engine: str, sample: int | None, seed: int, cap: int
) -> str:
    defs = [r.rule.model_dump(mode="json") for r in rules]
    text = json.dumps([FORMAT, version, defs, engine, sample or 0, seed, cap], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _path(project: Project, dataset: str) -> Path:
    return project.state_dir / "pii" / "scans" / f"{dataset}.json"


def load(project: Project, dataset: str, key: str, rules: list[DetectionRule]) -> DatasetScan | None:
    try:
        data = json.loads(_path(project, dataset).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("key") != key:
        return None
    by_name = {r.name: r for r in rules}
    try:
        scan = DatasetScan(
            dataset=data["dataset"],
            layer=data["layer"],
            engine=data["engine"],
            sample_size=int(data["sample_size"]),
            columns=dict(data["columns"]),
            skipped_columns=list(data["skipped_columns"]),
            carried_from=data.get("run_id"),
        )
        for e in data["evidence"]:
            ev = Evidence(e["column"], by_name[e["rule"]], int(e["non_null"]))
            for name in _EVIDENCE_FIELDS[1:]:
                setattr(ev, name, e[name])
            scan.evidence.append(ev)
    except (KeyError, TypeError, ValueError):
        return None
    return scan


def store(project: Project, scan: DatasetScan, key: str, run_id: str) -> None:
    """Keep a completed scan's measurements (never after an error)."""
    if scan.error:
        return
    data: dict[str, Any] = {
        "key": key,
        "run_id": run_id,
        "dataset": scan.dataset,
        "layer": scan.layer,
        "engine": scan.engine,
        "sample_size": scan.sample_size,
        "columns": scan.columns,
        "skipped_columns": scan.skipped_columns,
        "evidence": [
            {"column": ev.column, "rule": ev.rule.name} | {n: getattr(ev, n) for n in _EVIDENCE_FIELDS}
            for ev in scan.evidence
        ],
    }
    path = _path(project, scan.dataset)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError as exc:  # not carrying only costs time next run
        log.debug("pii scan of %s not kept (%s)", scan.dataset, type(exc).__name__)
