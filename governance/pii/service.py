"""`pii scan` as a service: scan datasets, compare with what is declared, record, suggest.

Each dataset is scanned on the engine where it lives (delta/parquet → DuckDB, sql → its SQLAlchemy
connection, spark → Spark) unless `engine` names another one that can reach it. A dataset whose engine
fails is reported with its error and the scan goes on (exit 3 at the end). Undeclared PII in silver or
gold exits 1; bronze findings are reported and do not fail the run.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from governance import metrics
from governance.errors import ExitCode, InfraError, InputError
from governance.pii import carry
from governance.pii import findings as fnd
from governance.pii.rules import DetectionRule, compile_rules
from governance.pii.scan import DatasetScan, Prior, scan_dataset
from governance.project import Project
from governance.results import StepResult, worst
from governance.specs.pii_scan import PiiDatasetScan, PiiFinding, PiiScanRun, PiiSuggest, PiiSummary

log = logging.getLogger("governance.pii")

ENGINES = ("duckdb", "sql", "spark")
_REACH = {"duckdb": ("delta", "parquet"), "sql": ("sql",), "spark": ("delta", "parquet", "spark")}
_DEFAULT_ENGINE = {"delta": "duckdb", "parquet": "duckdb", "sql": "sql", "spark": "spark"}


def engine_for(project: Project, dataset: str, requested: str | None) -> str:
    fmt = project.dataset(dataset).format
    if requested and fmt in _REACH[requested]:
        return requested
    return _DEFAULT_ENGINE[fmt]


def declared_labels(
    project: Project, dataset: str, columns: list[str], with_table: bool = True
) -> dict[str, set[str]]:
    """column → labels assigned to it (and to its table, unless `with_table` is False)."""
    mine = [a for a in project.assignments if a.dataset == dataset]
    table = {lb for a in mine for lb in a.table} if with_table else set()
    out: dict[str, set[str]] = {c: set(table) for c in columns}
    for a in mine:
        for column, labels in a.columns.items():
            out.setdefault(column, set(table)).update(labels)
    return out


def _scan_one(
    project: Project,
    dataset: str,
    kind: str,
    rules: list[DetectionRule],
    sample: int | None,
    seed: int,
    run_id: str,
) -> DatasetScan:
    """Scan one dataset on its own engine (closed afterwards); an engine that cannot open is its error.
    A Delta table unchanged since its last completed scan with the same rules and settings is carried;
    one that was only appended to is extended by the added files (see `governance.pii.carry`)."""
    layer = project.dataset(dataset).layer
    applicable = [r for r in rules if r.applies_to(layer)]
    cap = project.config.pii.max_candidates
    version = carry.data_version(project, dataset)
    if version is None:
        return _scan_fresh(project, dataset, kind, layer, applicable, sample, seed, cap)
    key = carry.scan_key(version.uri, applicable, kind, sample, seed, cap)
    stored = carry.load(project, dataset, key, applicable)
    added = None
    if stored is not None:
        added = carry.appended_files(version.uri, stored.version, version.version)
    if stored is not None and (stored.version == version.version or added == []):
        log.info("pii scan %s: data unchanged since run %s, measurements carried", dataset, stored.run_id)
        stored.scan.carried_from = stored.run_id
        if stored.version != version.version:
            carry.store(project, stored.scan, key, stored.run_id, version.version, stored.complete)
        return stored.scan
    prior = (stored, added) if stored is not None and added else None
    result = _scan_fresh(project, dataset, kind, layer, applicable, sample, seed, cap, prior)
    if result.extended_from:
        log.info(
            "pii scan %s: %d added rows scanned, run %s extended",
            dataset,
            result.rows_scanned,
            result.extended_from,
        )
    complete = result.complete is not False and (sample is None or result.sample_size < sample)
    carry.store(project, result, key, run_id, version.version, complete)
    return result


def _scan_fresh(
    project: Project,
    dataset: str,
    kind: str,
    layer: str,
    applicable: list[DetectionRule],
    sample: int | None,
    seed: int,
    cap: int,
    prior: tuple[carry.Stored, list[str]] | None = None,
) -> DatasetScan:
    from governance.lake.engines import open_engine

    started = time.perf_counter()
    try:
        engine = open_engine(project, kind, [dataset])
    except InputError:
        raise  # a missing ${VAR} or bad URL is bad input for the whole run, as everywhere else
    except Exception as exc:  # InfraError, or the engine's own (no Java for Spark, driver missing, …)
        error = (
            str(exc) if isinstance(exc, InfraError) else f"{kind} engine unavailable: {type(exc).__name__}"
        )
        return DatasetScan(dataset, layer, kind, error=error, seconds=time.perf_counter() - started)
    try:
        extend = None
        if prior is not None:
            stored, files = prior
            added = f"{dataset}__added"
            try:
                if engine.register_subset(dataset, added, set(files)) is not None:
                    extend = Prior(stored.scan, stored.run_id, added, stored.complete, len(files))
            except Exception as exc:  # the full scan below reads the table, and reports what is wrong
                log.debug("added files of %s not readable on their own (%s)", dataset, type(exc).__name__)
        return scan_dataset(engine, dataset, layer, applicable, sample, seed, cap, extend)
    finally:
        engine.close()


def scan(
    project: Project,
    datasets: list[str] | None = None,
    sample: int | None = None,
    suggest: str | Path | None = None,
    engine: str | None = None,
    seed: int | None = None,
) -> StepResult:
    """Scan `datasets` (default: every declared one) and report findings; see the module docstring.
    `sample` and `seed` default to smartflow.yaml `pii:` (10 000 rows, seed 42)."""
    if engine is not None and engine not in ENGINES:
        raise InputError(f"unknown engine '{engine}' (duckdb, sql, spark)")
    names = list(datasets) if datasets else sorted(project.config.datasets)
    for name in names:
        project.dataset(name)  # unknown names are a bad input before anything runs
    settings = project.config.pii
    size = settings.sample_size if sample is None else sample
    seed = settings.seed if seed is None else seed
    if size < 0:
        raise InputError("--sample must be 0 (every row) or a positive number of rows")
    rules = compile_rules(project.rules)
    run_id = uuid.uuid4().hex
    started_at = datetime.now(UTC)

    scans: list[DatasetScan] = []
    findings: list[fnd.Finding] = []
    for name in names:
        kind = engine_for(project, name, engine or settings.engine)
        log.info("pii scan %s on %s (sample %s rows)", name, kind, size or "all")
        result = _scan_one(project, name, kind, rules, size or None, seed, run_id)
        scans.append(result)
        if result.error:
            log.info("pii scan %s failed: %s", name, result.error)
            continue
        layer_rules = [r for r in rules if r.applies_to(result.layer)]
        all_columns = list(result.columns) + result.skipped_columns
        findings += fnd.dataset_findings(
            result,
            settings.free_text_minimum_percent,
            layer_rules,
            declared_labels(project, name, all_columns),
            all_columns,
            declared_labels(project, name, all_columns, with_table=False),
        )

    summary = {
        s: sum(1 for f in findings if f.status == s) for s in ("undeclared", "confirmed", "not_detected")
    }
    blocking = [f for f in findings if f.blocking]
    summary["blocking"] = len(blocking)
    summary["datasets"] = len(scans)
    summary["failed_datasets"] = sum(1 for s in scans if s.error)
    run = PiiScanRun(
        run_id=run_id,
        started_at=started_at.isoformat().replace("+00:00", "Z"),
        engine=engine or "auto",
        sample=size,
        seed=seed,
        rules=[r.name for r in rules],
        findings=[PiiFinding(**f.as_dict()) for f in findings],
        datasets=[PiiDatasetScan(**s.summary()) for s in scans],
        summary=PiiSummary(**summary),
    )
    if suggest is not None:
        from governance.pii import suggest as sug

        path = Path(suggest)
        run.suggest = PiiSuggest(path=str(path), assignments=sug.write(path, findings))
    payload = run.dump()

    _record(project, scans, findings, run_id)
    _save(project, payload)
    code = worst(
        ExitCode.CHECK_FAILED if blocking else ExitCode.OK,
        ExitCode.INFRA if summary["failed_datasets"] else ExitCode.OK,
    )
    return StepResult(payload, code, render_text(payload), {"findings": findings, "scans": scans})


def _record(project: Project, scans: list[DatasetScan], findings: list[fnd.Finding], run_id: str) -> None:
    rows = []
    for s in scans:
        if s.error:
            continue
        undeclared = {f.column for f in findings if f.dataset == s.dataset and f.status == "undeclared"}
        rows.append(
            metrics.Metric(
                "pii_undeclared_columns",
                len(undeclared),
                {"dataset": s.dataset, "layer": s.layer},
                run_id=run_id,
            )
        )
    metrics.record(project.state_dir, rows)


def _save(project: Project, payload: dict[str, Any]) -> None:
    """The last scan's result (counts and names only) for reports and nightly."""
    folder = project.state_dir / "pii"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "last_scan.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def render_text(payload: dict[str, Any]) -> str:
    lines: list[str] = []
    for f in payload["findings"]:
        pct = f"{f['match_percent']:g}%" if f["match_percent"] is not None else "-"
        where = " in text" if f["in_text"] else ""
        flag = (
            " (blocks: silver/gold)"
            if f["status"] == "undeclared" and f["layer"] in fnd.BLOCKING_LAYERS
            else ""
        )
        lines.append(
            f"{f['status']:<12} {f['dataset']}.{f['column']}: {f['label']} by {f['rule'] or '-'} "
            f"{pct}{where} of {f['sample_size']} rows{flag}"
        )
    for d in payload["datasets"]:
        if d["error"]:
            lines.append(f"error        {d['dataset']}: {d['error']}")
    s = payload["summary"]
    lines.append(
        f"pii scan: {s['datasets']} datasets, {s['undeclared']} undeclared ({s['blocking']} in silver/gold), "
        f"{s['confirmed']} confirmed, {s['not_detected']} not detected, {s['failed_datasets']} failed"
    )
    if "suggest" in payload:
        lines.append(
            f"suggestions: {payload['suggest']['assignments']} column(s) written to {payload['suggest']['path']}"
        )
    return "\n".join(lines)
