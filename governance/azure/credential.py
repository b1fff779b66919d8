"""One credential builder for every Azure endpoint.

`SMARTFLOW_AZURE_TOKEN` (a static bearer token: tests, CI) wins over azure-identity's
`DefaultAzureCredential`, which never falls back to an interactive browser (a nightly job has no one
to click). The token never appears in `repr`, logs or errors.
"""

from __future__ import annotations

import os
import time
from typing import Any

TOKEN_ENV = "SMARTFLOW_AZURE_TOKEN"


class StaticTokenCredential:
    """A TokenCredential over a bearer token given by the environment."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def __repr__(self) -> str:  # never show the token
        return "StaticTokenCredential(***)"


def credential() -> Any:
    token = os.environ.get(TOKEN_ENV)
    if token:
        return StaticTokenCredential(token)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def bearer(cred: Any, scope: str) -> str:
    return f"Bearer {cred.get_token(scope).token}"
