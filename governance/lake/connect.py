"""The one place SQL connections are opened, and the redaction of URLs in anything said about them.

Every SQLAlchemy engine of the tool comes from `sql_engine` (quality, PII, freshness, access, the local
catalog, the GX reader). A connection URL carries a password and sometimes tokens in its query string
(SPEC §6.2): a bad URL is reported with the URL redacted, the engine hides statement parameters from
its errors and logs, and `redact` cleans any message that might quote a URL before it is raised.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from governance.errors import InputError, Location

if TYPE_CHECKING:
    import sqlalchemy as sa

# scheme://user:password@ → scheme://user:***@ ; ?query → ?*** (in any text)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^/:@\s'\"]*):[^@\s'\"]*@")
_QUERY = re.compile(r"(?P<base>[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"?#]*)\?[^\s'\"#]*")


def redact_url(url: str) -> str:
    """A URL fit for a message: password and query string replaced by `***`."""
    return redact(url)


def redact(text: str, *secrets: str) -> str:
    """`text` with the password and query string of every URL in it masked, and each of `secrets`
    (for example a resolved URL, or the parts of one) replaced wherever it appears."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, redact_url_parts(secret))
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _QUERY.sub(lambda m: f"{m['base']}?***", text)


def redact_url_parts(secret: str) -> str:
    if "://" in secret:
        return _QUERY.sub(
            lambda m: f"{m['base']}?***", _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", secret)
        )
    return "***"


def _url_secrets(url: str) -> list[str]:
    """The parts of a URL that must never be shown: the whole URL, its password, its query values."""
    out = [url]
    try:
        import sqlalchemy as sa

        parsed = sa.engine.make_url(url)
    except Exception:
        return out
    if parsed.password:
        out.append(str(parsed.password))
    for value in parsed.query.values():
        out.extend([value] if isinstance(value, str) else list(value))
    return out


def sql_engine(url: str, where: Location | None = None, **kwargs: Any) -> sa.Engine:
    """A SQLAlchemy engine for `url` (not connected yet). A URL SQLAlchemy cannot use is bad input
    (exit 2) reported with the URL redacted; statement parameters never appear in its errors or logs."""
    import sqlalchemy as sa

    try:
        sa.engine.make_url(url)
    except Exception:
        raise InputError(
            "connection URL (not shown) is not a SQLAlchemy URL: expected dialect+driver://user:password@host/db",
            where,
        ) from None
    try:
        return sa.create_engine(url, hide_parameters=True, **kwargs)
    except Exception as exc:  # ArgumentError, NoSuchModuleError, ValueError from a driver, ImportError …
        detail = redact(str(exc).splitlines()[0] if str(exc) else "", *_url_secrets(url))
        raise InputError(
            f"connection URL {redact_url(url)} cannot be used: {type(exc).__name__}"
            + (f": {detail}" if detail else ""),
            where,
        ) from None


def shown_url(engine: sa.Engine) -> str:
    """The engine's URL for a message: no password, no query string."""
    return redact_url(engine.url.render_as_string(hide_password=False))


def describe_error(exc: BaseException, url: str | None = None) -> str:
    """A one-line message about a failed connection or query, with every URL secret redacted."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}", *(_url_secrets(url) if url else []))[:2000]
