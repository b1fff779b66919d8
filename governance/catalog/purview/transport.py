"""Purview's endpoints over the shared Azure transport (`governance.azure.transport.AzureHttp`).

Two planes of one account: the Data Map (`{endpoint}/datamap/api`) and scanning (`{endpoint}/scan`), both
api-version 2023-09-01, token scope https://purview.azure.net/.default. Retries, Retry-After, the request
budget (`catalog.purview.operations_per_second`), read/write counts and redaction are the transport's.
Every write here is safe to repeat (bulk entity writes upsert by qualified name, setClassifications sets,
creates that hit 409 are re-read and converged), so POSTs are retried too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.azure.transport import AzureHttp, Conflict, Counts
from governance.config import PurviewCatalog, check_endpoint, expand_env

API_VERSION = "2023-09-01"
SCOPE = "https://purview.azure.net/.default"
PAGE = 1000  # limit asked for in limit/offset lists; the service may answer with fewer

__all__ = ["API_VERSION", "SCOPE", "Conflict", "PurviewHttp", "chunks"]


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _is_read(method: str, url: str) -> bool:
    return method.upper() == "GET" or url.split("?")[0].endswith("/search/query")  # a search reads


class PurviewHttp:
    """`call` one Data Map / scanning operation; `offset_pages` through a limit/offset list."""

    def __init__(self, cfg: PurviewCatalog, counts: Counts) -> None:
        self.endpoint = check_endpoint(expand_env(cfg.endpoint, cfg.where), cfg.where).rstrip("/")
        self.http = AzureHttp(
            "purview",
            scope=SCOPE,
            max_retries=cfg.max_retries,
            backoff=cfg.retry_backoff,
            per_second=cfg.operations_per_second,
            timeout=cfg.timeout,
            counts=counts,
            is_read=_is_read,
        )

    def close(self) -> None:
        self.http.close()

    def url(self, path: str, plane: str = "datamap") -> str:
        return f"{self.endpoint}/datamap/api{path}" if plane == "datamap" else f"{self.endpoint}/scan{path}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        plane: str = "datamap",
        ok_missing: bool = False,
    ) -> Any:
        """Parsed JSON (None on 204 / an empty body, or on 404 when `ok_missing`); 409 raises Conflict."""
        query: list[tuple[str, str]] = [("api-version", API_VERSION)]
        if isinstance(params, dict):
            for k, v in params.items():
                for item in v if isinstance(v, list) else [v]:
                    query.append((k, str(item).lower() if isinstance(item, bool) else str(item)))
        elif params:
            query += params
        resp = self.http.send(
            method,
            self.url(path, plane),
            params=query,
            json_body=body,
            ok_missing=ok_missing,
            retry_write=True,
        )
        return None if resp.status == 404 else resp.body

    def offset_pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a limit/offset list (glossaries, terms, assigned entities): pages until one comes
        back empty — the service may cap `limit` below what was asked, so a short page is not the end."""
        offset = 0
        while True:
            page = self.call("GET", path, params={**(params or {}), "limit": PAGE, "offset": offset}) or []
            if not page:
                return
            yield from page
            offset += len(page)

    def next_link_pages(self, path: str, plane: str = "scan") -> Iterator[dict[str, Any]]:
        """Every item of a `{value, nextLink}` list (scanning rules)."""
        yield from self.http.pages(self.url(path, plane), params={"api-version": API_VERSION})
