"""A local, stateful Azure Monitor for tests (stdlib HTTP on 127.0.0.1).

- ARM: Microsoft.Insights metricAlerts (2018-03-01), scheduledQueryRules (2023-12-01) and actionGroups
  (2023-01-01) — PUT / GET / list / DELETE. Every PUT body is validated against the published swagger in
  ../shared/contracts (tests/azure_contracts.py); an invalid body gets ARM's 400 and is recorded in
  `state.invalid`. Responses carry read-only fields (id, type, systemData, lastUpdatedTime, …) as ARM does.
- Custom metrics: POST {resource_id}/metrics, checked for the documented shape (time window, ≤10 dims,
  dimValues matching dimNames, min/max/sum/count).
- Logs Ingestion: POST /dataCollectionRules/{id}/streams/{stream} (gzip JSON array).
- Log Analytics query: POST /v1/workspaces/{id}/query, answering the tables of the first
  `state.query_tables` marker found in the query text (and a partial error when `state.query_partial`).
- Faults: `state.die_after[kind] = n` accepts n requests of that kind ("metrics" | "logs" | "arm"), then
  the server dies mid-request (no response, listening socket closed); `restart()` brings it back on the
  same port with its state.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azure_contracts import find_operation, validate_request  # noqa: E402

INSIGHTS = "monitor/resource-manager/Microsoft.Insights/stable"
ARM_TYPES = {
    "metricalerts": (
        "Microsoft.Insights/metricAlerts",
        "2018-03-01",
        f"{INSIGHTS}/2018-03-01/metricAlert_API.json",
    ),
    "scheduledqueryrules": (
        "Microsoft.Insights/scheduledQueryRules",
        "2023-12-01",
        f"{INSIGHTS}/2023-12-01/scheduledQueryRule_API.json",
    ),
    "actiongroups": (
        "Microsoft.Insights/actionGroups",
        "2023-01-01",
        f"{INSIGHTS}/2023-01-01/actionGroups_API.json",
    ),
}
ARM_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Insights/"
    r"(?P<type>[A-Za-z]+)(?:/(?P<name>[^/]+))?$",
    re.IGNORECASE,
)
INGEST_PATH = re.compile(r"^/dataCollectionRules/(?P<rule>[^/]+)/streams/(?P<stream>[^/]+)$")
QUERY_PATH = re.compile(r"^/v1/workspaces/(?P<ws>[^/]+)/query$")


@dataclass
class State:
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case id -> resource
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    invalid: list[tuple[str, list[str]]] = field(default_factory=list)  # (path, schema errors)
    writes: int = 0
    custom_metrics: list[dict[str, Any]] = field(default_factory=list)
    metric_problems: list[str] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    log_rules: list[str] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    query_tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # query text marker -> tables
    query_partial: str | None = None
    die_after: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, rtype: str) -> list[dict[str, Any]]:
        return [r for r in self.resources.values() if r["type"].lower() == rtype.lower()]


def _readonly(rtype: str, resource: dict[str, Any], created: str) -> None:
    """What ARM adds to a stored resource (so clients must strip it before diffing)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    resource["systemData"] = {"createdBy": "tests", "createdAt": created, "lastModifiedAt": now}
    props = resource.setdefault("properties", {})
    if rtype == "metricalerts":
        props["lastUpdatedTime"] = now
        props["isMigrated"] = False
    elif rtype == "scheduledqueryrules":
        props["createdWithApiVersion"] = "2023-12-01"
        props["isLegacyLogAnalyticsRule"] = False
        resource["etag"] = f'"{abs(hash(now)) % 10**8}"'
    elif rtype == "actiongroups":
        for recv in props.get("emailReceivers", []):
            recv["status"] = "Enabled"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without NODELAY, Nagle + delayed ACK add ~40 ms each
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # --- plumbing ------------------------------------------------------------------------------------
    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw) if raw else None

    def _send(self, status: int, payload: Any = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"error": {"code": code, "message": message}})

    def _dies(self, kind: str) -> bool:
        st = self.server.state
        with st.lock:
            st.counts[kind] = st.counts.get(kind, 0) + 1
            limit = st.die_after.get(kind)
            if limit is None or st.counts[kind] <= limit:
                return False
            st.die_after.pop(kind)
        self.close_connection = True
        self.server.owner.die_async()
        return True

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        st = self.server.state
        with st.lock:
            st.requests.append((method, url.path))
        body = self._body() if method in ("PUT", "POST", "PATCH") else None
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            self._error(401, "AuthenticationFailed", "missing bearer token")
            return
        with st.lock:
            st.authorization.append(self.headers["Authorization"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if m := ARM_PATH.match(url.path):
            if self._dies("arm"):
                return
            self._arm(method, url.path, m, query, body)
        elif method == "POST" and url.path.endswith("/metrics"):
            if self._dies("metrics"):
                return
            self._custom_metric(body)
        elif method == "POST" and (m := INGEST_PATH.match(url.path)):
            if self._dies("logs"):
                return
            self._ingest(m, query, body)
        elif method == "POST" and (m := QUERY_PATH.match(url.path)):
            self._query(m, body)
        else:
            self._error(404, "NotFound", f"{method} {url.path}")

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    # --- ARM -----------------------------------------------------------------------------------------
    def _arm(self, method: str, path: str, m: re.Match[str], query: dict[str, str], body: Any) -> None:
        st = self.server.state
        rtype = m["type"].lower()
        if rtype not in ARM_TYPES:
            self._error(404, "InvalidResourceType", m["type"])
            return
        type_name, api_version, spec = ARM_TYPES[rtype]
        if query.get("api-version") != api_version:
            self._error(
                400, "InvalidApiVersionParameter", f"api-version {query.get('api-version')} for {type_name}"
            )
            return
        if m["name"] is None:
            if method != "GET":
                self._error(405, "MethodNotAllowed", method)
                return
            self._send(200, {"value": st.arm(type_name)})
            return
        rid = path.rstrip("/")
        key = rid.lower()
        if method == "GET":
            if key not in st.resources:
                self._error(404, "ResourceNotFound", f"The Resource '{type_name}/{m['name']}' was not found.")
                return
            self._send(200, st.resources[key])
        elif method == "DELETE":
            with st.lock:
                existed = st.resources.pop(key, None) is not None
                st.writes += 1
            self._send(200 if existed else 204)
        elif method == "PUT":
            errors = validate_request(spec, "PUT", path, body)
            if errors:
                with st.lock:
                    st.invalid.append((path, errors))
                self._error(400, "InvalidRequestContent", "; ".join(errors)[:2000])
                return
            with st.lock:
                created = st.resources.get(key, {}).get("systemData", {}).get("createdAt")
                resource = json.loads(json.dumps(body))
                resource |= {"id": rid, "name": m["name"], "type": type_name}
                _readonly(rtype, resource, created or datetime.now(UTC).isoformat())
                st.resources[key] = resource
                st.writes += 1
            codes = find_operation(spec, "PUT", path)[0].get("responses", {})
            self._send(201 if not created and "201" in codes else 200, resource)  # as the swagger says
        else:
            self._error(405, "MethodNotAllowed", method)

    # --- custom metrics ------------------------------------------------------------------------------
    def _custom_metric(self, body: Any) -> None:
        problems = custom_metric_problems(body, datetime.now(UTC))
        st = self.server.state
        with st.lock:
            if problems:
                st.metric_problems.extend(problems)
            else:
                st.custom_metrics.append(body)
        if problems:
            self._error(400, "InvalidPayload", "; ".join(problems))
        else:
            self._send(200, {})

    # --- logs ingestion ------------------------------------------------------------------------------
    def _ingest(self, m: re.Match[str], query: dict[str, str], body: Any) -> None:
        if "api-version" not in query:
            self._error(400, "MissingApiVersion", "api-version is required")
            return
        if not isinstance(body, list) or not all(isinstance(r, dict) and "TimeGenerated" in r for r in body):
            self._error(400, "InvalidStream", "expected a JSON array of rows with TimeGenerated")
            return
        st = self.server.state
        with st.lock:
            st.log_rules.append(m["rule"])
            st.logs.setdefault(m["stream"], []).extend(body)
        self._send(204)

    # --- logs query ----------------------------------------------------------------------------------
    def _query(self, m: re.Match[str], body: Any) -> None:
        st = self.server.state
        with st.lock:
            st.queries.append({"workspace": m["ws"], **(body or {})})
        text = str((body or {}).get("query", ""))
        tables = next((t for marker, t in st.query_tables.items() if marker in text), [])
        payload: dict[str, Any] = {"tables": tables}
        if st.query_partial:
            payload["error"] = {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": [{"code": "EngineError", "message": st.query_partial}],
            }
        self._send(200, payload)


def custom_metric_problems(body: Any, now: datetime) -> list[str]:
    """The documented custom-metrics shape (Azure Monitor REST ingestion)."""
    out: list[str] = []
    try:
        at = datetime.strptime(body["time"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        base = body["data"]["baseData"]
        names = base.get("dimNames", [])
        if not (now - timedelta(minutes=20) <= at <= now + timedelta(minutes=5)):
            out.append(f"time {body['time']} outside the accepted window")
        if not isinstance(base["metric"], str) or not isinstance(base["namespace"], str):
            out.append("metric and namespace must be strings")
        if len(names) > 10:
            out.append("more than 10 dimensions")
        if not base["series"]:
            out.append("no series")
        for s in base["series"]:
            if len(s.get("dimValues", [])) != len(names):
                out.append("dimValues do not match dimNames")
            if not all(isinstance(s[k], int | float) for k in ("min", "max", "sum", "count")):
                out.append("min/max/sum/count must be numbers")
            elif s["min"] > s["max"] or s["count"] < 1:
                out.append("inconsistent min/max/count")
        extra = set(body) - {"time", "data"}
        if extra:
            out.append(f"unexpected keys {sorted(extra)}")
    except (KeyError, TypeError, ValueError) as exc:
        out.append(f"malformed body: {exc!r}")
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], state: State, owner: AzureMonitorServer) -> None:
        super().__init__(addr, _Handler)
        self.state = state
        self.owner = owner


class AzureMonitorServer:
    """Start with `with AzureMonitorServer() as srv:`; `srv.url` is the base URL of every endpoint."""

    def __init__(self) -> None:
        self.state = State()
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._dying: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AzureMonitorServer:
        self._server = _Server(("127.0.0.1", self.port), self.state, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            if server is not None:
                server.shutdown()
                server.server_close()

    def die_async(self) -> None:
        """Stop from inside a request (the handler must not wait for its own server's shutdown)."""
        self._dying = threading.Thread(target=self.stop, daemon=True)
        self._dying.start()

    def restart(self) -> None:
        if self._dying is not None:
            self._dying.join()
        self.stop()
        self.start()

    def __enter__(self) -> AzureMonitorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
