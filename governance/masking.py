"""Masking of sensitive values: what may appear in samples, reports and logs instead of a PII value.

The masked form keeps only the shape (letters → x, digits → 9, other characters kept) and never more
than 24 characters, so a steward can tell "an e-mail" from "a phone number" without seeing either.
"""

from __future__ import annotations

from typing import Any

MASK_MAX = 24


def mask(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    shape = "".join("x" if ch.isalpha() else "9" if ch.isdigit() else ch for ch in text[:MASK_MAX])
    return shape + ("…" if len(text) > MASK_MAX else "")


def mask_all(values: list[Any]) -> list[str | None]:
    return [mask(v) for v in values]
