"""What the local Azure service servers share: a loopback HTTP server on a free port, request counting,
and faults injected per request (429 with Retry-After, 503, or a connection dropped after the request was
applied — the worst case for duplicates). A server subclasses `FaultyJsonServer` and implements
`dispatch` (its API), `is_read`, `error_body` and `throttled_body` (its error shapes)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlparse


@dataclass
class Fault:
    method: str
    path_contains: str
    kind: str  # "429" | "503" | "drop"
    times: int = 1
    retry_after: int = 1


class FaultyJsonServer:
    """Start with `with Server() as srv:`; `srv.endpoint` is its base URL."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.contract_errors: list[str] = []
        self.requests: list[tuple[str, str, int]] = []
        self.reads = 0
        self.writes = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- what a server says ------------------------------------------------------------------------
    def dispatch(self, method: str, path: str, query: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def is_read(self, method: str, path: str) -> bool:
        return method == "GET"

    def error_body(self, exc: Exception) -> tuple[int, Any] | None:
        """(status, body) of an API error raised by `dispatch`; None: not an API error (a server bug)."""
        return None

    def throttled_body(self, status: int) -> Any:
        return {"error": {"code": "TooManyRequests" if status == 429 else "ServiceUnavailable"}}

    def answered(self, method: str, path: str, status: int, payload: Any) -> None:
        """Called with every answer before it is sent (a server checks responses against its contract)."""

    # --- test controls -----------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()
            self.reads = self.writes = 0

    def inject(
        self, method: str, path_contains: str, kind: str, times: int = 1, retry_after: int = 1
    ) -> None:
        with self.lock:
            self.faults.append(Fault(method.upper(), path_contains, kind, times, retry_after))

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.times > 0 and f.method == method and f.path_contains in path:
                    f.times -= 1
                    return f
        return None

    # --- HTTP --------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _respond(
                self, status: int, payload: Any = None, headers: dict[str, str] | None = None
            ) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                method = self.command
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                fault = server._fault(method, url.path)
                with server.lock:
                    if server.is_read(method, url.path):
                        server.reads += 1
                    else:
                        server.writes += 1
                if fault and fault.kind in ("429", "503"):
                    status = int(fault.kind)
                    server.requests.append((method, url.path, status))
                    hdr = {"Retry-After": str(fault.retry_after)} if status == 429 else {}
                    self._respond(status, server.throttled_body(status), hdr)
                    return
                try:
                    status, payload = server.dispatch(method, url.path, url.query, raw, self.headers)
                except Exception as exc:
                    known = server.error_body(exc)
                    if known is None:  # a server bug must be loud
                        server.contract_errors.append(f"server error on {method} {url.path}: {exc!r}")
                        known = 500, {"error": {"code": "InternalError", "message": repr(exc)}}
                    status, payload = known
                server.answered(method, url.path, status, payload)
                server.requests.append((method, url.path, status))
                if fault and fault.kind == "drop":
                    self.close_connection = True
                    return  # applied, but the client never hears back
                self._respond(status, payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        return Handler
