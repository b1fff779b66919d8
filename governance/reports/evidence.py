"""What both reports read: the stored run (each step's status and payload) and the metric history.

A section of a report is built from one step's payload. When that step failed, was skipped or was not
run, the section says so (with the step's error) instead of showing an empty table as if all were well.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from governance.masking import mask
from governance.metrics import Metric
from governance.project import Project

# Shapes that are personal data whatever column they come from: masked even when not declared PII.
_LOOKS_PERSONAL = re.compile(
    r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"  # e-mail
    r"|(?<![A-Za-z0-9])\+?\d(?:[ ().\-]?\d){8,}"  # phone / card / account-like runs of 9+ digits
    r"|\b(?:\d{1,3}\.){3}\d{1,3}\b"  # IPv4
)


def parse_ts(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


@dataclass
class Section:
    """Availability of one report section: which step gave its data, when, and why it may be missing."""

    step: str
    available: bool
    status: str  # ok | failed | error | skipped | not run
    evidence_at: str | None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "available": self.available,
            "status": self.status,
            "evidence_at": self.evidence_at,
            "reason": self.reason,
        }


class Run:
    """A stored nightly run (see governance.runs.store_run), or none yet."""

    def __init__(self, data: dict[str, Any] | None) -> None:
        self.data = data or {}
        self.steps = {s["name"]: s for s in self.data.get("steps", [])}
        self.results: dict[str, Any] = self.data.get("results", {})

    @property
    def exists(self) -> bool:
        return bool(self.data)

    def payload(self, step: str) -> dict[str, Any] | None:
        p = self.results.get(step)
        return p if isinstance(p, dict) else None

    def section(self, step: str, evidence_key: str | None = None) -> Section:
        if not self.exists:
            return Section(
                step,
                False,
                "not run",
                None,
                "no nightly run has been stored yet (run `smartflow-gov nightly`)",
            )
        s = self.steps.get(step)
        payload = self.payload(step)
        if s is None:
            return Section(
                step, False, "not run", None, f"step '{step}' was not part of run {self.data.get('run_id')}"
            )
        at = (payload or {}).get(evidence_key or "", None) if payload else None
        at = iso(parse_ts(at)) or s.get("started_at")
        if payload is None:
            why = s.get("error") or s.get("summary") or s["status"]
            return Section(step, False, s["status"], at, f"step '{step}' {s['status']}: {why}")
        if s["status"] == "skipped":
            return Section(step, False, "skipped", at, f"step '{step}' skipped: {s.get('summary')}")
        reason = s.get("error") if s["status"] == "error" else None
        return Section(step, True, s["status"], at, reason)


def sensitive_columns(project: Project, run: Run) -> set[tuple[str, str]]:
    """Declared PII columns plus columns the PII scan found holding personal data."""
    out = {(ds, col) for (ds, col), labels in project.column_labels().items() if "PII" in labels}
    for f in (run.payload("pii") or {}).get("findings", []):
        if f.get("status") in ("undeclared", "confirmed"):
            out.add((f.get("dataset", ""), f.get("column", "")))
    return out


def safe_value(value: Any, dataset: str, column: str | None, sensitive: set[tuple[str, str]]) -> str | None:
    """A sample value as it may appear in a report: masked when the column is sensitive or the value
    looks personal (masking is idempotent, so an engine-masked sample stays as it was)."""
    if value is None:
        return None
    text = str(value)
    if (dataset, column or "") in sensitive or (_LOOKS_PERSONAL.search(text) and parse_ts(text) is None):
        return mask(text)
    return text if len(text) <= 60 else text[:57] + "…"


def layer_of(project: Project, dataset: str) -> str:
    ds = project.config.datasets.get(dataset)
    if ds is not None:
        return ds.layer
    head = dataset.split(".")[0]
    return head if head in ("bronze", "silver", "gold") else "other"


def group_runs(
    metrics: list[Metric],
) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[datetime, float]]]:
    """(name, dims) -> points; one point per run when metrics carry a run id (the run's first time)."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[datetime, float]]] = defaultdict(list)
    for m in metrics:
        dims = tuple(sorted((k, v) for k, v in m.dimensions.items()))
        out[(m.name, dims)].append((m.ts.astimezone(UTC), m.value))
    return out


def series_by_dataset(
    metrics: list[Metric],
    name: str,
    reducer: str = "last",
    exclude: tuple[str, ...] = (),
    by_time: bool = False,
) -> dict[str, list[tuple[datetime, float]]]:
    """dataset -> time series of `name`, points of one run (or, `by_time`, of one timestamp) merged by
    `reducer`: last | sum | min | max."""
    buckets: dict[str, dict[str, list[tuple[datetime, float]]]] = defaultdict(lambda: defaultdict(list))
    for m in metrics:
        if m.name != name or "dataset" not in m.dimensions or any(k in m.dimensions for k in exclude):
            continue
        key = m.ts.isoformat() if by_time or not m.run_id else m.run_id
        buckets[m.dimensions["dataset"]][key].append((m.ts.astimezone(UTC), m.value))
    out: dict[str, list[tuple[datetime, float]]] = {}
    for ds, runs in buckets.items():
        pts = []
        for vals in runs.values():
            ts = min(t for t, _ in vals)
            nums = [v for _, v in vals]
            agg = {"sum": sum(nums), "min": min(nums), "max": max(nums)}.get(reducer, nums[-1])
            pts.append((ts, agg))
        out[ds] = sorted(pts)
    return out


def iso(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if ts else None


def scrub(text: Any) -> str:
    """Free text (an error message) with anything that looks personal replaced by its masked form."""
    if text is None:
        return ""
    return _LOOKS_PERSONAL.sub(lambda m: mask(m.group(0)) or "", str(text))
