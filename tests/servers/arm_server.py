"""A local ARM + Synapse data plane for access and posture tests (stdlib HTTP on 127.0.0.1), read-only.

- Microsoft.Authorization 2022-04-01: `GET /{scope}/providers/Microsoft.Authorization/roleAssignments`
  (`$filter=atScope()` gives the assignments at the scope and above it, as ARM does; without the filter,
  also those below) and `GET …/roleDefinitions/{id}` (built-in and custom roles).
- Microsoft.Storage 2023-05-01: `GET /subscriptions/{sub}/providers/Microsoft.Storage/storageAccounts` and
  `GET …/storageAccounts/{name}/blobServices/default/containers`.
- Synapse data plane 2020-12-01: `GET /roleAssignments` (paged through the `x-ms-continuation` header) and
  `GET /roleDefinitions` (served on the same port: the test config points the workspace endpoint here).

Every list is paged (`state.page_size` items a page; ARM through an absolute `nextLink` carrying
`$skipToken`). Every request is matched to an operation of the published swagger in ../shared/contracts,
checked for its api-version and bearer token, and every response body is validated against the schema
of that operation's status (read-only properties included); a problem is recorded in `state.invalid`.
Faults: `state.fail_after = n` answers 503 to every request after the first n (an outage mid-run).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from azure_contracts import find_operation, validate_response  # noqa: E402

AUTHZ = "authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01"
ASSIGNMENTS_SPEC = f"{AUTHZ}/authorization-RoleAssignmentsCalls.json"
DEFINITIONS_SPEC = f"{AUTHZ}/authorization-RoleDefinitionsCalls.json"
STORAGE = "storage/resource-manager/Microsoft.Storage/stable/2023-05-01"
SYNAPSE = "synapse/data-plane/Microsoft.Synapse/stable/2020-12-01"
API = {"authorization": "2022-04-01", "storage": "2023-05-01", "synapse": "2020-12-01"}


@dataclass
class State:
    role_assignments: list[dict[str, Any]] = field(default_factory=list)  # ARM RoleAssignment objects
    role_definitions: list[dict[str, Any]] = field(default_factory=list)  # ARM RoleDefinition objects
    storage_accounts: list[dict[str, Any]] = field(default_factory=list)  # ARM StorageAccount objects
    containers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # account id (lower) -> items
    synapse_assignments: list[dict[str, Any]] = field(default_factory=list)
    synapse_definitions: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    fail_after: int | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path?query)
    invalid: list[tuple[str, list[str]]] = field(default_factory=list)  # (request, problems)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self) -> list[str]:
        return [p.split("?")[0] for _, p in self.requests]


def _under(scope: str, target: str) -> bool:
    """`scope` is `target` or one of its ancestors (segment-wise, case-insensitive)."""
    s, t = scope.rstrip("/").lower(), target.rstrip("/").lower()
    return s in ("", "/") or t == s or t.startswith(s + "/")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _invalid(self, problems: list[str]) -> None:
        st = self.server.state
        with st.lock:
            st.invalid.append((self.path, problems))

    def _answer(self, spec: str, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """Validate the response against the operation's published schema, then send it."""
        problems = validate_response(spec, "GET", urlparse(self.path).path, status, payload)
        if problems:
            self._invalid([f"response: {p}" for p in problems])
        self._send(status, payload, headers)

    def _error(self, spec: str, status: int, code: str, message: str) -> None:
        self._answer(spec, status, {"error": {"code": code, "message": message}})

    def _page(
        self, items: list[dict[str, Any]], query: dict[str, str]
    ) -> tuple[list[dict[str, Any]], int | None]:
        start = int(query.get("$skipToken") or query.get("_cont") or 0)
        size = self.server.state.page_size
        chunk = items[start : start + size]
        return chunk, (start + size if start + size < len(items) else None)

    def _next_link(self, query: dict[str, str], nxt: int | None) -> dict[str, str]:
        if nxt is None:
            return {}
        q = {**query, "$skipToken": str(nxt)}
        return {"nextLink": f"http://{self.headers['Host']}{urlparse(self.path).path}?{urlencode(q)}"}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        st = self.server.state
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with st.lock:
            st.requests.append(("GET", self.path))
            failing = st.fail_after is not None and len(st.requests) > st.fail_after
        if failing:
            self._send(503, {"error": {"code": "ServiceUnavailable", "message": "try later"}})
            return
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            self._invalid(["request: no bearer token"])
            self._send(401, {"error": {"code": "AuthenticationFailed", "message": "no bearer token"}})
            return
        path = url.path
        lower = path.lower()
        if lower.endswith("/providers/microsoft.authorization/roleassignments"):
            self._route(ASSIGNMENTS_SPEC, "authorization", query, lambda: self._assignments(path, query))
        elif "/providers/microsoft.authorization/roledefinitions/" in lower:
            self._route(DEFINITIONS_SPEC, "authorization", query, lambda: self._definition(path))
        elif lower.endswith("/providers/microsoft.storage/storageaccounts"):
            self._route(f"{STORAGE}/storage.json", "storage", query, lambda: self._accounts(query))
        elif lower.endswith("/blobservices/default/containers"):
            self._route(f"{STORAGE}/blob.json", "storage", query, lambda: self._containers(path, query))
        elif path == "/roleAssignments":
            self._route(
                f"{SYNAPSE}/roleAssignments.json", "synapse", query, lambda: self._syn_assignments(query)
            )
        elif path == "/roleDefinitions":
            spec = f"{SYNAPSE}/roleDefinitions.json"
            self._route(spec, "synapse", query, lambda: self._answer(spec, 200, st.synapse_definitions))
        else:
            self._invalid([f"request: no published operation serves GET {path}"])
            self._send(404, {"error": {"code": "NotFound", "message": path}})

    def _route(self, spec: str, api: str, query: dict[str, str], handler: Any) -> None:
        try:
            find_operation(spec, "GET", urlparse(self.path).path)
        except LookupError as exc:
            self._invalid([f"request: {exc}"])
            self._send(404, {"error": {"code": "NotFound", "message": "no such operation"}})
            return
        if query.get("api-version") != API[api]:
            self._invalid([f"request: api-version {query.get('api-version')!r}, expected {API[api]}"])
            self._send(400, {"error": {"code": "InvalidApiVersionParameter", "message": f"use {API[api]}"}})
            return
        handler()

    # --- Microsoft.Authorization ---------------------------------------------------------------
    def _assignments(self, path: str, query: dict[str, str]) -> None:
        scope = path[: -len("/providers/Microsoft.Authorization/roleAssignments")]
        flt = query.get("$filter")
        if flt not in (None, "atScope()"):
            self._invalid([f"request: unexpected $filter {flt!r}"])
        items = [
            a
            for a in self.server.state.role_assignments
            if _under(a["properties"]["scope"], scope)
            or (flt is None and _under(scope, a["properties"]["scope"]))
        ]
        chunk, nxt = self._page(items, query)
        self._answer(ASSIGNMENTS_SPEC, 200, {"value": chunk, **self._next_link(query, nxt)})

    def _definition(self, path: str) -> None:
        guid = path.rstrip("/").rsplit("/", 1)[-1].lower()
        for d in self.server.state.role_definitions:
            if d["name"].lower() == guid:
                self._answer(DEFINITIONS_SPEC, 200, d)
                return
        self._error(
            DEFINITIONS_SPEC,
            404,
            "RoleDefinitionDoesNotExist",
            "The specified role definition does not exist.",
        )

    # --- Microsoft.Storage -----------------------------------------------------------------------
    def _accounts(self, query: dict[str, str]) -> None:
        chunk, nxt = self._page(self.server.state.storage_accounts, query)
        self._answer(f"{STORAGE}/storage.json", 200, {"value": chunk, **self._next_link(query, nxt)})

    def _containers(self, path: str, query: dict[str, str]) -> None:
        account_id = path[: -len("/blobServices/default/containers")].lower()
        items = self.server.state.containers.get(account_id)
        if items is None:
            self._error(f"{STORAGE}/blob.json", 404, "ResourceNotFound", "storage account not found")
            return
        chunk, nxt = self._page(items, query)
        self._answer(f"{STORAGE}/blob.json", 200, {"value": chunk, **self._next_link(query, nxt)})

    # --- Synapse data plane ----------------------------------------------------------------------
    def _syn_assignments(self, query: dict[str, str]) -> None:
        token = self.headers.get("x-ms-continuation")
        chunk, nxt = self._page(self.server.state.synapse_assignments, {"_cont": token or "0"})
        headers = {"x-ms-continuation": str(nxt)} if nxt is not None else {}
        self._answer(f"{SYNAPSE}/roleAssignments.json", 200, {"count": len(chunk), "value": chunk}, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], state: State) -> None:
        super().__init__(addr, _Handler)
        self.state = state


class ArmServer:
    """`with ArmServer() as srv:`; `srv.url` is both the ARM endpoint and the Synapse workspace endpoint."""

    def __init__(self) -> None:
        self.state = State()
        self._server: _Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ArmServer:
        self._server = _Server(("127.0.0.1", 0), self.state)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
