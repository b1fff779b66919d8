"""Unified Catalog sync services: `sync-domains` and the Unified Catalog half of `sync-glossary`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from governance.catalog.backends.base import Requests
from governance.catalog.plan import Change, Plan
from governance.catalog.unified.model import UnifiedState, desired_state
from governance.catalog.unified.plan import plan_unified
from governance.errors import ExitCode, InputError
from governance.project import Project
from governance.results import StepResult
from governance.specs.catalog_sync import SyncRequests, SyncResult, SyncSummary

DOMAIN_KINDS = ("domain", "data_product", "critical_data_element")


class UnifiedBackend(Protocol):
    name: str
    warnings: list[str]

    @property
    def requests(self) -> Requests: ...

    def read(self, desired: UnifiedState, cached: bool = False) -> UnifiedState: ...

    def apply(self, changes: list[Change], desired: UnifiedState, live: UnifiedState) -> None: ...

    def close(self) -> None: ...


def glossary_mode(project: Project) -> str:
    """classic | unified | both: where sync-glossary writes terms (the local catalog is always classic)."""
    cat = project.config.catalog
    if cat.backend != "purview" or cat.purview is None:
        return "classic"
    return cat.purview.glossary


def open_unified(project: Project) -> UnifiedBackend:
    if project.config.catalog.backend == "purview":
        from governance.catalog.unified.remote import RemoteUnifiedCatalog

        return RemoteUnifiedCatalog(project)
    from governance.catalog.unified.local_store import LocalUnifiedStore

    return LocalUnifiedStore(project)


def _check_inputs(project: Project) -> None:
    from governance.validation import validate_project

    mine = ("domains/", "glossary/")
    problems = [p for p in validate_project(project, check_data=False) if p.where.file.startswith(mine)]
    if problems:
        raise InputError(problems)


def _contacts(project: Project, backend: UnifiedBackend) -> dict[str, str] | None:
    if backend.name == "local" or project.config.catalog.purview is None:
        return None
    return {k.lower(): v for k, v in project.config.catalog.purview.contacts.items()}


def run_sync(
    project: Project,
    what: str,
    apply: bool,
    prune: bool = False,
    backend: UnifiedBackend | None = None,
    refresh: bool = False,
) -> tuple[Plan, float]:
    """Plan (and with `apply`, execute) the Unified Catalog changes. `what`: "domains" or "terms".
    An apply reuses the relationships recorded for objects unchanged since (record.py) unless `refresh`;
    a plan always reads them all, so it is the drift check."""
    started = time.monotonic()
    _check_inputs(project)
    own = backend is None
    be = backend or open_unified(project)
    try:
        desired = desired_state(project, {what}, _contacts(project, be))
        live = be.read(desired, cached=apply and not refresh)
        if what == "domains":
            changes = plan_unified(desired, live, DOMAIN_KINDS, prune)
        else:
            changes = plan_unified(desired, live, ("term",), prune, create_only=("domain",))
        plan = Plan(be.name, changes, warnings=list(desired.warnings))
        if apply and plan.pending:
            be.apply(plan.changes, desired, live)
        plan.warnings += be.warnings
        plan.requests = be.requests.as_dict()
    finally:
        if own:
            be.close()
    return plan, time.monotonic() - started


def sync_domains(
    project: Project,
    apply: bool,
    prune: bool = False,
    backend: UnifiedBackend | None = None,
    refresh: bool = False,
) -> StepResult:
    plan, seconds = run_sync(project, "domains", apply, prune, backend, refresh)
    title = "sync-domains" + (" --apply" if apply else " --plan")
    payload = plan.payload(kind="domains", applied=bool(apply), pruned=bool(prune), seconds=round(seconds, 3))
    extra: dict[str, Any] = {"changes": len(plan.pending)}
    return StepResult(payload, ExitCode.OK, plan.text(title, applied=apply), extra)


def sync_terms(project: Project, apply: bool, prune: bool, classic: StepResult | None) -> StepResult:
    """sync-glossary with `glossary: unified|both`: the Unified Catalog terms, merged after the classic
    result when there is one (`both`)."""
    plan, seconds = run_sync(project, "terms", apply, prune)
    title = "sync-glossary (unified catalog)" + (" --apply" if apply else " --plan")
    text = plan.text(title, applied=apply)
    if classic is None:
        payload = plan.payload(
            kind="glossary", applied=bool(apply), pruned=bool(prune), seconds=round(seconds, 3)
        )
        return StepResult(payload, ExitCode.OK, text, {"changes": len(plan.pending)})
    merged = SyncResult.model_validate(classic.payload)
    unified = plan.result()
    merged.backend = f"{merged.backend}+unified"
    merged.changes = merged.changes + unified.changes
    merged.summary = SyncSummary(
        **{k: getattr(merged.summary, k) + getattr(unified.summary, k) for k in SyncSummary.model_fields}
    )
    merged.requests = SyncRequests(
        **{k: getattr(merged.requests, k) + getattr(unified.requests, k) for k in SyncRequests.model_fields}
    )
    merged.warnings = merged.warnings + unified.warnings
    payload = merged.dump()
    extra = dict(classic.extra)
    extra["changes"] = extra.get("changes", 0) + len(plan.pending)
    return StepResult(payload, classic.exit_code, f"{classic.text}\n{text}", extra)


@dataclass
class UnifiedDrift:
    backend: str
    changes: list[Change]
    requests: dict[str, int]
    warnings: list[str]


def drift_changes(project: Project, backend: UnifiedBackend | None = None) -> UnifiedDrift | None:
    """The Unified Catalog's plan for `catalog drift`: domains, products, CDEs and their relationships
    (when domains/*.yaml declares any) and terms with their relationships (when `glossary: unified|both`),
    read in full (never from the relationship record) and never applied. None when neither is configured."""
    what = set()
    if project.domain_files:
        what.add("domains")
    if glossary_mode(project) != "classic":
        what.add("terms")
    if not what:
        return None
    own = backend is None
    be = backend or open_unified(project)
    try:
        desired = desired_state(project, what, _contacts(project, be))
        live = be.read(desired, cached=False)
        kinds = (DOMAIN_KINDS if "domains" in what else ()) + (("term",) if "terms" in what else ())
        create_only = () if "domains" in what else ("domain",)
        changes = plan_unified(desired, live, kinds, prune=False, create_only=create_only)
        return UnifiedDrift(be.name, changes, be.requests.as_dict(), desired.warnings + be.warnings)
    finally:
        if own:
            be.close()
