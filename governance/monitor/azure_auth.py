"""Credentials and transport rules for Azure Monitor endpoints.

`SMARTFLOW_AZURE_TOKEN` (a static bearer token: tests, CI) wins over azure-identity's
`DefaultAzureCredential`. Tokens are never logged. Plain HTTP is allowed only on loopback (checked by
governance.config.check_endpoint); azure-core refuses bearer tokens over HTTP unless told, so the
`enforce_https` flag is derived from the endpoint here and nowhere else.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import urlparse

TOKEN_ENV = "SMARTFLOW_AZURE_TOKEN"
ARM_SCOPE = "https://management.azure.com/.default"
METRICS_SCOPE = "https://monitoring.azure.com/.default"  # custom metrics ingestion audience
INGESTION_SCOPE = "https://monitor.azure.com/.default"  # Logs Ingestion API audience
LOGS_QUERY_AUDIENCE = "https://api.loganalytics.io"


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


def enforce_https(url: str) -> bool:
    """False only for a plain-HTTP endpoint (config validation already limited those to loopback)."""
    return urlparse(url).scheme != "http"


def bearer(cred: Any, scope: str) -> str:
    return f"Bearer {cred.get_token(scope).token}"
