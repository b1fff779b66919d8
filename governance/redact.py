"""Redaction of secrets in text that may be shown: URLs lose their password, query string and (for
webhooks) path; a message is scrubbed of every URL it quotes."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str, keep_path: bool = True) -> str:
    """`scheme://user:***@host:port/path?***` — no password, no query values, optionally no path."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    path = parts.path if keep_path else ("/***" if parts.path not in ("", "/") else parts.path)
    query = "***" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def redact_text(text: str, keep_path: bool = True) -> str:
    """Every URL in `text` redacted (see redact_url)."""
    return _URL.sub(lambda m: redact_url(m.group(0), keep_path), text)
