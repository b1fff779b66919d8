"""Rendering for the CLI: JSON for machines, text for people, progress on stderr only."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console


def to_jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: Any, indent: int | None = 2) -> str:
    return json.dumps(payload, indent=indent, default=to_jsonable, ensure_ascii=False)


def stderr_console() -> Console:
    """Progress and logs go to stderr so stdout stays clean for --output json."""
    return Console(stderr=True, highlight=False, force_terminal=None if sys.stderr.isatty() else False)


def is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or not sys.stderr.isatty()


def emit(output: str, payload: Any, text: str | Callable[[], str]) -> None:
    """Print `payload` as JSON under --output json, otherwise the text rendering."""
    if output == "json":
        sys.stdout.write(dumps(payload) + "\n")
    else:
        sys.stdout.write((text() if callable(text) else text).rstrip("\n") + "\n")
    sys.stdout.flush()
