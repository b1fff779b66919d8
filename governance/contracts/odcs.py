"""ODCS vocabulary shared by export, import and test: ids, types, severities, latency units."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from governance.quality.expectations.base import type_family

API_VERSION = "v3.1.0"
GX_ENGINES = ("greatExpectations", "great-expectations", "great_expectations", "gx")
ENGINE = GX_ENGINES[0]

_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")

# engine type family -> ODCS logicalType (export)
_FAMILY_LOGICAL = {
    "string": "string",
    "int": "integer",
    "float": "number",
    "decimal": "number",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "time": "time",
}
# GX type names (expect_column_values_to_be_in_type_list) per logical type
LOGICAL_GX_TYPES: dict[str, list[str]] = {
    "string": ["VARCHAR"],
    "integer": ["INTEGER"],
    "number": ["INTEGER", "DOUBLE", "DECIMAL"],
    "boolean": ["BOOLEAN"],
    "date": ["DATE"],
    "timestamp": ["TIMESTAMP"],
}


def stable_id(text: str) -> str:
    """An ODCS id (`^[A-Za-z0-9_-]+$`): a dataset name's dots become '-' (dataset names hold no '-')."""
    out = _NOT_ID.sub("-", text.replace(".", "-")).strip("-")
    return out or "x"


def unique_ids(ids: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        n = seen.get(i, 0) + 1
        seen[i] = n
        out.append(i if n == 1 else f"{i}_{n}")
    return out


def logical_type(sql_type: str) -> str | None:
    return _FAMILY_LOGICAL.get(type_family(sql_type))


def severity_out(severity: str) -> str:
    """Our `warn` is spelled `warning` in contracts (the ODCS examples' spelling); `error` stays."""
    return "warning" if severity == "warn" else "error"


def severity_in(severity: Any) -> str:
    """Contract severities onto ours: error/critical/high/fatal fail a run, anything else warns."""
    if severity is None:
        return "error"
    return "error" if str(severity).lower() in ("error", "critical", "high", "fatal", "blocker") else "warn"


# latency units: days, hours, minutes, seconds (ISO symbols and the spellings ODCS lists)
_UNITS = {
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
}


def latency_out(delta: timedelta) -> tuple[int | float, str]:
    """A duration as value + the largest unit (d, h, m, s) that expresses it exactly."""
    seconds = delta.total_seconds()
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds % size == 0:
            return int(seconds // size), unit
    return (int(seconds) if seconds == int(seconds) else seconds), "s"


def latency_in(value: Any, unit: Any) -> timedelta:
    """A latency value + unit back to a duration; an ISO-8601 duration string is accepted as value."""
    from governance.durations import parse_duration

    if isinstance(value, str) and value.upper().startswith("P"):
        return parse_duration(value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"latency value {value!r} is not a number or an ISO-8601 duration")
    size = _UNITS.get(str(unit or "d").lower())
    if size is None:
        raise ValueError(f"unknown latency unit {unit!r} (d, h, m, s)")
    return timedelta(seconds=float(value) * size)


def clean_number(value: float) -> int | float:
    """Round away binary float noise (1 - 0.999 = 0.0010000000000000009) and keep integers integral."""
    r = round(value, 10)
    return int(r) if r == int(r) else r
