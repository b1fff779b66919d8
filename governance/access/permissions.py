"""Does a role definition's permission list allow an action? Azure's rules: `*` matches any characters,
matching is case-insensitive, and each permission block grants its (data)actions minus its not(data)actions."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE)


def matches(pattern: str, action: str) -> bool:
    return bool(_regex(pattern).fullmatch(action))


def allows(permissions: list[dict[str, Any]], action: str, data: bool) -> bool:
    """Whether any permission block grants `action` (a data action when `data`) and does not exclude it."""
    key, not_key = ("dataActions", "notDataActions") if data else ("actions", "notActions")
    for perm in permissions or []:
        granted = any(matches(p, action) for p in perm.get(key) or [])
        if granted and not any(matches(p, action) for p in perm.get(not_key) or []):
            return True
    return False
