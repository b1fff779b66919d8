"""Push the lineage graph (the `lineage build --output json` payload, SPEC §4) to the catalog.

Each job becomes a process (Purview: an entity of the custom process type `smartflow_process`, superType
Process, with a `columnMapping` attribute in Purview's column-mapping JSON) whose inputs and outputs are
the dataset entities under the scanner's qualified names. Same plan/apply discipline as the syncs: a
re-push of an unchanged graph writes nothing; managed processes of jobs that are gone are deleted.
"""

from __future__ import annotations

import json
from typing import Any

from governance.catalog.backends import open_backend
from governance.catalog.backends.base import CatalogBackend, ProcessState
from governance.catalog.model import CatalogState, desired_state
from governance.catalog.plan import Change, Plan, plan_entities
from governance.errors import ExitCode, InputError
from governance.project import Project
from governance.results import StepResult


def process_qualified_name(project: Project, job: str) -> str:
    return f"smartflow://{project.config.project}/jobs/{job}"


def _split(column_ref: str, datasets: set[str]) -> tuple[str, str] | None:
    """'silver.transactions.amount' → ('silver.transactions', 'amount'), by the longest known dataset."""
    best = max((d for d in datasets if column_ref.startswith(d + ".")), key=len, default=None)
    return (best, column_ref[len(best) + 1 :]) if best else None


def desired_processes(
    project: Project, graph: dict[str, Any], state: CatalogState
) -> tuple[dict[str, ProcessState], list[str]]:
    """Processes from the graph's jobs; datasets not declared in smartflow.yaml are left out (warned)."""
    if not isinstance(graph.get("jobs"), list):
        raise InputError(
            "lineage graph has no 'jobs' list (expected the `lineage build --output json` payload)"
        )
    declared = {n for n, e in state.entities.items() if e.kind == "dataset"}
    warnings: list[str] = []
    mappings: dict[str, dict[tuple[str, str], list[dict[str, str]]]] = {}
    for edge in graph.get("column_edges", []):
        if edge.get("transformation") == "filter":
            continue  # indirect (WHERE/JOIN/GROUP BY): Purview's columnMapping draws data flow only
        src, dst = _split(str(edge.get("from", "")), declared), _split(str(edge.get("to", "")), declared)
        job = str(edge.get("job", ""))
        if not (src and dst and job):
            continue
        pairs = mappings.setdefault(job, {}).setdefault((src[0], dst[0]), [])
        item = {"Source": src[1], "Sink": dst[1]}
        if item not in pairs:
            pairs.append(item)
    out: dict[str, ProcessState] = {}
    for job in graph["jobs"]:
        name = str(job["job"])
        ins: list[str] = []
        outs: list[str] = []
        sides: list[tuple[str, list[str], list[str]]] = [
            ("input", list(job.get("inputs", [])), ins),
            ("output", list(job.get("outputs", [])), outs),
        ]
        for side, names, target in sides:
            for ds in names:
                if ds in declared:
                    target.append(ds)
                else:
                    warnings.append(f"{name}: {side} {ds} is not a declared dataset; left out")
        mapping: list[dict[str, Any]] = []
        for (src_ds, dst_ds), cols in sorted(mappings.get(name, {}).items()):
            ordered = sorted(cols, key=lambda c: (c["Sink"], c["Source"]))
            datasets = {
                "Source": state.entities[src_ds].qualified_name,
                "Sink": state.entities[dst_ds].qualified_name,
            }
            mapping.append({"DatasetMapping": datasets, "ColumnMapping": ordered})
        out[name] = ProcessState(
            name,
            process_qualified_name(project, name),
            tuple(sorted(set(ins))),
            tuple(sorted(set(outs))),
            json.dumps(mapping, sort_keys=True, separators=(",", ":")),
        )
    return out, warnings


def plan_processes(desired: dict[str, ProcessState], live: dict[str, ProcessState]) -> list[Change]:
    out: list[Change] = []
    for name, d in sorted(desired.items()):
        cur = live.get(name)
        if cur is None:
            out.append(Change("create", "process", name, {}, d.fields()))
        elif cur.fields() != d.fields() or not cur.managed:
            out.append(Change("update", "process", name, cur.fields(), d.fields()))
        else:
            out.append(Change("noop", "process", name, {}, d.fields()))
    for name, cur in sorted(live.items()):
        if name in desired:
            continue
        if cur.managed:
            out.append(Change("delete", "process", name, cur.fields(), {}, "job no longer in the manifests"))
        else:
            out.append(Change("noop", "process", name, {}, cur.fields(), "unmanaged; left alone", False))
    return out


def push_lineage(
    project: Project, graph: dict[str, Any], apply: bool = True, backend: CatalogBackend | None = None
) -> StepResult:
    """Make the catalog's lineage processes match `graph`; payload is the sync JSON (kind "lineage")."""
    state = desired_state(project)
    processes, warnings = desired_processes(project, graph, state)
    needed = {ds for p in processes.values() for ds in p.inputs + p.outputs}
    own = backend is None
    be = backend or open_backend(project)
    try:
        live = be.read(state, set())
        entity_changes = plan_entities(state, live, needed, prune=False)
        live_processes = be.read_processes(processes)
        changes = entity_changes + plan_processes(processes, live_processes)
        plan = Plan(be.name, changes, warnings=warnings)
        if apply and plan.pending:
            be.apply(entity_changes, state, live)
            after = be.read(state, set()) if any(c.action == "create" for c in entity_changes) else live
            be.apply_processes(changes, processes, after)
        plan.requests = be.requests.as_dict()
    finally:
        if own:
            be.close()
    payload = plan.payload(kind="lineage", applied=bool(apply), processes=len(processes))
    title = "lineage push" + (" --apply" if apply else " --plan")
    return StepResult(payload, ExitCode.OK, plan.text(title, applied=apply), {"changes": len(plan.pending)})
