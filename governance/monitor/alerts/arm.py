"""Talking to ARM about our three resource types through azure-mgmt-monitor's MonitorManagementClient,
whose pipeline is the shared Azure transport's (governance.azure.transport: retries, Retry-After, token).

Reads return the REST body with read-only fields stripped (model → `serialize()`), which is what a plan
compares with. Transport failures after the client's retries become InfraError (exit 3); a 4xx on write
is reported with ARM's message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from governance.errors import InfraError
from governance.monitor import azure_auth
from governance.monitor.alerts.resources import ACTION_GROUP, METRIC_ALERT, QUERY_RULE

if TYPE_CHECKING:
    from governance.project import Project


class Arm:
    def __init__(self, project: Project, credential: Any = None) -> None:
        from azure.core.pipeline.policies import ContentDecodePolicy
        from azure.mgmt.monitor import MonitorManagementClient

        from governance.azure.transport import AzureHttp

        cfg = project.config.alerts
        self.rg = cfg.resource_group or ""
        self.kw = {"enforce_https": azure_auth.enforce_https(cfg.arm_endpoint)}
        cred = credential or azure_auth.credential()
        # the SDK's models and operations over the shared transport's policies (one retry and
        # Retry-After behaviour, one credential)
        self.http = AzureHttp(
            "ARM", scope=azure_auth.ARM_SCOPE, credential=cred, max_retries=cfg.max_retries, backoff=0.3
        )
        self.client = MonitorManagementClient(
            cred,
            cfg.subscription_id or "",
            base_url=cfg.arm_endpoint,
            policies=[ContentDecodePolicy(), *self.http.policies()],
        )
        self.reads = 0
        self.writes = 0
        self._count = threading.Lock()

    def _ops(self, rtype: str) -> Any:
        return {
            METRIC_ALERT[0]: self.client.metric_alerts,
            QUERY_RULE[0]: self.client.scheduled_query_rules,
            ACTION_GROUP[0]: self.client.action_groups,
        }[rtype]

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError

        try:
            return fn()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            message = exc.error.message if exc.error is not None else str(exc).splitlines()[0]
            raise InfraError(f"ARM {what}: HTTP {exc.status_code}: {message}") from exc
        except ServiceRequestError as exc:
            raise InfraError(f"ARM {what}: endpoint unreachable ({exc.__class__.__name__})") from exc

    def get(self, rtype: str, name: str) -> dict[str, Any] | None:
        with self._count:
            self.reads += 1
        found = self._call(f"GET {name}", lambda: self._ops(rtype).get(self.rg, name, **self.kw))
        return None if found is None else found.serialize()

    def put(self, rtype: str, name: str, model: Any) -> None:
        self.writes += 1
        self._call(f"PUT {name}", lambda: self._ops(rtype).create_or_update(self.rg, name, model, **self.kw))

    def delete(self, rtype: str, name: str) -> None:
        self.writes += 1
        self._call(f"DELETE {name}", lambda: self._ops(rtype).delete(self.rg, name, **self.kw))

    def list(self, rtype: str) -> list[tuple[str, str, dict[str, str]]]:
        """(id, name, tags) of every resource of that type in the resource group."""
        self.reads += 1
        items = self._call(
            f"list {rtype}", lambda: list(self._ops(rtype).list_by_resource_group(self.rg, **self.kw))
        )
        return [(i.id, i.name, dict(i.tags or {})) for i in items or []]

    def close(self) -> None:
        self.client.close()
