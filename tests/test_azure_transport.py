"""The shared Azure transport over real HTTP on loopback: Retry-After, paging, counts, redaction."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from governance.azure.credential import StaticTokenCredential
from governance.azure.transport import AzureHttp, AzureHttpError, Conflict


class _Server:
    def __init__(self) -> None:
        self.hits: list[tuple[str, str, str | None]] = []
        self.script: list[tuple[int, dict[str, str], Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                outer.hits.append((self.command, self.path, self.headers.get("Authorization")))
                status, headers, body = outer.script.pop(0) if outer.script else (200, {}, {"value": []})
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.httpd.shutdown()


def _client(**kw: Any) -> AzureHttp:
    return AzureHttp("svc", scope="https://example/.default", credential=StaticTokenCredential("t0k"), **kw)


def test_retry_after_is_honoured_and_every_attempt_counted(server: _Server) -> None:
    server.script = [(429, {"Retry-After": "1"}, {"error": {"message": "slow down"}}), (200, {}, {"ok": 1})]
    c = _client(backoff=0.01)
    started = time.monotonic()
    resp = c.send("GET", f"{server.url}/things", params={"api-version": "1"})
    assert resp.body == {"ok": 1}
    assert time.monotonic() - started >= 0.9
    assert c.counts.read == 2 and c.counts.write == 0
    assert all(h[2] == "Bearer t0k" for h in server.hits)


def test_pages_follow_next_link_and_stop(server: _Server) -> None:
    server.script = [
        (200, {}, {"value": [1, 2], "nextLink": f"{server.url}/things?page=2"}),
        (200, {}, {"value": [3]}),
    ]
    assert list(_client().pages(f"{server.url}/things")) == [1, 2, 3]
    assert server.hits[1][1] == "/things?page=2"


def test_writes_are_not_retried_unless_safe(server: _Server) -> None:
    # a 502 may hide a processed write: only a caller that knows the write is repeatable retries it
    # (azure-core itself retries POST on 500/503/504, answers that say the request was not processed)
    server.script = [(502, {}, None), (200, {}, {"id": "x"})]
    with pytest.raises(AzureHttpError) as err:
        _client(backoff=0.01).send("POST", f"{server.url}/things", json_body={"a": 1})
    assert err.value.status == 502 and len(server.hits) == 1
    server.script = [(502, {}, None), (200, {}, {"id": "x"})]
    assert _client(backoff=0.01).send("POST", f"{server.url}/t", json_body={}, retry_write=True).body == {
        "id": "x"
    }


def test_errors_are_redacted_and_409_is_a_conflict(server: _Server) -> None:
    server.script = [(400, {}, {"error": {"message": "bad input near https://h/p?sig=S3CRET"}})]
    with pytest.raises(AzureHttpError) as err:
        _client().send("PUT", f"{server.url}/x?code=S3CRET", json_body={})
    assert "S3CRET" not in str(err.value) and "HTTP 400" in str(err.value)
    server.script = [(409, {}, {"error": {"message": "exists"}})]
    with pytest.raises(Conflict):
        _client().send("PUT", f"{server.url}/x", json_body={})


def test_unreachable_is_an_infrastructure_error() -> None:
    c = _client(max_retries=1, backoff=0.01, timeout=2)
    with pytest.raises(AzureHttpError) as err:
        c.send("GET", "http://127.0.0.1:9/nothing")
    assert "unreachable" in str(err.value) and err.value.status == 0
