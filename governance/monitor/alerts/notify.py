"""Notifying action groups for real: a Teams-compatible card by webhook POST, and e-mail over SMTP.

The webhook body is the message envelope Teams workflows accept (an Adaptive Card attachment); e-mail is a
plain-text + HTML message. A receiver that is not configured (no `notify.smtp`, a webhook whose ${VAR} is
unset) is skipped with a reason; a configured one that fails is an error, so the alert is notified again
on the next run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from governance.config import check_endpoint, env_names, expand_env
from governance.errors import InputError
from governance.redact import redact_text

if TYPE_CHECKING:
    from governance.config import NotifyConfig
    from governance.specs.alerts import ActionGroup


@dataclass
class Event:
    rule: str
    status: str  # Fired | Resolved
    severity: int
    description: str
    condition: str  # "Maximum missing_partitions GreaterThan 0 over PT1H"
    value: float | None
    dimensions: dict[str, str]
    at: str
    breaching: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.dimensions.items())
        return f"[{self.status}] Sev{self.severity} {self.rule}" + (f" ({where})" if where else "")

    def facts(self) -> list[tuple[str, str]]:
        out = [
            ("Status", self.status),
            ("Severity", f"Sev{self.severity}"),
            ("Condition", self.condition),
            ("Value", "n/a" if self.value is None else f"{self.value:g}"),
            ("Time", self.at),
        ]
        out += [(k, v) for k, v in self.dimensions.items()]
        for b in self.breaching[:10]:
            dims = ", ".join(f"{k}={v}" for k, v in b["dimensions"].items()) or "all"
            out.append(("Breaching", f"{dims}: {b['value']:g}"))
        return out


def teams_card(e: Event) -> dict[str, Any]:
    color = "Attention" if e.status == "Fired" else "Good"
    return {
        "type": "message",
        "summary": e.title,
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "size": "Large",
                            "weight": "Bolder",
                            "color": color,
                            "wrap": True,
                            "text": e.title,
                        },
                        {"type": "TextBlock", "wrap": True, "text": e.description},
                        {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in e.facts()]},
                    ],
                },
            }
        ],
    }


def email_message(e: Event, sender: str, to: list[str]) -> Any:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = f"smartflow-gov: {e.title}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    lines = [e.description, ""] + [f"{k}: {v}" for k, v in e.facts()]
    msg.set_content("\n".join(lines))
    rows = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in e.facts()
    )
    msg.add_alternative(
        f"<html><body><h3>{html.escape(e.title)}</h3><p>{html.escape(e.description)}</p>"
        f"<table>{rows}</table></body></html>",
        subtype="html",
    )
    return msg


def _post(url: str, body: dict[str, Any], cfg: NotifyConfig) -> str | None:
    """POST a card over the shared Azure transport (no token; retries with Retry-After on 429/5xx and
    dropped connections). Returns None when sent, else a short error that never quotes the URL (a
    webhook's path and query are its secret)."""
    from governance.azure.transport import AzureHttp, AzureHttpError

    http = AzureHttp(
        "webhook",
        scope=None,
        max_retries=cfg.max_retries,
        backoff=0.3,
        timeout=cfg.webhook_timeout_seconds,
        show_path=False,
    )
    try:
        # a repeated card after a lost answer is better than a missed alert
        http.send("POST", url, json_body=body, retry_write=True)
    except AzureHttpError as exc:
        return f"HTTP {exc.status}" if exc.status else (exc.__cause__ or exc).__class__.__name__
    finally:
        http.close()
    return None


def _send_mail(e: Event, to: list[str], cfg: NotifyConfig) -> str | None:
    import smtplib

    smtp = cfg.smtp
    assert smtp is not None
    try:
        cls = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
        with cls(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.username:
                client.login(smtp.username, expand_env(smtp.password or "", smtp.where))
            client.send_message(email_message(e, smtp.sender, to))
    except (OSError, smtplib.SMTPException) as exc:
        return exc.__class__.__name__
    return None


def deliver(group: ActionGroup, e: Event, cfg: NotifyConfig) -> list[dict[str, Any]]:
    """One result per receiver kind: {"group", "channel", "target", "status": sent|skipped|failed, ...}.
    Targets are shown without secrets (a webhook only by its variable name or host)."""
    out: list[dict[str, Any]] = []
    if group.email:
        if cfg.smtp is None:
            out.append(
                {
                    "group": group.name,
                    "channel": "email",
                    "target": group.email,
                    "status": "skipped",
                    "reason": "notify.smtp is not configured",
                }
            )
        else:
            err = _send_mail(e, group.email, cfg)
            out.append(
                {
                    "group": group.name,
                    "channel": "email",
                    "target": group.email,
                    "status": "failed" if err else "sent",
                }
                | ({"error": err} if err else {})
            )
    for raw in group.webhook:
        names = env_names(raw)
        shown = "${" + names[0] + "}" if names else _host(raw)
        try:
            url = check_endpoint(expand_env(raw, group.where), group.where)
        except InputError as exc:
            out.append(
                {
                    "group": group.name,
                    "channel": "webhook",
                    "target": shown,
                    "status": "skipped",
                    "reason": redact_text(exc.problems[0].message, keep_path=False),
                }
            )
            continue
        err = _post(url, teams_card(e), cfg)
        out.append(
            {
                "group": group.name,
                "channel": "webhook",
                "target": shown,
                "status": "failed" if err else "sent",
            }
            | ({"error": err} if err else {})
        )
    return out


def _host(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).hostname or "webhook"
