"""The local ARM server refuses what Azure would: responses off the published schemas, unknown operations,
wrong api-versions (so the tests that pass against it mean something)."""

from __future__ import annotations

import json
import urllib.request

from arm_estate import ACCT_EVENTS, SUB, fill
from arm_server import ArmServer


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers={"Authorization": "Bearer t", **(headers or {})})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_the_server_flags_what_the_contracts_forbid() -> None:
    with ArmServer() as srv:
        fill(srv.state)
        accounts = f"{srv.url}/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts"
        assert _get(accounts + "?api-version=2023-05-01")[0] == 200
        assert srv.state.invalid == []
        # a response that breaks the StorageAccount schema is caught
        srv.state.storage_accounts[0]["properties"]["minimumTlsVersion"] = 12
        _get(accounts + "?api-version=2023-05-01")
        assert any("minimumTlsVersion" in p for _, problems in srv.state.invalid for p in problems)
        srv.state.invalid.clear()
        # a wrong api-version, an operation no swagger has, a missing token
        assert _get(accounts + "?api-version=2021-01-01")[0] == 400
        assert _get(f"{srv.url}{ACCT_EVENTS}/listKeys?api-version=2023-05-01")[0] == 404
        req = urllib.request.Request(accounts + "?api-version=2023-05-01")
        try:
            urllib.request.urlopen(req)
        except urllib.error.HTTPError as err:
            assert err.code == 401
        assert len(srv.state.invalid) == 3


def test_role_assignments_at_scope_are_those_at_and_above_it() -> None:
    with ArmServer() as srv:
        fill(srv.state)
        srv.state.page_size = 100
        scope = f"{ACCT_EVENTS}/blobServices/default/containers/raw"
        url = f"{srv.url}{scope}/providers/Microsoft.Authorization/roleAssignments"
        _, body = _get(url + "?%24filter=atScope%28%29&api-version=2022-04-01")
        scopes = {a["properties"]["scope"] for a in body["value"]}
        assert scopes == {f"/subscriptions/{SUB}", ACCT_EVENTS}
        _, below = _get(
            f"{srv.url}/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
        )
        assert len(below["value"]) == len(srv.state.role_assignments)  # no filter: at, above and below
        assert srv.state.invalid == []
