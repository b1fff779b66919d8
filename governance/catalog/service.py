"""Catalog services: sync (plan / apply / prune) and drift, for the CLI, nightly and reports."""

from __future__ import annotations

import logging
import time
from typing import Any

from governance.catalog.backends import open_backend
from governance.catalog.backends.base import CatalogBackend
from governance.catalog.model import CatalogState, desired_state, glossary_coverage_percent
from governance.catalog.plan import UNKNOWN_TARGET, Change, Plan, plan_classifications, plan_glossary
from governance.errors import ExitCode, InputError
from governance.metrics import Metric, record
from governance.project import Project
from governance.results import StepResult
from governance.specs.catalog_sync import DriftClass

log = logging.getLogger(__name__)

KINDS = ("glossary", "classifications")


def check_inputs(project: Project) -> None:
    """Bad glossary or classification files (unknown term, dataset, column, label…) are bad input:
    exit 2 with FILE:LINE, nothing read or written. Problems of other capabilities' files do not block."""
    from governance.validation import validate_project

    mine = ("glossary/", "classifications/")
    problems = [p for p in validate_project(project, check_data=False) if p.where.file.startswith(mine)]
    if problems:
        raise InputError(problems)


def _plan(kind: str, desired: CatalogState, live: CatalogState, prune: bool, force: bool) -> list[Change]:
    if kind == "glossary":
        return plan_glossary(desired, live, prune, force)
    if kind == "classifications":
        return plan_classifications(desired, live, prune, force)
    raise InputError(f"unknown sync kind {kind!r} (expected one of {', '.join(KINDS)})")


def sync(
    project: Project,
    kind: str,
    apply: bool,
    prune: bool = False,
    force: bool = False,
    backend: CatalogBackend | None = None,
) -> StepResult:
    """Plan (and with `apply`, execute) the catalog changes that make the catalog match the files.

    The payload is SPEC §4's sync JSON; `requests` counts every request made (reads and writes).
    """
    if kind not in KINDS:
        raise InputError(f"unknown sync kind {kind!r} (expected one of {', '.join(KINDS)})")
    if kind == "glossary" and backend is None:  # Unified Catalog terms (SPEC §6.7)
        from governance.catalog.unified.service import glossary_mode, sync_terms

        mode = glossary_mode(project)
        if mode != "classic":
            classic = None if mode == "unified" else _sync(project, kind, apply, prune, force, None)
            return sync_terms(project, apply, prune, classic)
    return _sync(project, kind, apply, prune, force, backend)


def _sync(
    project: Project, kind: str, apply: bool, prune: bool, force: bool, backend: CatalogBackend | None
) -> StepResult:
    started = time.monotonic()
    check_inputs(project)
    desired = desired_state(project)
    own = backend is None
    be = backend or open_backend(project)
    try:
        live = be.read(desired, {kind})
        plan = Plan(be.name, _plan(kind, desired, live, prune, force), warnings=list(desired.warnings))
        plan.warnings += getattr(be, "warnings", [])
        plan.warnings += [c.note for c in plan.changes if c.note and UNKNOWN_TARGET in c.note]
        if apply and plan.pending:
            be.apply(plan.changes, desired, live)
        plan.requests = be.requests.as_dict()
    finally:
        if own:
            be.close()
    if kind == "glossary":
        coverage = glossary_coverage_percent(project, desired)
        if coverage is not None and (apply or not plan.pending):
            record(project.state_dir, [Metric("glossary_coverage_percent", coverage, {"layer": "gold"})])
    title = f"sync-{kind}" + (" --apply" if apply else " --plan")
    payload = plan.payload(
        kind=kind, applied=bool(apply), pruned=bool(prune), seconds=round(time.monotonic() - started, 3)
    )
    extra: dict[str, Any] = {"changes": len(plan.pending)}
    return StepResult(payload, ExitCode.OK, plan.text(title, applied=apply), extra)


def drift(project: Project, backend: CatalogBackend | None = None) -> StepResult:
    """Differences between the catalog and the files, without changing anything:
    `changed` (a managed object edited outside the files), `missing` (declared, absent: removed by hand
    or not yet applied), `orphaned` (managed, no longer in the files) and `unmanaged` additions."""
    check_inputs(project)
    desired = desired_state(project)
    own = backend is None
    be = backend or open_backend(project)
    from governance.catalog.unified.service import drift_changes, glossary_mode

    try:
        live = be.read(desired, set(KINDS))
        # with `glossary: unified` the terms live in the Unified Catalog only, not the Data Map glossary
        glossary = [] if glossary_mode(project) == "unified" else plan_glossary(desired, live)
        changes = glossary + plan_classifications(desired, live)
        requests = be.requests.as_dict()
    finally:
        if own:
            be.close()
    name = be.name
    unified = drift_changes(project) if backend is None else None  # SPEC §6.7 objects, when configured
    if unified is not None:
        changes += unified.changes
        requests = {
            k: requests.get(k, 0) + unified.requests.get(k, 0) for k in {*requests, *unified.requests}
        }
        desired.warnings += unified.warnings
        name = f"{name}+{unified.backend}"
    items: list[Change] = []
    for c in changes:
        if c.action == "update":
            c.note = "changed outside the files" + (f"; {c.note}" if c.note else "")
            items.append(c)
        elif c.action == "create":
            c.note = "missing from the catalog (removed by hand, or not applied yet)"
            items.append(c)
        elif c.action == "noop" and c.note and (not c.managed or "--prune" in c.note):
            items.append(c)
    plan = Plan(name, items, warnings=list(desired.warnings), requests=requests)
    result = plan.result(drift=len(items))
    for change, c in zip(result.changes, items, strict=True):
        change.drift = _drift_class(c)
    payload = result.dump()
    text = plan.text("catalog drift", applied=False) if items else f"catalog drift ({name}): none"
    return StepResult(payload, ExitCode.OK, text, {"drift": len(items)})


def _drift_class(c: Change) -> DriftClass:
    if c.action == "update":
        return "changed"
    if c.action == "create":
        return "missing"
    if not c.managed:
        return "unmanaged"
    return "orphaned"


def show(project: Project, name: str, backend: CatalogBackend | None = None) -> StepResult:
    """One dataset (with columns, classifications, terms) or one term (with its assignments)."""
    desired = desired_state(project)
    own = backend is None
    be = backend or open_backend(project)
    try:
        live = be.read(desired, set(KINDS))
    finally:
        if own:
            be.close()
    if name in live.terms:
        term = live.terms[name]
        payload: dict[str, Any] = {
            "term": name,
            **term.fields(),
            "managed": term.managed,
            "assigned_to": live.assigned(name),
        }
        lines = [
            f"term {name} ({term.status}){'' if term.managed else ' [unmanaged]'}",
            f"  {term.definition}",
        ]
        if term.parent:
            lines.append(f"  parent: {term.parent}")
        for k in ("stewards", "experts", "synonyms", "related"):
            if getattr(term, k):
                lines.append(f"  {k}: {', '.join(getattr(term, k))}")
        lines += [f"  assigned to {t}" for t in payload["assigned_to"]]
        return StepResult(payload, ExitCode.OK, "\n".join(lines))
    if name in live.entities or name in project.config.datasets:
        ent = live.entities.get(name)
        if ent is None:
            return StepResult(
                {"dataset": name, "in_catalog": False}, ExitCode.CHECK_FAILED, f"{name}: not in the catalog"
            )
        cols = sorted(
            (e for e in live.entities.values() if e.kind == "column" and e.dataset == name),
            key=lambda e: e.name,
        )

        def labels(n: str) -> list[str]:
            return sorted(lb for (e, lb) in live.classifications if e == n)

        def terms(n: str) -> list[str]:
            return sorted(t for (t, e) in live.assignments if e == n)

        payload = {
            "dataset": name,
            "in_catalog": True,
            "type_name": ent.type_name,
            "qualified_name": ent.qualified_name,
            "managed": ent.managed,
            "classifications": labels(name),
            "terms": terms(name),
            "columns": [
                {
                    "name": c.column,
                    "type": c.data_type,
                    "classifications": labels(c.name),
                    "terms": terms(c.name),
                }
                for c in cols
            ],
        }
        lines = [f"dataset {name} [{ent.type_name}] {ent.qualified_name}"]
        if payload["classifications"] or payload["terms"]:
            lines.append(
                f"  classifications: {', '.join(payload['classifications']) or '-'}; terms: {', '.join(payload['terms']) or '-'}"
            )
        for col in payload["columns"]:
            lines.append(
                f"  {col['name']:<28} {col['type'] or '':<16} {', '.join(col['classifications']) or '-':<24} {', '.join(col['terms'])}"
            )
        return StepResult(payload, ExitCode.OK, "\n".join(lines))
    raise InputError(f"'{name}' is neither a term nor a dataset in the catalog")
