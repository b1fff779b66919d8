"""The SparkSession the spark engine runs on (SPEC §6.3), chosen in this order:

1. `spark.remote` in smartflow.yaml (`sc://host:port/;token=${VAR}`): Spark Connect to a standalone or
   Kubernetes cluster, Databricks Connect or Fabric — the client needs no Java;
2. the `SPARK_REMOTE` environment variable (pyspark's own convention), likewise Spark Connect;
3. the active session (inside a Synapse/Databricks/Fabric notebook);
4. a local `local[*]` session (needs Java on this machine).

`spark.conf` settings are applied to whichever session is used. One session per process: every dataset
of a run shares it. A Connect URL may hold a token: it never appears in a message (only host and port).

A Connect server that is down is an infrastructure error within seconds, not pyspark's ten minutes of
retries: the server's port is probed (CONNECT_TIMEOUT_SECONDS) before a session is opened and before
each dataset reuses it, and the client's retry policy is bounded (`_bounded_retries`: about 3 s of back-off)
for a server lost in the middle of a query.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import warnings
from typing import TYPE_CHECKING, Any

from governance.config import expand_env
from governance.errors import InfraError, InputError

if TYPE_CHECKING:
    from governance.project import Project

_LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "1g",
}
_sessions: dict[str, Any] = {}
CONNECT_TIMEOUT_SECONDS = 10.0


def remote_url(project: Project | None) -> str | None:
    """The Spark Connect URL to use, if any (config first, then SPARK_REMOTE)."""
    spark = project.config.spark if project is not None else None
    if spark is not None and spark.remote:
        url = expand_env(spark.remote, spark.where)
        if not url.startswith("sc://"):
            raise InputError("spark.remote must be a Spark Connect URL sc://host:port", spark.where)
        return url
    return os.environ.get("SPARK_REMOTE") or None


def describe(url: str) -> str:
    """A Connect URL without its parameters (token, user): safe to print."""
    return re.sub(r"/;.*$", "", url.split("?")[0])


def address(url: str) -> tuple[str, int]:
    """Host and port of a Connect URL (pyspark's default port 15002 when none is given)."""
    netloc = describe(url).removeprefix("sc://").split("/")[0]
    host, _, port = netloc.rpartition(":") if re.search(r":\d+$", netloc) else (netloc, "", "15002")
    return host.strip("[]"), int(port)


def server_address(project: Project | None) -> str | None:
    """host:port of the Spark Connect server the spark engine uses, if any (for messages)."""
    url = remote_url(project)
    return None if url is None else "{}:{}".format(*address(url))


def probe(url: str) -> None:
    """Raise InfraError naming host:port unless the server accepts a TCP connection in time."""
    host, port = address(url)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or type(exc).__name__
        raise InfraError(
            f"Spark Connect at {host}:{port} unreachable ({reason}; waited up to {CONNECT_TIMEOUT_SECONDS:g} s)"
        ) from None


def _conf(project: Project | None) -> dict[str, str]:
    conf = project.config.spark.conf if project is not None else {}
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in conf.items()}


def spark_session(project: Project | None = None) -> Any:
    """The session of the first of: spark.remote, SPARK_REMOTE, the active session, local[*]."""
    url = remote_url(project)
    conf = _conf(project)
    if url is not None:
        return connect(url, conf)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise InfraError(
            f"the spark engine needs pyspark: pip install 'smartflow-gov[spark]' ({exc.name} missing)"
        ) from exc

    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in conf.items():
            active.conf.set(key, value)
        return active
    builder = SparkSession.builder.master("local[*]").appName("smartflow-gov")
    for key, value in {**_LOCAL_DEFAULTS, **conf}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # no Java, a JVM that cannot start
        raise InfraError(f"cannot start a local Spark session: {type(exc).__name__}") from exc


def connect(url: str, conf: dict[str, str] | None = None) -> Any:
    """A Spark Connect session to `url` (one per URL and process) with `conf` applied."""
    where = describe(url)
    try:
        probe(url)
    except InfraError:
        _forget(url)
        raise
    session = _sessions.get(url) or _open(url, where)
    for key, value in (conf or {}).items():
        try:
            session.conf.set(key, value)
        except Exception as exc:  # a static setting cannot change on a running cluster
            raise InfraError(
                f"Spark Connect at {where} refused spark.conf {key}: {type(exc).__name__}"
            ) from exc
    return session


def ignore_pandas_version_warning() -> None:
    """pyspark 4 warns about pandas 3 whenever it is imported (by us, or by Great Expectations when it is
    installed); the CLI's stderr is for our messages."""
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )


def _open(url: str, where: str) -> Any:
    ignore_pandas_version_warning()
    # a lost server is reported as the dataset's error; pyspark would also warn on stderr
    warnings.filterwarnings("ignore", message=r"\[RETRIES_EXCEEDED\]", category=UserWarning)
    try:
        from pyspark.sql.connect.session import SparkSession as RemoteSession
    except ImportError as exc:
        raise InfraError(
            f"Spark Connect needs the client libraries: pip install 'smartflow-gov[spark]' ({exc.name} missing)"
        ) from exc
    try:
        session = RemoteSession.builder.remote(url).create()
        session.client.set_retry_policies([_bounded_retries()])
        session.conf.set("spark.sql.session.timeZone", "UTC")
    except Exception as exc:
        raise InfraError(f"Spark Connect at {where} unreachable: {type(exc).__name__}") from exc
    _sessions[url] = session
    return session


def _bounded_retries() -> Any:
    """pyspark's DefaultPolicy retries an unavailable server 15 times over 10+ minutes; this one gives up
    after 4 retries 0.2 + 0.4 + 0.8 + 1.6 s apart (no jitter below 2 s)."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    return DefaultPolicy(max_retries=4, initial_backoff=200, backoff_multiplier=2.0, max_backoff=2000)


def _forget(url: str) -> None:
    """Drop the session of a server that is gone, without the release call pyspark would otherwise retry
    (here and again at interpreter exit)."""
    session = _sessions.pop(url, None)
    if session is not None:
        session.release_session_on_close = False
        with contextlib.suppress(Exception):
            session.stop()


def close_remote() -> None:
    """Release the Spark Connect sessions of this process (before their server goes away; a session left
    open retries its release at interpreter exit)."""
    for session in list(_sessions.values()):
        with contextlib.suppress(Exception):  # the server may already be gone
            session.stop()
    _sessions.clear()
