"""Webhook notifications over the shared Azure transport: Retry-After is honoured, and the webhook's
secret (its path and query) never appears in a result, an error or a reason."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from governance.config import NotifyConfig
from governance.monitor.alerts.notify import Event, deliver
from governance.specs.alerts import ActionGroup

SECRET_PATH = "/webhookb2/s3cr3t-path"
SECRET_QUERY = "sig=s3cr3t-signature"

EVENT = Event(
    "rule", "Fired", 2, "Something broke", "Maximum x GreaterThan 0 over PT1H", 3.0, {}, "2026-11-28T02:00Z"
)


class Hook:
    """Answers the next `answers` statuses in turn (then 200); a 429 carries Retry-After: 1."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.seen: list[tuple[str, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                status = outer.answers.pop(0) if outer.answers else 200
                outer.seen.append((self.path, status))
                body = json.dumps({"error": {"message": f"bad call to http://127.0.0.1{self.path}"}}).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}?{SECRET_QUERY}"


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.server.shutdown()
    h.server.server_close()


def _group(*urls: str) -> ActionGroup:
    return ActionGroup(name="ops", short_name="ops", webhook=list(urls))


def _no_secret(results: list[dict[str, Any]]) -> None:
    text = json.dumps(results)
    assert SECRET_PATH not in text and "s3cr3t" not in text


def test_throttled_then_sent_honours_retry_after(hook: Hook) -> None:
    hook.answers = [429, 503]
    results = deliver(_group(hook.url), EVENT, NotifyConfig(max_retries=2))
    assert [r["status"] for r in results] == ["sent"]
    assert [s for _, s in hook.seen] == [429, 503, 200]
    _no_secret(results)


def test_a_rejected_or_unreachable_webhook_never_shows_its_secret(hook: Hook) -> None:
    hook.answers = [400]
    rejected = deliver(_group(hook.url), EVENT, NotifyConfig(max_retries=0))
    assert [(r["status"], r["error"]) for r in rejected] == [("failed", "HTTP 400")]
    hook.answers = [503, 503]
    exhausted = deliver(_group(hook.url), EVENT, NotifyConfig(max_retries=1))
    assert [(r["status"], r["error"]) for r in exhausted] == [("failed", "HTTP 503")]
    plain = f"http://hooks.example.com{SECRET_PATH}?{SECRET_QUERY}"  # plain HTTP off loopback: refused
    skipped = deliver(_group(plain), EVENT, NotifyConfig(max_retries=0))
    assert skipped[0]["status"] == "skipped" and "loopback" in skipped[0]["reason"]
    for results in (rejected, exhausted, skipped):
        _no_secret(results)
