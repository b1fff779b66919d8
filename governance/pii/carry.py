"""Carried and extended PII scans: a scan costs what changed in a Delta table since its last completed scan.

A scan's measurements (counts only, never values) depend on the data, the rules that ran, the sample
size, the seed, the candidate cap and the engine. The stored state of a dataset is keyed by all of these
but the data (a hash of the table's URI, the rules' definitions and the settings) and records the Delta
log version it measured, read from the log alone (no data file is opened):

- same key, same version: the measurements are carried (the sample is reproducible: same rows, same
  seed), exactly what a fresh scan would give;
- same key, a later version whose commits in between hold only `add` actions (appends: no `remove`, no
  `metaData` or `protocol` change, no deletion vector): the scan is extended by the added files only
  (`scan.scan_dataset` with a `Prior`). When the stored scan read every row this equals a fresh scan;
  when it measured a sample, the added rows are sampled at the same rate (a stratified sample, see
  `scan._extend_sample`) until the sample has doubled;
- anything else (an overwrite, a delete, OPTIMIZE, a schema change, other rules or settings, a log
  whose commits are gone, a remote table): a fresh scan.

Findings are always recomputed from the measurements and today's classification assignments, so an
edited assignment takes effect without a scan. Parquet folders, SQL and Spark tables have no version
this tool can read cheaply: they are always scanned. Stored under `state_dir/pii/scans/<dataset>.json`,
written only after a scan that completed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.lake.delta_log import appended_files as appended_files  # the rule, shared
from governance.pii.rules import DetectionRule
from governance.pii.scan import DatasetScan, Evidence
from governance.project import Project

log = logging.getLogger("governance.pii")

FORMAT = 3  # 3: a sample of a Delta table is drawn from a seeded subset of its files
_EVIDENCE_FIELDS = (
    "non_null",
    "value_rows",
    "value_distinct",
    "text_rows",
    "text_distinct",
    "candidates_checked",
    "value_matches",
    "text_matches",
    "estimated",
    "column_evidence",
)


@dataclass(frozen=True)
class DataVersion:
    uri: str
    version: int


@dataclass
class Stored:
    """The last completed scan of a dataset with the same rules and settings."""

    scan: DatasetScan
    run_id: str
    version: int
    complete: bool  # it read every row of that version


def data_version(project: Project, dataset: str) -> DataVersion | None:
    """The URI and log version of a Delta dataset, or None when its version cannot be known cheaply."""
    from governance.lake import resolve

    if project.dataset(dataset).format != "delta":
        return None
    try:
        loc = resolve.locate(project, dataset)
        if not resolve.exists(loc):
            return None
        return DataVersion(loc.uri or "", resolve.delta_version(loc))
    except Exception as exc:  # unreadable here: the scan itself will report it
        log.debug("no Delta version for %s (%s)", dataset, type(exc).__name__)
        return None


def scan_key(
    uri: str, rules: list[DetectionRule], engine: str, sample: int | None, seed: int, cap: int
) -> str:
    defs = [r.rule.model_dump(mode="json") for r in rules]
    text = json.dumps([FORMAT, uri, defs, engine, sample or 0, seed, cap], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _path(project: Project, dataset: str) -> Path:
    return project.state_dir / "pii" / "scans" / f"{dataset}.json"


def load(project: Project, dataset: str, key: str, rules: list[DetectionRule]) -> Stored | None:
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
            sampled_from=data.get("sampled_from"),
        )
        for e in data["evidence"]:
            ev = Evidence(e["column"], by_name[e["rule"]], int(e["non_null"]))
            for name in _EVIDENCE_FIELDS[1:]:
                setattr(ev, name, e[name])
            scan.evidence.append(ev)
        return Stored(scan, str(data["run_id"]), int(data["version"]), bool(data["complete"]))
    except (KeyError, TypeError, ValueError):
        return None


def store(project: Project, scan: DatasetScan, key: str, run_id: str, version: int, complete: bool) -> None:
    """Keep a completed scan's measurements (never after an error)."""
    if scan.error:
        return
    data: dict[str, Any] = {
        "key": key,
        "run_id": run_id,
        "version": version,
        "complete": complete,
        "dataset": scan.dataset,
        "layer": scan.layer,
        "engine": scan.engine,
        "sample_size": scan.sample_size,
        "columns": scan.columns,
        "skipped_columns": scan.skipped_columns,
        "sampled_from": scan.sampled_from,
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
