"""What an engine's exception means for a run: the dataset's error (quoted values masked), and whether the
engine is lost (no later query on it can succeed) or only the query was at fault."""

from __future__ import annotations

import contextlib
import re

from governance.errors import InfraError


def scrub(message: str) -> str:
    """An engine error message with every quoted literal masked: errors such as "could not convert
    'jane@x.org'" may quote a data value, and error messages reach logs and results."""
    from governance.masking import mask

    return re.sub(r"'([^']*)'", lambda m: "'" + (mask(m.group(1)) or "") + "'", message)[:2000]


class EngineLost(InfraError):
    """The engine or its connection is gone (connection killed, server down, data files vanished,
    timeout): no later query on it can succeed, unlike a query that is wrong for the data."""


def is_lost(exc: BaseException) -> bool:
    """Whether an engine's exception means the engine is gone rather than the query being at fault."""
    if isinstance(exc, ConnectionError | TimeoutError | OSError):
        return True
    try:
        import sqlalchemy.exc as sa_exc
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        sa_exc = None  # type: ignore[assignment]
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    if sa_exc is not None and isinstance(exc, sa_exc.ResourceClosedError | sa_exc.TimeoutError):
        return True
    name = type(exc).__name__
    # duckdb: IOException (a file vanished), ConnectionException (closed), InterruptException, and an
    # Arrow stream whose file is gone ("IOError: Could not open …"); py4j: the Spark driver went away
    if name in ("IOException", "ConnectionException", "InterruptException", "Py4JNetworkError"):
        return True
    if _grpc_status(exc) in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):  # Spark Connect: the server is gone
        return True
    return "duckdb" in type(exc).__module__ and ("IOError:" in str(exc) or "IO Error:" in str(exc))


def _grpc_status(exc: BaseException) -> str | None:
    """The gRPC status name of a Spark Connect error (or of a raw gRPC error), if it is one."""
    code = getattr(exc, "_grpc_status_code", None) or getattr(exc, "code", None)
    with contextlib.suppress(Exception):
        code = code() if callable(code) else code
    name = getattr(code, "name", None)
    return name if isinstance(name, str) else None


def failure(kind: str, exc: Exception, where: str | None = None) -> InfraError:
    """An engine's exception as the dataset error it causes (quoted values masked). A lost engine whose
    server is known (`where`, host:port) is named by it: a gRPC error's own text is no help."""
    if where and is_lost(exc):
        return EngineLost(f"{kind} engine at {where} lost ({_grpc_status(exc) or type(exc).__name__})")
    first = scrub(str(exc)).strip().splitlines()
    error = EngineLost if is_lost(exc) else InfraError
    return error(f"{kind} query failed: {type(exc).__name__}: {first[0] if first else ''}")
