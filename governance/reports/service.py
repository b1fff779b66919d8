"""`render(project, kind)`: the nightly or audit report as one self-contained HTML file plus its JSON.

Reports are rendered from the latest stored nightly run (its step payloads) and the local metric history,
so `report nightly|audit` can be re-run at any time without touching the data. Templates autoescape;
SVG is produced by our own helpers with every text escaped; nothing is loaded from the network.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.errors import ExitCode, InputError
from governance.lock import write_atomic
from governance.project import Project
from governance.results import StepResult
from governance.runs import latest_run

KINDS = ("nightly", "audit")
TEMPLATES = Path(__file__).parent / "templates"
EXIT_WORDS = {0: "success", 1: "checks failed", 2: "bad input", 3: "infrastructure fault"}
HISTORY_DAYS = 120


def _env(state_dir: Path | None = None) -> Any:
    """Templates compiled once and kept under state_dir/cache/jinja (keyed by jinja on each template's
    source): compiling them was most of an unchanged nightly's report step."""
    from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader

    cache = None
    if state_dir is not None and state_dir.is_dir():
        folder = state_dir / "cache" / "jinja"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            cache = FileSystemBytecodeCache(str(folder))
        except OSError:
            cache = None  # only costs time
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=cache,
    )


def _by_layer(
    series: dict[str, list[tuple[datetime, float]]], project: Project, reducer: str
) -> list[tuple[str, list[tuple[datetime, float]]]]:
    """Series per dataset folded into one per layer (points of one run merged by time bucket)."""
    from governance.reports.evidence import layer_of

    buckets: dict[str, dict[str, list[tuple[datetime, float]]]] = defaultdict(lambda: defaultdict(list))
    for ds, pts in series.items():
        for ts, v in pts:
            buckets[layer_of(project, ds)][ts.strftime("%Y-%m-%dT%H")].append((ts, v))
    out: list[tuple[str, list[tuple[datetime, float]]]] = []
    for layer in ("bronze", "silver", "gold", "other"):
        if layer not in buckets:
            continue
        pts = []
        for vals in buckets[layer].values():
            nums = [v for _, v in vals]
            pts.append((min(t for t, _ in vals), max(nums) if reducer == "max" else sum(nums)))
        out.append((layer, sorted(pts)))
    return out


def _nightly_svg(project: Project, m: dict[str, Any]) -> dict[str, Any]:
    from governance.reports.lineage_svg import lineage_svg
    from governance.reports.svg import line_chart, meter, sparkline

    t = m["trends"]
    success = sorted(t["success_percent"].items())[:8]
    rows = sorted(
        t["row_count_by_partition"].items(), key=lambda kv: (not kv[0].startswith("silver"), kv[0])
    )[:8]
    lag_by_layer = {r["dataset"]: r for layer in m["scorecard"] for r in layer["datasets"]}
    return {
        "chart_success": line_chart("Quality success % per dataset", success, unit="%", threshold=99.0),
        "chart_rows": line_chart("Rows per partition day", rows),
        "chart_lag": line_chart(
            "Freshness lag per layer", _by_layer(t["freshness_lag_minutes"], project, "max"), unit="m"
        ),
        "chart_validated": line_chart(
            "Rows validated per run", _by_layer(t["rows_validated"], project, "sum")
        ),
        "sparks": {
            d["dataset"]: {
                "success": sparkline(
                    d["success_percent"], bad=bool(d["success_percent"]) and d["success_percent"][-1][1] < 99
                ),
                "rows": sparkline(d["rows"]),
                "lag": sparkline(
                    d["freshness_lag_minutes"], bad=bool(lag_by_layer.get(d["dataset"], {}).get("stale"))
                ),
            }
            for d in t["datasets"]
        },
        "meters": {r: meter(v["success_percent"]) for r, v in lag_by_layer.items()},
        "lineage": lineage_svg(
            m["lineage"]["nodes"],
            [(e[0], e[1]) for e in m["lineage"]["edges"]],
            {n: _layer(project, n) for n in m["lineage"]["nodes"]},
            m["lineage"]["status"],
        ),
    }


def _layer(project: Project, name: str) -> str:
    from governance.reports.evidence import layer_of

    return layer_of(project, name)


def _audit_svg(m: dict[str, Any]) -> dict[str, Any]:
    from governance.reports.svg import line_chart, meter

    return {
        "meters": {r["dataset"]: meter(r["percent"]) for r in m["glossary"]["datasets"]},
        "coverage": line_chart(
            "Coverage over time", list(m["coverage_trend"].items()), unit="%", y_max=100.0
        ),
    }


def _write(path: Path, text: str) -> None:
    write_atomic(path, text)


def metric_history(project: Project) -> list[Any]:
    """The metrics the reports draw from (the last HISTORY_DAYS days)."""
    from governance import metrics

    return metrics.query(project.state_dir, since=datetime.now(UTC) - timedelta(days=HISTORY_DAYS))


def build_model(
    project: Project, kind: str, run: dict[str, Any] | None = None, history: list[Any] | None = None
) -> dict[str, Any]:
    from governance.reports import audit_model, nightly_model
    from governance.reports.evidence import Run

    now = datetime.now(UTC)
    stored = Run(run if run is not None else latest_run(project.state_dir))
    if history is None:
        history = metric_history(project)
    if kind == "nightly":
        return nightly_model.build(project, stored, history, now)
    return audit_model.build(project, stored, now, history)


def render(
    project: Project,
    kind: str,
    out: str | Path | None = None,
    run: dict[str, Any] | None = None,
    history: list[Any] | None = None,
) -> StepResult:
    """Write reports/<kind>-<date>.html and .json (date of the run, UTC); `run` defaults to the latest,
    `history` (see metric_history) is read when not given."""
    from governance.output import dumps

    if kind not in KINDS:
        raise InputError(f"unknown report '{kind}' (choose from {', '.join(KINDS)})")
    m = build_model(project, kind, run, history)
    svg = _nightly_svg(project, m) if kind == "nightly" else _audit_svg(m)
    html = _env(project.state_dir).get_template(f"{kind}.html.j2").render(m=m, svg=svg, exit_words=EXIT_WORDS)
    day = (m["run"].get("started_at") or m["generated_at"])[:10]
    folder = Path(out) if out else project.reports_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # an --out the user cannot write to is a bad argument, not a crash
        raise InputError(f"cannot create report folder {folder}: {exc.strerror or exc}") from exc
    html_path = folder / f"{kind}-{day}.html"
    json_path = folder / f"{kind}-{day}.json"
    _write(html_path, html)
    _write(json_path, dumps(m) + "\n")
    payload = {
        "kind": kind,
        "html": str(html_path),
        "json": str(json_path),
        "run_id": m["run"].get("run_id"),
        "generated_at": m["generated_at"],
        "sections": {k: v["available"] for k, v in m["sections"].items()},
        "missing": sorted(k for k, v in m["sections"].items() if not v["available"]),
    }
    text = f"{kind} report: {html_path}" + (
        f" (data missing: {', '.join(payload['missing'])})" if payload["missing"] else ""
    )
    return StepResult(payload, ExitCode.OK, text)
