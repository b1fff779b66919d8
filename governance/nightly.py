"""`smartflow-gov nightly`: the main job. Runs every capability in order, records each step's result, and
keeps going when one step (or one dataset inside a step) fails, so the reports always say what happened.

Capabilities are reached only through their service functions (imported when the step runs), so a
capability that is not installed is recorded as that step's error instead of breaking the job. A lock
file in the state dir keeps two runs off one state dir; the run summary (and every step's payload, for
the reports) is stored under state_dir/runs/.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from governance.errors import ExitCode, GovernanceError, InfraError, InputError
from governance.project import Project
from governance.results import StepResult, worst
from governance.runs import append_history, store_run
from governance.specs.quality_run import SuiteResult

log = logging.getLogger(__name__)

NOT_INSTALLED = "capability not installed"
STATUS = {
    ExitCode.OK: "ok",
    ExitCode.CHECK_FAILED: "failed",
    ExitCode.BAD_INPUT: "error",
    ExitCode.INFRA: "error",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------- steps
class Skip(Exception):
    """Raised by a step that has nothing to do (not a failure): recorded as `skipped` with the reason."""


class CapabilityMissing(Exception):
    pass


def service(module: str, attr: str) -> Callable[..., Any]:
    """A capability's service function, or CapabilityMissing when that capability is not installed."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise CapabilityMissing(f"{NOT_INSTALLED} ({module})") from None
        raise
    fn = getattr(mod, attr, None)
    if fn is None:
        raise CapabilityMissing(f"{NOT_INSTALLED} ({module}.{attr})")
    return fn


@dataclass
class Context:
    """What steps share during one run."""

    project: Project
    run_id: str
    started_at: datetime
    results: dict[str, StepResult] = field(default_factory=dict)
    records: list[StepRecord] = field(default_factory=list)

    @property
    def apply(self) -> bool:
        """Catalog changes are applied only when configured, and never after a failed validation."""
        if self.project.config.catalog.mode != "apply":
            return False
        v = self.results.get("validate")
        return v is None or v.ok


class StepFn(Protocol):
    def __call__(self, ctx: Context) -> StepResult: ...


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    fn: StepFn


def _validate(ctx: Context) -> StepResult:
    from governance.validation import validate_project

    problems = validate_project(ctx.project, check_data=True)
    payload = {
        "valid": not problems,
        "files": len(ctx.project.docs),
        "problems": [{"where": str(p.where), "message": p.message} for p in problems],
    }
    return StepResult(payload, ExitCode.BAD_INPUT if problems else ExitCode.OK)


def _sync(kind: str) -> StepFn:
    def run(ctx: Context) -> StepResult:
        sync = service("governance.catalog.service", "sync")
        result: StepResult = sync(ctx.project, kind, apply=ctx.apply)
        result.extra.setdefault("mode", "apply" if ctx.apply else "plan")
        return result

    return run


def _sync_domains(ctx: Context) -> StepResult:
    sync_domains = service("governance.catalog.unified.service", "sync_domains")
    result: StepResult = sync_domains(ctx.project, apply=ctx.apply)
    result.extra.setdefault("mode", "apply" if ctx.apply else "plan")
    return result


def _lineage_build(ctx: Context) -> StepResult:
    result: StepResult = service("governance.lineage.service", "build")(ctx.project)
    return result


def _lineage_push(ctx: Context) -> StepResult:
    built = ctx.results.get("lineage-build")
    if built is None or "edges" not in built.payload:
        raise Skip("no lineage graph (lineage build did not succeed)")
    push = service("governance.catalog.lineage_sync", "push_lineage")
    result: StepResult = push(ctx.project, built.payload, apply=ctx.apply)
    return result


def _drift(ctx: Context) -> StepResult:
    result: StepResult = service("governance.catalog.service", "drift")(ctx.project)
    return result


def _per_dataset(
    ctx: Context, fn: Callable[..., StepResult], datasets: list[str], merge_key: str
) -> StepResult:
    """Run a service over everything at once; if it breaks, run it dataset by dataset so one bad dataset
    is recorded as that dataset's error and the others still get their results."""
    try:
        return fn(ctx.project)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - isolate the failing dataset below
        log.warning("whole-project call failed (%s); retrying dataset by dataset", exc)
    merged: list[Any] = []
    errors: list[dict[str, Any]] = []
    codes: list[int] = []
    payload: dict[str, Any] = {}
    for ds in datasets:
        try:
            r = fn(ctx.project, datasets=[ds])
        except Exception as exc:  # noqa: BLE001 - recorded per dataset, the run goes on
            code = exc.exit_code if isinstance(exc, GovernanceError) else ExitCode.INFRA
            errors.append({"dataset": ds, "exit_code": int(code), "error": _message(exc)})
            codes.append(code)
            continue
        codes.append(r.exit_code)
        merged.extend(r.payload.get(merge_key, []))
        payload.update({k: v for k, v in r.payload.items() if k != merge_key})
    payload[merge_key] = merged
    payload["errors"] = errors
    if "success" in payload:
        payload["success"] = not errors and all(s.get("success", True) for s in merged)
    return StepResult(payload, worst(*codes))


def _quality(ctx: Context) -> StepResult:
    run = service("governance.quality.service", "run")
    datasets = sorted({s.dataset for s in ctx.project.suites})
    return _per_dataset(ctx, run, datasets, "suites")


def _pii(ctx: Context) -> StepResult:
    scan = service("governance.pii.service", "scan")
    return _per_dataset(ctx, scan, sorted(ctx.project.config.datasets), "findings")


def _freshness(ctx: Context) -> StepResult:
    result: StepResult = service("governance.monitor.freshness", "check")(ctx.project)
    return result


def _access(ctx: Context) -> StepResult:
    from governance.access.service import check

    result = check(ctx.project)
    if not result.payload.get("checked"):
        ctx.results["access"] = result  # the audit report still shows why nothing was checked
        raise Skip(result.payload.get("reason") or "nothing to check")
    return result


def _azure_access(ctx: Context) -> StepResult:
    if ctx.project.config.azure is None:
        raise Skip("no `azure:` section in smartflow.yaml")
    sources = ["azure", "synapse"] if ctx.project.config.azure.synapse else ["azure"]
    result: StepResult = service("governance.access.azure_service", "access_check")(ctx.project, sources)
    return result


def _posture(ctx: Context) -> StepResult:
    if ctx.project.config.azure is None:
        raise Skip("no `azure:` section in smartflow.yaml")
    if not ctx.project.posture_files:
        raise Skip("no policies/posture.yaml")
    result: StepResult = service("governance.access.azure_service", "posture_check")(ctx.project)
    return result


def _anomalies(ctx: Context) -> StepResult:
    result: StepResult = service("governance.monitor.anomaly", "detect")(ctx.project)
    return result


def _emit(ctx: Context) -> StepResult:
    result: StepResult = service("governance.monitor.service", "emit")(ctx.project)
    return result


def _alerts(ctx: Context) -> StepResult:
    result: StepResult = service("governance.monitor.alerts.evaluate", "evaluate")(ctx.project)
    return result


def _reports(ctx: Context) -> StepResult:
    from governance.reports.service import metric_history, render

    summary = build_summary(ctx, finished=utcnow(), include_results=True)
    store_run(ctx.project.state_dir, summary)  # the reports read this run, including its failures
    outputs: list[dict[str, Any]] = []
    codes = []
    history = metric_history(ctx.project)  # both reports draw from the same history
    for kind in ("nightly", "audit"):
        r = render(ctx.project, kind, run=summary, history=history)
        outputs.append(r.payload)
        codes.append(r.exit_code)
    return StepResult({"reports": outputs}, worst(*codes))


# Anomaly detection runs before the metrics are emitted and the alert rules evaluated, so the anomalies
# it records are sent and alerted on in the same run.
STEPS: tuple[Step, ...] = (
    Step("validate", "Validate declarations", _validate),
    Step("sync-glossary", "Catalog sync: glossary", _sync("glossary")),
    Step("sync-classifications", "Catalog sync: classifications", _sync("classifications")),
    Step("sync-domains", "Catalog sync: domains, data products, CDEs", _sync_domains),
    Step("lineage-build", "Lineage build", _lineage_build),
    Step("lineage-push", "Lineage push", _lineage_push),
    Step("catalog-drift", "Catalog drift", _drift),
    Step("quality", "Quality suites", _quality),
    Step("pii", "PII scan", _pii),
    Step("freshness", "Freshness", _freshness),
    Step("access", "Access policies", _access),
    Step("access-azure", "Access on Azure (RBAC, Synapse)", _azure_access),
    Step("posture", "Storage posture", _posture),
    Step("anomalies", "Anomaly detection", _anomalies),
    Step("metrics-emit", "Metrics emit", _emit),
    Step("alerts-evaluate", "Alerts evaluate", _alerts),
    Step("reports", "Reports", _reports),
)
STEP_NAMES = tuple(s.name for s in STEPS)


# --------------------------------------------------------------------------------------------- records
@dataclass
class StepRecord:
    name: str
    title: str
    status: str  # ok | failed | error | skipped
    exit_code: int
    started_at: datetime
    duration_seconds: float
    summary: str
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "exit_code": self.exit_code,
            "started_at": iso(self.started_at),
            "duration_seconds": round(self.duration_seconds, 3),
            "summary": self.summary,
            "error": self.error,
        }


def _message(exc: BaseException) -> str:
    if isinstance(exc, InputError):
        return "; ".join(str(p) for p in exc.problems[:10]) + (
            f" (+{len(exc.problems) - 10} more)" if len(exc.problems) > 10 else ""
        )
    text = str(exc) or type(exc).__name__
    return (
        text
        if isinstance(exc, GovernanceError | CapabilityMissing | Skip)
        else f"{type(exc).__name__}: {text}"
    )


def run_step(step: Step, ctx: Context) -> StepRecord:
    started = utcnow()
    t0 = time.perf_counter()
    error: str | None = None
    try:
        result = step.fn(ctx)
        ctx.results[step.name] = result
        code = int(result.exit_code)
        status = STATUS.get(ExitCode(code), "error")
        summary = summarize(step.name, result)
        error = dataset_errors(result.payload) if code >= ExitCode.BAD_INPUT else None
    except Skip as exc:
        code, status, summary, error = ExitCode.OK, "skipped", str(exc), None
    except CapabilityMissing as exc:
        code, status, summary, error = ExitCode.INFRA, "error", NOT_INSTALLED, str(exc)
    except GovernanceError as exc:
        code, status, error = exc.exit_code, "error", _message(exc)
        summary = error.splitlines()[0][:200]
    except Exception as exc:  # noqa: BLE001 - one broken step must not stop the job
        log.debug("step %s failed:\n%s", step.name, traceback.format_exc())
        code, status, error = ExitCode.INFRA, "error", _message(exc)
        summary = error.splitlines()[0][:200]
    return StepRecord(
        step.name, step.title, status, int(code), started, time.perf_counter() - t0, summary, error
    )


# --------------------------------------------------------------------------------------------- summaries
def _counts(payload: dict[str, Any]) -> str:
    s = payload.get("summary")
    if isinstance(s, dict):
        return ", ".join(f"{k} {v}" for k, v in s.items() if isinstance(v, int | float | str))
    return ""


def summarize(name: str, result: StepResult) -> str:
    """One line per step for people (progress, text output, the report's run table)."""
    p = result.payload
    try:
        if name == "validate":
            n = len(p.get("problems", []))
            return f"{p.get('files', 0)} files valid" if not n else f"{n} problem(s)"
        if name.startswith("sync-"):
            mode = result.extra.get("mode", "plan")
            return f"{mode}: {_counts(p) or 'no changes'}"
        if name == "lineage-build":
            return (
                f"{len(p.get('datasets', []))} datasets, {len(p.get('edges', []))} edges, "
                f"{len(p.get('column_edges', []))} column edges, {len(p.get('problems', []))} problems"
            )
        if name == "catalog-drift":
            changes = [c for c in p.get("changes", []) if c.get("action") != "noop"]
            return f"{len(changes)} drifted object(s)" if changes else "no drift"
        if name == "quality":
            suites = [SuiteResult.model_validate(s) for s in p.get("suites", [])]
            stats = [s.statistics for s in suites]
            failed = sum(1 for st in stats if st.unsuccessful_expectations)
            evaluated = sum(st.evaluated_expectations for st in stats)
            bad = sum(st.unsuccessful_expectations for st in stats)
            errored = sum(st.errored_expectations for st in stats)
            errs = len(p.get("errors", []))
            text = f"{len(suites)} suites, {failed} failed; {bad}/{evaluated} expectations unsuccessful"
            text += f"; {errored} could not be evaluated" if errored else ""
            return text + (f"; {errs} dataset error(s)" if errs else "")
        if name == "pii":
            findings = p.get("findings", [])
            und = sum(1 for f in findings if f.get("status") == "undeclared")
            return f"{len(findings)} findings, {und} undeclared"
        if name == "freshness":
            ds = p.get("datasets", [])
            stale = sum(1 for d in ds if d.get("stale"))
            missing = sum(len(d.get("missing_partitions") or []) for d in ds)
            return f"{len(ds)} datasets, {stale} stale, {missing} missing partition(s)"
        if name == "access":
            return f"{len(p.get('violations', []))} violation(s) on {len(p.get('tables', []))} table(s)"
        if name == "access-azure":
            return f"{len(p.get('violations', []))} violation(s) ({', '.join(p.get('sources', []))})"
        if name == "posture":
            return f"{len(p.get('findings', []))} finding(s) on {len(p.get('accounts', []))} account(s)"
        if name == "anomalies":
            return f"{len(p.get('anomalies', []))} anomalies"
        if name == "reports":
            return ", ".join(Path(r.get("html", "")).name for r in p.get("reports", []))
    except (AttributeError, TypeError, ValidationError):
        pass
    return _counts(p) or ", ".join(f"{k}: {len(v)}" for k, v in p.items() if isinstance(v, list)) or "done"


def dataset_errors(payload: dict[str, Any]) -> str | None:
    """The per-dataset errors inside a step's payload, as one line (None when there are none)."""
    found: list[str] = []
    for key in ("errors", "suites", "datasets", "findings"):
        items = payload.get(key)
        for it in items if isinstance(items, list) else []:
            if isinstance(it, dict) and it.get("error"):
                found.append(f"{it.get('dataset') or it.get('suite_name') or '?'}: {it['error']}")
    for p in payload.get("problems", []) if isinstance(payload.get("problems"), list) else []:
        if isinstance(p, dict) and p.get("message"):
            found.append(f"{p.get('where', '')}: {p['message']}")
    unique = list(dict.fromkeys(found))
    return (
        "; ".join(unique[:10]) + (f" (+{len(unique) - 10} more)" if len(unique) > 10 else "")
        if unique
        else None
    )


def build_summary(ctx: Context, finished: datetime, include_results: bool = False) -> dict[str, Any]:
    codes = [r.exit_code for r in ctx.records]
    summary: dict[str, Any] = {
        "run_id": ctx.run_id,
        "project": ctx.project.config.project,
        "started_at": iso(ctx.started_at),
        "finished_at": iso(finished),
        "duration_seconds": round((finished - ctx.started_at).total_seconds(), 3),
        "exit_code": int(worst(*codes)),
        "catalog_mode": "apply" if ctx.apply else "plan",
        "steps": [r.as_dict() for r in ctx.records],
    }
    if include_results:
        summary["results"] = {name: r.payload for name, r in ctx.results.items()}
    return summary


# --------------------------------------------------------------------------------------------- lock
def lock_path(state_dir: Path) -> Path:
    return state_dir / "nightly.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def nightly_lock(state_dir: Path) -> Iterator[Path]:
    """Exclusive lock on the state dir. A lock left by a dead process on this host is taken over."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(state_dir)
    host = socket.gethostname()
    info = json.dumps({"pid": os.getpid(), "host": host, "started_at": iso(utcnow())})
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(path.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                held = {}
            pid = int(held.get("pid") or 0)
            if held.get("host", host) == host and pid and not _alive(pid):
                log.warning("removing stale nightly lock of dead process %s", pid)
                path.unlink(missing_ok=True)
                continue
            if not held:  # being written right now by another process
                time.sleep(0.2)
                continue
            raise InfraError(
                f"another nightly run holds {path} (pid {held.get('pid')} on {held.get('host')}, "
                f"since {held.get('started_at')}); remove the file only if that process is gone"
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(info)
        break
    else:
        raise InfraError(f"could not take the nightly lock {path}")
    try:
        yield path
    finally:
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


# --------------------------------------------------------------------------------------------- the run
class Progress(Protocol):
    def start(self, step: Step, index: int, total: int) -> None: ...
    def done(self, record: StepRecord, index: int, total: int) -> None: ...


def new_run_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def run_nightly(
    project: Project, progress: Progress | None = None, only: list[str] | None = None
) -> StepResult:
    """Run the job (all steps, or `only` those named) and return the run summary as a StepResult."""
    from governance.metrics import Metric, record
    from governance.validation import remembered

    steps = [s for s in STEPS if not only or s.name in only]
    with nightly_lock(project.state_dir), remembered():  # the steps validate one unchanged project
        started = utcnow()
        ctx = Context(project, new_run_id(started), started)
        for i, step in enumerate(steps, 1):
            if progress:
                progress.start(step, i, len(steps))
            rec = run_step(step, ctx)
            ctx.records.append(rec)
            if progress:
                progress.done(rec, i, len(steps))
        finished = utcnow()
        summary = build_summary(ctx, finished, include_results=True)
        store_run(project.state_dir, summary)
        append_history(project.state_dir, summary)
        metrics = [
            Metric(
                "run_duration_seconds", summary["duration_seconds"], {"job": "nightly"}, finished, ctx.run_id
            )
        ] + [
            Metric(
                "run_duration_seconds",
                r.duration_seconds,
                {"job": "nightly", "step": r.name},
                finished,
                ctx.run_id,
            )
            for r in ctx.records
        ]
        record(project.state_dir, metrics)
    public = {k: v for k, v in summary.items() if k != "results"}
    return StepResult(public, summary["exit_code"], extra={"results": ctx.results})
