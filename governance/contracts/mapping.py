"""Which dataset a contract describes.

In order: `--dataset NAME`; a `servers` entry whose customProperty `smartflowDataset` names a declared
dataset (what `contract export` writes); a `servers` entry whose `path` (type local/duckdb, relative to the
contract file) or `location` (azure, s3, …) is the location of a declared Delta/Parquet dataset; the
schema object's `physicalName` equal to a declared SQL dataset's table, or its `name` / the contract `name`
equal to a declared dataset name. A contract written for data the project does not declare (a Delta or
Parquet table at a local server path) is still testable: it gets a temporary dataset of its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.config import Dataset
from governance.errors import InputError, Location
from governance.project import Project

DATASET_PROPERTY = "smartflowDataset"


@dataclass(frozen=True)
class Target:
    dataset: str
    declared: bool
    spec: Dataset
    uri: str | None = None  # location of an undeclared table


def _norm(path: str) -> str:
    return path.rstrip("/") if "://" in path else os.path.normpath(path)


def _server_location(server: dict[str, Any], base: Path) -> str | None:
    where = server.get("path") or server.get("location")
    if not isinstance(where, str) or not where:
        return None
    if "://" in where:
        return _norm(where)
    p = Path(where).expanduser()
    return _norm(str(p if p.is_absolute() else base / p))


def _props(item: dict[str, Any]) -> dict[str, Any]:
    return {
        str(p.get("property")): p.get("value")
        for p in item.get("customProperties") or []
        if isinstance(p, dict)
    }


def resolve(project: Project, doc: dict[str, Any], path: Path, dataset: str | None = None) -> Target:
    declared = project.config.datasets
    if dataset:
        return Target(dataset, True, project.dataset(dataset))
    base = path.resolve().parent
    servers = [s for s in doc.get("servers") or [] if isinstance(s, dict)]
    for s in servers:
        named = _props(s).get(DATASET_PROPERTY)
        if isinstance(named, str) and named in declared:
            return Target(named, True, declared[named])
    locations = {
        _norm(f"{project.lake_root}/{(spec.path or '').strip('/')}"): name
        for name, spec in declared.items()
        if spec.format in ("delta", "parquet")
    }
    for s in servers:
        loc = _server_location(s, base)
        if loc and loc in locations:
            name = locations[loc]
            return Target(name, True, declared[name])
    obj = (doc.get("schema") or [{}])[0] or {}
    for name, spec in declared.items():
        if spec.format in ("sql", "spark") and spec.table and obj.get("physicalName") == spec.table:
            return Target(name, True, spec)
    for candidate in (obj.get("name"), doc.get("name")):
        if isinstance(candidate, str) and candidate in declared:
            return Target(candidate, True, declared[candidate])
    for s in servers:
        loc = _server_location(s, base)
        fmt = str(s.get("format") or "delta").lower()
        if loc and "://" not in loc and fmt in ("delta", "parquet") and os.path.exists(loc):
            name = "contract." + "".join(c if c.isalnum() else "_" for c in str(obj.get("name") or "table"))
            spec = Dataset(format=fmt, layer="silver", path=loc)
            return Target(name, False, spec, loc)
    raise InputError(
        "no dataset for this contract: no servers entry names a declared dataset, its location or an "
        "existing local Delta/Parquet table, and no schema name is a declared dataset (use --dataset NAME)",
        Location(str(path), 1),
    )
