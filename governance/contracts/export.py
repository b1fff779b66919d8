"""`contract export`: one ODCS v3.1.0 contract per dataset, from what the project already declares.

- schema: the declared `columns:` (else the table's own schema, read through the engine where it lives),
  key columns as `primaryKey`, partition columns as `partitioned`;
- `classification`: one string per column, the most sensitive of its labels (label `sensitivity`, then
  name); all labels stay in the property's customProperty `classifications` when there are several;
- `criticalDataElement`: key columns, PII columns and the columns an assignment lists under `critical:`;
- business names and `authoritativeDefinitions` from glossary terms assigned to the dataset or column
  (URL: the glossary file relative to the contract file, `#` the term name);
- `quality` from the dataset's suites (see quality_map), `required` / `unique` from their unconditional
  error-severity not-null / unique expectations;
- `slaProperties` from freshness (`latency` in the largest exact unit: d, h, m, s);
- `team` from the dataset owner and the stewards and experts of its terms.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from governance.contracts import odcs
from governance.contracts.mapping import DATASET_PROPERTY
from governance.contracts.quality_map import NOT_NULL, UNIQUE, to_odcs
from governance.durations import parse_duration
from governance.errors import InfraError
from governance.project import Project
from governance.specs.glossary import Term


def file_name(dataset: str) -> str:
    return f"{dataset}.odcs.yaml"


def _table_columns(project: Project, name: str) -> dict[str, str]:
    """The table's own schema (engine type names) when nothing is declared; {} when it is not there."""
    from governance.lake.engines import open_engine

    kind = "sql" if project.dataset(name).format == "sql" else "duckdb"
    try:
        eng = open_engine(project, kind, [name])
    except InfraError:
        return {}
    try:
        return {c: t.upper() for c, t in eng.columns(name).items()}
    finally:
        eng.close()


def _terms(project: Project, target: str) -> list[tuple[Term, str]]:
    """(term, glossary file) of every term assigned to `target` (a dataset or dataset.column)."""
    return [(t, t.where.file) for t in project.terms if target in t.assigned_to]


def _definitions(project: Project, terms: list[tuple[Term, str]], out_dir: Path) -> list[dict[str, Any]]:
    out = []
    for term, file in terms:
        rel = os.path.relpath(project.root / file, out_dir).replace(os.sep, "/")
        out.append(
            {"type": "businessDefinition", "url": f"{rel}#{quote(term.name)}", "description": term.name}
        )
    return out


def _label_order(project: Project) -> dict[str, tuple[int, str]]:
    return {lb.name: (-(lb.sensitivity or 0), lb.name) for lb in project.labels}


def classification(labels: list[str], order: dict[str, tuple[int, str]]) -> str:
    """The one label a contract shows: the most sensitive (highest `sensitivity`, then name)."""
    return sorted(labels, key=lambda lb: order.get(lb, (0, lb)))[0]


def _server(project: Project, name: str, out_dir: Path) -> dict[str, Any]:
    ds = project.dataset(name)
    custom = [{"property": DATASET_PROPERTY, "value": name}]
    if ds.format in ("delta", "parquet"):
        uri = f"{project.lake_root}/{(ds.path or '').strip('/')}"
        if "://" in uri:
            return {
                "server": "lake",
                "type": "azure",
                "location": uri,
                "format": ds.format,
                "customProperties": custom,
            }
        rel = os.path.relpath(uri, out_dir).replace(os.sep, "/")
        return {
            "server": "lake",
            "type": "local",
            "path": rel,
            "format": ds.format,
            "customProperties": custom,
        }
    if ds.format == "sql":
        server = {"server": ds.connection or "warehouse", "type": "custom", "dataset": ds.table or name}
        return {**server, "customProperties": custom}
    return {"server": "spark", "type": "databricks", "customProperties": custom}


def _unconditional(expectations: list[dict[str, Any]], type_: str) -> set[str]:
    return {
        e["kwargs"]["column"]
        for e in expectations
        if e["type"] == type_
        and set(e["kwargs"]) == {"column"}
        and e.get("severity", "error") == "error"
        and isinstance(e["kwargs"].get("column"), str)
    }


def contract(project: Project, name: str, out_dir: Path) -> dict[str, Any]:
    """The ODCS document of dataset `name`, written to `out_dir` (relative paths are from there)."""
    ds = project.dataset(name)
    declared = bool(ds.columns)
    columns = dict(ds.columns) if declared else _table_columns(project, name)
    suites = project.suites_for(name)
    expectations = [
        e.model_dump(exclude_defaults=False, include={"type", "kwargs", "severity", "notes", "meta"})
        for s in suites
        for e in s.expectations
    ]
    labels = project.column_labels()
    order = _label_order(project)
    table_labels = sorted({lb for a in project.assignments if a.dataset == name for lb in a.table})
    critical = {c for a in project.assignments if a.dataset == name for c in a.critical}
    pii = project.pii_columns(name)
    required = _unconditional(expectations, NOT_NULL)
    unique = _unconditional(expectations, UNIQUE)

    ids = odcs.unique_ids([_rule_id(e) for e in expectations])
    placed: dict[str | None, list[dict[str, Any]]] = {}
    for e, rid in zip(expectations, ids, strict=True):
        column, rule = to_odcs(e, rid, set(columns))
        placed.setdefault(column, []).append(rule)

    props = []
    for col, sql_type in columns.items():
        p: dict[str, Any] = {"id": odcs.stable_id(col), "name": col, "physicalType": sql_type}
        logical = odcs.logical_type(sql_type)
        if logical:
            p["logicalType"] = logical
        if col in ds.key:
            p["primaryKey"] = True
            p["primaryKeyPosition"] = ds.key.index(col) + 1
        if col in ds.partitioning:
            p["partitioned"] = True
            p["partitionKeyPosition"] = ds.partitioning.index(col) + 1
        if col in required:
            p["required"] = True
        if col in unique:
            p["unique"] = True
        col_labels = sorted(labels.get((name, col), set()))
        if col_labels:
            p["classification"] = classification(col_labels, order)
            if len(col_labels) > 1:
                p["customProperties"] = [{"property": "classifications", "value": col_labels}]
        p["criticalDataElement"] = col in ds.key or col in pii or col in critical
        terms = _terms(project, f"{name}.{col}")
        if terms:
            p["businessName"] = terms[0][0].name
            p["description"] = terms[0][0].definition.strip()
            p["authoritativeDefinitions"] = _definitions(project, terms, out_dir)
        if placed.get(col):
            p["quality"] = placed[col]
        props.append(p)

    obj: dict[str, Any] = {"id": odcs.stable_id(name), "name": name, "physicalType": "table"}
    obj["physicalName"] = ds.table if ds.format in ("sql", "spark") else (ds.path or name)
    if ds.description:
        obj["description"] = ds.description.strip()
    ds_terms = _terms(project, name)
    if ds_terms:
        obj["businessName"] = ds_terms[0][0].name
        obj["authoritativeDefinitions"] = _definitions(project, ds_terms, out_dir)
    custom: list[dict[str, Any]] = []
    if table_labels:
        custom.append({"property": "classifications", "value": table_labels})
    if suites:
        custom.append({"property": "suite", "value": suites[0].suite})
        if suites[0].description:
            custom.append({"property": "suiteDescription", "value": suites[0].description})
        if suites[0].incremental:
            custom.append({"property": "incrementalPartition", "value": suites[0].incremental.partition})
    if not declared:
        custom.append({"property": "columnsFrom", "value": "table"})
    if custom:
        obj["customProperties"] = custom
    obj["properties"] = props
    if placed.get(None):
        obj["quality"] = placed[None]

    doc: dict[str, Any] = {
        "apiVersion": odcs.API_VERSION,
        "kind": "DataContract",
        "id": odcs.stable_id(name),
        "name": name,
        "version": "1.0.0",
        "status": "active",
        "domain": ds.layer,
    }
    if ds.description:
        doc["description"] = {"purpose": ds.description.strip()}
    doc["servers"] = [_server(project, name, out_dir)]
    doc["schema"] = [obj]
    if ds.freshness:
        doc["slaProperties"] = _sla(name, ds.freshness)
    team = _team(
        ds.owner, [t for t, _ in ds_terms] + [t for c in columns for t, _ in _terms(project, f"{name}.{c}")]
    )
    if team:
        doc["team"] = team
    return doc


def _rule_id(e: dict[str, Any]) -> str:
    short = e["type"].removeprefix("expect_").replace("column_values_to_", "").replace("column_", "")
    kw = e.get("kwargs") or {}
    subject = kw.get("column") or kw.get("column_A") or "_".join(kw.get("column_list") or [])
    return odcs.stable_id(f"{subject}_{short}" if subject else short)


def _sla(name: str, f: Any) -> list[dict[str, Any]]:
    value, unit = odcs.latency_out(parse_duration(f.max_lag))
    out: list[dict[str, Any]] = [
        {"property": "latency", "value": value, "unit": unit, "element": f"{name}.{f.column}"}
    ]
    if f.partition_column or f.late_tolerance:
        late: dict[str, Any] = {"property": "lateArrivalTolerance", "value": None}
        if f.late_tolerance:
            late["value"], late["unit"] = odcs.latency_out(parse_duration(f.late_tolerance))
        if f.partition_column:
            late["element"] = f"{name}.{f.partition_column}"
        out.append(late)
    return out


def _team(owner: str | None, terms: list[Term]) -> dict[str, Any] | None:
    members: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(user: str, role: str) -> None:
        if (user, role) not in seen:
            seen.add((user, role))
            members.append({"username": user, "role": role})

    if owner:
        add(owner, "owner")
    for t in terms:
        for s in t.stewards:
            add(s, "steward")
    for t in terms:
        for x in t.experts:
            add(x, "expert")
    return {"name": owner or "unowned", "members": members} if members else None


def export(project: Project, datasets: list[str] | None, out: Path) -> dict[str, Any]:
    """Write one contract per dataset into `out`; returns {"contracts": [{dataset, file}]}."""
    from governance.contracts.yamlout import dump

    names = datasets or sorted(project.config.datasets)
    for n in names:
        project.dataset(n)  # unknown → InputError before anything is written
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n in names:
        path = out / file_name(n)
        path.write_text(dump(contract(project, n, out.resolve())))
        written.append({"dataset": n, "file": str(path)})
    return {"contracts": written}
