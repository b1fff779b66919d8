"""Scopes and transport rules for Azure Monitor endpoints; the credential is the project's one builder
(`governance.azure.credential`). Tokens are never logged. Plain HTTP is allowed only on loopback (checked by
governance.config.check_endpoint); azure-core refuses bearer tokens over HTTP unless told, so the
`enforce_https` flag is derived from the endpoint here and nowhere else.
"""

from __future__ import annotations

from urllib.parse import urlparse

from governance.azure.credential import TOKEN_ENV, StaticTokenCredential, bearer, credential

__all__ = ["TOKEN_ENV", "StaticTokenCredential", "bearer", "credential", "enforce_https"]

ARM_SCOPE = "https://management.azure.com/.default"
METRICS_SCOPE = "https://monitoring.azure.com/.default"  # custom metrics ingestion audience
INGESTION_SCOPE = "https://monitor.azure.com/.default"  # Logs Ingestion API audience
LOGS_QUERY_AUDIENCE = "https://api.loganalytics.io"


def enforce_https(url: str) -> bool:
    """False only for a plain-HTTP endpoint (config validation already limited those to loopback)."""
    return urlparse(url).scheme != "http"
