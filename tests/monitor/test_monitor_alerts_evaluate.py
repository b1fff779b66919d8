"""Local alert evaluation with real notifications: a webhook receiver over HTTP and an aiosmtpd SMTP server,
both on loopback; fired once, quiet while firing, resolved once, retried after a failed delivery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli

from governance import metrics
from governance.monitor.alerts.evaluate import evaluate
from governance.project import load_project

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class Receiver:
    """An HTTP endpoint that records JSON POSTs and answers `status`."""

    def __init__(self) -> None:
        self.posts: list[Any] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.status < 300:
                    outer.posts.append(json.loads(body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/teams/hook"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content)
        self.messages.append((envelope.rcpt_tos, msg))
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (the controller checks it can connect to its own port)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


ALERTS = """\
action_groups:
  - name: oncall
    short_name: oncall
    email: [oncall@smartflow.example]
    webhook: ["${TEST_TEAMS_WEBHOOK}"]
rules:
  - name: bronze-missing-partition
    kind: log
    description: A bronze ingest day has not arrived.
    query: "SmartflowFreshness_CL | where MissingPartitions > 0"
    operator: GreaterThan
    threshold: 0
    aggregation: Count
    window: PT1H
    frequency: PT15M
    severity: 1
    action_groups: [oncall]
    local: {metric: missing_partitions, operator: GreaterThan, threshold: 0, dimensions: {layer: bronze}}
  - name: quality-per-dataset
    kind: metric
    metric: quality_success_percent
    dimensions: {dataset: "*"}
    operator: LessThan
    threshold: 99
    aggregation: Minimum
    window: PT1H
    frequency: PT15M
    severity: 2
    action_groups: [oncall]
"""


def _project(tmp_path: Path, smtp_port: int | None) -> Path:
    smtp = f"notify:\n  smtp: {{host: 127.0.0.1, port: {smtp_port}, sender: alerts@smartflow.example}}\n"
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\ndatasets:\n"
        "  bronze.orders: {format: delta, path: bronze/orders, layer: bronze}\n"
        "  silver.orders: {format: delta, path: silver/orders, layer: silver}\n" + (smtp if smtp_port else "")
    )
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts/rules.yaml").write_text(ALERTS)
    return tmp_path / "smartflow.yaml"


def _missing(state: Path, value: float, at: datetime) -> None:
    metrics.record(
        state,
        [metrics.Metric("missing_partitions", value, {"dataset": "bronze.orders", "layer": "bronze"}, at)],
    )


def test_fire_once_quiet_then_resolve_once(
    tmp_path: Path, receiver: Receiver, mailbox: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TEAMS_WEBHOOK", receiver.url)
    box, port = mailbox
    project = load_project(_project(tmp_path, port))
    _missing(project.state_dir, 1, T0 - timedelta(minutes=5))

    first = evaluate(project, now=T0)
    assert first.exit_code == 1
    rule = next(r for r in first.payload["rules"] if r["rule"] == "bronze-missing-partition")
    assert rule["status"] == "firing" and rule["transition"] == "Fired" and rule["value"] == 1
    assert {(d["channel"], d["status"]) for d in rule["notifications"]} == {
        ("email", "sent"),
        ("webhook", "sent"),
    }
    assert len(receiver.posts) == 1
    card = receiver.posts[0]
    assert card["type"] == "message"
    content = card["attachments"][0]["content"]
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert (
        content["type"] == "AdaptiveCard"
        and "[Fired] Sev1 bronze-missing-partition" in content["body"][0]["text"]
    )
    facts = {f["title"]: f["value"] for f in content["body"][2]["facts"]}
    assert facts["layer"] == "bronze" and facts["Value"] == "1"
    assert len(box.messages) == 1
    rcpts, msg = box.messages[0]
    assert rcpts == ["oncall@smartflow.example"] and msg["Subject"].startswith("smartflow-gov: [Fired] Sev1")
    assert receiver.url not in json.dumps(first.payload)  # the webhook URL is a secret
    # no quality metrics at all: the split rule has nothing to say
    assert all(r["status"] == "no_data" for r in first.payload["rules"] if r["rule"] == "quality-per-dataset")

    second = evaluate(project, now=T0 + timedelta(minutes=15))  # still firing: no new notification
    assert second.exit_code == 1 and len(receiver.posts) == 1 and len(box.messages) == 1

    _missing(project.state_dir, 0, T0 + timedelta(minutes=61))
    third = evaluate(project, now=T0 + timedelta(minutes=62))
    rule = next(r for r in third.payload["rules"] if r["rule"] == "bronze-missing-partition")
    assert rule["status"] == "ok" and rule["transition"] == "Resolved" and third.exit_code == 0
    assert len(receiver.posts) == 2 and "[Resolved]" in receiver.posts[1]["summary"]
    assert len(box.messages) == 2

    fourth = evaluate(project, now=T0 + timedelta(minutes=75))
    assert fourth.payload["summary"]["resolved"] == 0 and len(receiver.posts) == 2


def test_split_per_dataset_and_failed_delivery_retried(
    tmp_path: Path, receiver: Receiver, mailbox: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TEAMS_WEBHOOK", receiver.url)
    project = load_project(_project(tmp_path, mailbox[1]))
    metrics.record(
        project.state_dir,
        [
            metrics.Metric(
                "quality_success_percent", 97.5, {"dataset": "silver.orders", "layer": "silver"}, T0
            ),
            metrics.Metric(
                "quality_success_percent", 100, {"dataset": "bronze.orders", "layer": "bronze"}, T0
            ),
        ],
    )
    receiver.status = 500
    failed = evaluate(project, now=T0 + timedelta(minutes=1))
    split = {
        r["dimensions"]["dataset"]: r for r in failed.payload["rules"] if r["rule"] == "quality-per-dataset"
    }
    assert split["silver.orders"]["status"] == "firing" and split["bronze.orders"]["status"] == "ok"
    assert failed.exit_code == 3 and failed.payload["summary"]["notifications_failed"] == 1
    receiver.status = 200
    retried = evaluate(project, now=T0 + timedelta(minutes=2))
    fired = [r for r in retried.payload["rules"] if r.get("transition") == "Fired"]
    assert [r["dimensions"] for r in fired] == [{"dataset": "silver.orders"}]
    assert len(receiver.posts) == 1 and retried.exit_code == 1


def test_cli_without_smtp_or_webhook_skips_receivers(tmp_path: Path) -> None:
    config = _project(tmp_path, None)
    _missing(load_project(config).state_dir, 2, datetime.now(UTC))
    proc = run_cli(
        "--config", str(config), "--output", "json", "alerts", "evaluate", env={"TEST_TEAMS_WEBHOOK": ""}
    )
    assert proc.returncode == 1, proc.stderr  # firing, and nothing failed to deliver
    rule = next(r for r in json.loads(proc.stdout)["rules"] if r["rule"] == "bronze-missing-partition")
    assert {d["status"] for d in rule["notifications"]} == {"skipped"}
    text = run_cli("--config", str(config), "alerts", "evaluate", "--no-notify")
    assert text.returncode == 1 and "FIRING" in text.stdout
