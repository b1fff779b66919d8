"""One HTTP transport for every Azure endpoint (Purview Data Map and Unified Catalog, Azure Monitor, ARM,
Synapse, webhooks).

Built on azure-core's pipeline:
- authentication: the one credential builder (`governance.azure.credential`), a bearer token per scope;
- retries: azure-core's RetryPolicy — connection drops, 408/429/500/502/503/504 retried with exponential
  backoff, `Retry-After` (seconds or HTTP date) honoured; POST/PATCH are retried on other answers or a
  dropped connection only when the caller says they are safe to repeat (upserts, creates with a
  client-chosen id) — azure-core retries them on 500/503/504 in any case;
- a request budget: at most `per_second` requests leave (every attempt counts), and every attempt is
  counted as a read or a write;
- plain HTTP only on a loopback address (checked by `governance.config.check_endpoint`);
- redaction: no error message quotes a query string, a password or a token.

Callers get `Response` (status, headers, parsed JSON) or an `AzureHttpError` (an InfraError: exit 3), with
`Conflict` for 409 so that creates can converge.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from governance.azure.credential import credential as default_credential
from governance.errors import InfraError
from governance.redact import redact_text

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
ALL_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"})
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class AzureHttpError(InfraError):
    """A request that failed after retries (exit 3). `status` is 0 when no response came back."""

    def __init__(self, message: str, status: int = 0, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Conflict(AzureHttpError):
    """409: the object exists already (an earlier, interrupted create) or is in use."""


@dataclass
class Counts:
    """Requests sent, every attempt included (a retried write counts twice)."""

    read: int = 0
    write: int = 0


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any = None

    @property
    def json(self) -> Any:
        return self.body


def _is_read(method: str, url: str) -> bool:
    return method.upper() in ("GET", "HEAD") or "/search/query" in url or url.split("?")[0].endswith("/query")


@dataclass
class Budget:
    """At most `per_second` requests leave, spaced evenly; `None` means no limit."""

    per_second: float | None = None
    _next_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self) -> None:
        if not self.per_second:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + 1.0 / self.per_second
        if wait > 0:
            time.sleep(wait)


class AzureHttp:
    """A client for one service: `send` a request, `pages` through a list."""

    def __init__(
        self,
        service: str,
        *,
        scope: str | None,
        credential: Any = None,
        max_retries: int = 3,
        backoff: float = 0.5,
        backoff_max: float = 60.0,
        per_second: float | None = None,
        timeout: float = 30.0,
        counts: Counts | None = None,
        is_read: Callable[[str, str], bool] = _is_read,
        show_path: bool = True,
    ) -> None:
        """`show_path=False` for URLs whose path is a secret (webhooks): errors name the host only."""
        self.service = service
        self.show_path = show_path
        self.scope = scope
        self.counts = counts or Counts()
        self.timeout = timeout
        self.budget = Budget(per_second)
        self._is_read = is_read
        self._credential = credential
        self._max_retries = max_retries
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._pipeline: Any = None

    # --- pipeline --------------------------------------------------------------------------------
    def _build(self) -> Any:
        from azure.core.pipeline import Pipeline
        from azure.core.pipeline.transport import RequestsTransport

        return Pipeline(transport=RequestsTransport(), policies=self.policies())

    def policies(self) -> list[Any]:
        """The policies of this transport (ids, headers, retries with Retry-After, budget and counts, bearer
        token), also for an Azure SDK client: `SomeClient(..., policies=http.policies())`."""
        from azure.core.pipeline.policies import (
            BearerTokenCredentialPolicy,
            HeadersPolicy,
            RequestIdPolicy,
            RetryPolicy,
            SansIOHTTPPolicy,
            UserAgentPolicy,
        )

        owner = self

        class BudgetAndCount(SansIOHTTPPolicy):
            def on_request(self, request: Any) -> None:
                owner.budget.wait()
                http = request.http_request
                if owner._is_read(http.method, http.url):
                    owner.counts.read += 1
                else:
                    owner.counts.write += 1

        retry = RetryPolicy(
            retry_total=self._max_retries,
            retry_connect=self._max_retries,
            retry_read=self._max_retries,
            retry_status=self._max_retries,
            retry_backoff_factor=self._backoff,
            retry_backoff_max=self._backoff_max,
        )
        policies: list[Any] = [RequestIdPolicy(), HeadersPolicy(), UserAgentPolicy("smartflow-gov"), retry]
        policies.append(BudgetAndCount())
        if self.scope:
            cred = self._credential or default_credential()
            policies.append(BearerTokenCredentialPolicy(cred, self.scope))
        return policies

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            self._pipeline = self._build()
        return self._pipeline

    def close(self) -> None:
        if self._pipeline is not None:
            self._pipeline.__exit__()
            self._pipeline = None

    # --- requests --------------------------------------------------------------------------------
    def send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        ok_missing: bool = False,
        retry_write: bool = False,
    ) -> Response:
        """One request, retried per the policy. 404 gives `Response(404)` when `ok_missing`."""
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        method = method.upper()
        query = _query(params)
        full = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        request = HttpRequest(method, full, json=json_body, headers=headers or {})
        insecure = urlsplit(full).scheme == "http"
        retry_on = ALL_METHODS if retry_write else SAFE_METHODS
        parts = urlsplit(url)
        what = f"{self.service}: {method} {parts.path if self.show_path else parts.hostname}"
        # enforce_https is read by the bearer-token policy; without one it would reach `requests`
        auth = {"enforce_https": not insecure} if self.scope else {}
        try:
            pipeline_response = self.pipeline.run(
                request,
                retry_on_methods=retry_on,
                connection_timeout=self.timeout,
                read_timeout=self.timeout,
                **auth,
            )
        except AzureError as exc:
            raise AzureHttpError(f"{what} unreachable after retries ({exc.__class__.__name__})") from exc
        response = pipeline_response.http_response
        status = response.status_code
        text = response.text() if hasattr(response, "text") else ""
        body = _parse(text)
        if status == 404 and ok_missing:
            return Response(404, dict(response.headers), body)
        if status >= 400:
            message = redact_text(_message(body, text), keep_path=self.show_path)
            if status == 409:
                raise Conflict(f"{what} conflict: HTTP 409 {message}", status, body)
            raise AzureHttpError(f"{what} failed: HTTP {status} {message}", status, body)
        return Response(status, dict(response.headers), body)

    def pages(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        items: str = "value",
        next_link: str = "nextLink",
        continuation_header: str | None = None,
        limit_pages: int = 10_000,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list, following `nextLink` (an absolute URL, or a path on the same host) or a
        continuation header (sent back as the same header)."""
        headers: dict[str, str] = {}
        current: str | None = url
        current_params: dict[str, Any] | None = params
        for _ in range(limit_pages):
            if current is None:
                return
            resp = self.send("GET", current, params=current_params, headers=headers or None)
            body = resp.body or {}
            yield from body.get(items) or []
            token = resp.headers.get(continuation_header) if continuation_header else None
            link = body.get(next_link) if isinstance(body, dict) else None
            if continuation_header and token:
                headers = {continuation_header: token}
            elif link:
                current = _absolute(link, url)
                current_params = None
            else:
                current = None
        raise AzureHttpError(f"{self.service}: more than {limit_pages} pages from {urlsplit(url).path}")


def _query(params: dict[str, Any] | list[tuple[str, str]] | None) -> str:
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    if isinstance(params, dict):
        for k, v in params.items():
            for item in v if isinstance(v, list) else [v]:
                if item is None:
                    continue
                pairs.append((k, str(item).lower() if isinstance(item, bool) else str(item)))
    else:
        pairs = list(params)
    return urlencode(pairs)


def _absolute(link: str, base: str) -> str:
    if "://" in link:
        return link
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{link if link.startswith('/') else '/' + link}"


def _parse(text: str) -> Any:
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _message(body: Any, text: str) -> str:
    """The service's own error message, one line, at most 300 characters."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"]).splitlines()[0][:300]
        for key in ("errorMessage", "message"):
            if body.get(key):
                return str(body[key]).splitlines()[0][:300]
    lines = (text or "").strip().splitlines()
    return lines[0][:300] if lines else ""
