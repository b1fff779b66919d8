"""ISO-8601 durations (PT2H, P1D, PT15M) used by SLAs and alert windows."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
# the same pattern for JSON Schema (ECMA-262: no Python named groups)
DURATION_PATTERN = re.sub(r"\(\?P<\w+>", "(", _DURATION.pattern)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO-8601 duration without years or months (they have no fixed length).

    Raises ValueError with a message fit for a FILE:LINE report.
    """
    m = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"'{text}' is not an ISO-8601 duration such as PT15M, PT2H or P1D")
    parts = {k: float(v) for k, v in m.groupdict().items() if v is not None}
    return timedelta(**parts)


def format_duration(delta: timedelta) -> str:
    """The shortest ISO-8601 form of a whole-second timedelta (PT1H, P1D, PT1H30M)."""
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    time = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{seconds}S" if seconds else "")
    )
    if time:
        out += "T" + time
    return out if out != "P" else "PT0S"
