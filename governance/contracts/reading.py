"""What a contract says, in the project's terms: rules, labels, critical columns, terms, freshness, key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from governance.contracts import odcs
from governance.contracts.quality_map import Compiled, from_odcs


@dataclass
class Rule:
    """One quality rule of the contract: where it sits, its id for results, and its compiled form."""

    odcs_id: str
    column: str | None
    compiled: Compiled


@dataclass
class Freshness:
    column: str
    max_lag: timedelta
    partition_column: str | None = None
    late_tolerance: timedelta | None = None


@dataclass
class Reading:
    schema_name: str
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> property
    rules: list[Rule] = field(default_factory=list)
    column_labels: dict[str, list[str]] = field(default_factory=dict)
    table_labels: list[str] = field(default_factory=list)
    critical: list[str] = field(default_factory=list)
    terms: list[tuple[str, str]] = field(default_factory=list)  # (term name, dataset or dataset.column)
    key: list[str] = field(default_factory=list)
    owner: str | None = None
    freshness: Freshness | None = None
    custom: dict[str, Any] = field(default_factory=dict)  # the schema object's customProperties
    problems: list[str] = field(default_factory=list)


def _custom(item: dict[str, Any]) -> dict[str, Any]:
    return {
        str(p.get("property")): p.get("value")
        for p in item.get("customProperties") or []
        if isinstance(p, dict)
    }


def _term_names(item: dict[str, Any]) -> list[str]:
    """Glossary terms an element links to: each businessDefinition URL's fragment (the term name), else
    the element's businessName."""
    names = []
    for d in item.get("authoritativeDefinitions") or []:
        if isinstance(d, dict) and d.get("type") == "businessDefinition" and "#" in str(d.get("url", "")):
            names.append(unquote(str(d["url"]).rsplit("#", 1)[1]))
    if not names and isinstance(item.get("businessName"), str):
        names.append(item["businessName"])
    return names


def _labels(prop: dict[str, Any]) -> list[str]:
    many = _custom(prop).get("classifications")
    if isinstance(many, list) and many:
        return [str(x) for x in many]
    c = prop.get("classification")
    return [str(c)] if c else []


def read(doc: dict[str, Any], dataset: str) -> Reading:
    """The first schema object of `doc` read for `dataset` (a contract describes one table here)."""
    objs = [o for o in doc.get("schema") or [] if isinstance(o, dict)]
    obj = objs[0] if objs else {}
    out = Reading(schema_name=str(obj.get("name") or dataset))
    if len(objs) > 1:
        out.problems.append(
            f"only the first schema object ({out.schema_name}) is read; {len(objs) - 1} more ignored"
        )
    out.custom = _custom(obj)
    table_labels = out.custom.get("classifications")
    out.table_labels = [str(x) for x in table_labels] if isinstance(table_labels, list) else []
    out.terms += [(t, dataset) for t in _term_names(obj)]
    seen_ids: dict[str, int] = {}

    def add_rules(rules: Any, column: str | None, where: str) -> None:
        for i, rule in enumerate(rules or []):
            if not isinstance(rule, dict):
                continue
            rid = str(rule.get("id") or rule.get("name") or f"{where}.quality.{i}")
            n = seen_ids.get(rid, 0) + 1
            seen_ids[rid] = n
            out.rules.append(Rule(rid if n == 1 else f"{rid}#{n}", column, from_odcs(rule, column)))

    keyed: list[tuple[int, str]] = []
    for prop in obj.get("properties") or []:
        if not isinstance(prop, dict) or not prop.get("name"):
            continue
        name = str(prop["name"])
        out.columns[name] = prop
        labels = _labels(prop)
        if labels:
            out.column_labels[name] = labels
        if prop.get("criticalDataElement") is True:
            out.critical.append(name)
        if prop.get("primaryKey") is True:
            position = int(prop.get("primaryKeyPosition") or 0)  # -1 / absent: after the numbered ones
            keyed.append((position if position > 0 else 10**6 + len(keyed), name))
        out.terms += [(t, f"{dataset}.{name}") for t in _term_names(prop)]
        add_rules(prop.get("quality"), name, name)
    add_rules(obj.get("quality"), None, out.schema_name)
    out.key = [n for _, n in sorted(keyed)]
    for m in (doc.get("team") or {}).get("members") or []:
        if isinstance(m, dict) and str(m.get("role", "")).lower() == "owner" and m.get("username"):
            out.owner = str(m["username"])
            break
    out.freshness = _freshness(doc, out)
    return out


def _element_column(element: Any) -> str | None:
    if not isinstance(element, str) or not element:
        return None
    return element.split(",")[0].strip().rsplit(".", 1)[-1]


def _freshness(doc: dict[str, Any], out: Reading) -> Freshness | None:
    sla = [p for p in doc.get("slaProperties") or [] if isinstance(p, dict)]
    latency = next((p for p in sla if str(p.get("property", "")).lower() == "latency"), None)
    if latency is None:
        return None
    column = _element_column(latency.get("element") or doc.get("slaDefaultElement"))
    if column is None:
        out.problems.append("slaProperties latency has no element (table.column): freshness not read")
        return None
    try:
        fresh = Freshness(column, odcs.latency_in(latency.get("value"), latency.get("unit")))
        late = next((p for p in sla if p.get("property") == "lateArrivalTolerance"), None)
        if late is not None:
            fresh.partition_column = _element_column(late.get("element"))
            if late.get("value") is not None:
                fresh.late_tolerance = odcs.latency_in(late["value"], late.get("unit"))
    except ValueError as exc:
        out.problems.append(f"slaProperties: {exc}")
        return None
    return fresh
