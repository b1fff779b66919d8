"""OpenLineage export: one COMPLETE RunEvent per job, as JSON lines, optionally POSTed to an endpoint.

Events are built with the openlineage-python client's generated classes (so facet `_schemaURL`s and
field names follow the spec versions the client was generated from: core 2-0-2, columnLineage 1-2-0,
schema 1-2-0, sql 1-1-0) and sent with its HTTP transport (`POST {url}/api/v1/lineage`, e.g. Marquez).

Dataset naming follows the OpenLineage naming conventions: a local lake file is namespace `file` and
its absolute path; ADLS is `abfss://container@account.dfs.core.windows.net` and the path; SQL and Spark
tables are `smartflow://<project>/<connection or spark>` and the table name. Column edges become
`transformations` (type DIRECT/INDIRECT, subtype IDENTITY/TRANSFORMATION/AGGREGATION/MASKING or
FILTER/JOIN/GROUP_BY/CONDITIONAL/WINDOW); dataset-wide indirect inputs (WHERE, JOIN, GROUP BY) go to
the facet's `dataset` list rather than being repeated under every field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from governance import __version__
from governance.errors import ExitCode, InfraError
from governance.lineage.build import Graph
from governance.project import Project
from governance.results import StepResult

PRODUCER = f"https://github.com/smartflow/smartflow-gov/tree/v{__version__}"
DATASET_WIDE = ("FILTER", "JOIN", "GROUP_BY", "SORT")
EVENTS_FILE = "openlineage.jsonl"


def dataset_ref(project: Project, name: str) -> tuple[str, str]:
    """(namespace, name) of a dataset under the OpenLineage naming conventions."""
    ds = project.config.datasets.get(name)
    if ds is None:
        return f"smartflow://{project.config.project}", name
    if ds.format in ("delta", "parquet") and ds.path:
        root = project.lake_root
        path = ds.path.strip("/")
        if "://" in path:  # an absolute dataset URL: its own account and container
            root, path = path, ""
        if root.startswith("abfss://"):
            authority, _, base = root[len("abfss://") :].partition("/")
            return f"abfss://{authority}", "/".join(p for p in (base, path) if p)
        if "://" in root:
            scheme, _, rest = root.partition("://")
            authority, _, base = rest.partition("/")
            return f"{scheme}://{authority}", "/".join(p for p in (base, path) if p)
        return "file", f"{root}/{path}"
    where = ds.connection if ds.format == "sql" else "spark"
    return f"smartflow://{project.config.project}/{where}", ds.table or name


def build_events(project: Project, graph: Graph, event_time: datetime | None = None) -> list[dict[str, Any]]:
    """The events as plain JSON-ready dicts (Serde of the client's attrs classes)."""
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
        set_producer,
    )
    from openlineage.client.generated import (
        column_lineage_dataset,
        documentation_dataset,
        documentation_job,
        job_type_job,
        schema_dataset,
        sql_job,
    )
    from openlineage.client.serde import Serde
    from openlineage.client.uuid import generate_new_uuid

    set_producer(PRODUCER)
    when = (event_time or datetime.now(UTC)).astimezone(UTC)
    namespace = project.config.project or "smartflow"

    def schema_facet(name: str) -> dict[str, Any]:
        cols = graph.columns.get(name)
        if not cols:
            return {}
        fields = [schema_dataset.SchemaDatasetFacetFields(name=c, type=t or None) for c, t in cols.items()]
        return {"schema": schema_dataset.SchemaDatasetFacet(fields=fields)}

    def doc_facet(name: str) -> dict[str, Any]:
        ds = project.config.datasets.get(name)
        if ds is None or not ds.description:
            return {}
        return {"documentation": documentation_dataset.DocumentationDatasetFacet(description=ds.description)}

    events = []
    for job in graph.jobs:
        m = job.manifest
        edges = [e for e, j in graph.column_edges if j == m.job]
        job_facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="STREAMING" if m.kind == "stream" else "BATCH",
                integration="SMARTFLOW",
                jobType=m.kind.upper(),
            )
        }
        if m.sql:
            job_facets["sql"] = sql_job.SQLJobFacet(query=m.sql, dialect="duckdb")
        if m.description:
            job_facets["documentation"] = documentation_job.DocumentationJobFacet(description=m.description)
        inputs = [
            InputDataset(*dataset_ref(project, name), facets={**schema_facet(name), **doc_facet(name)})
            for name in job.inputs
        ]
        outputs = []
        for out in job.outputs:
            facets: dict[str, Any] = {**schema_facet(out), **doc_facet(out)}
            fields: dict[str, list[Any]] = {}
            dataset_wide: dict[tuple[str, str, str], Any] = {}
            for e in edges:
                if e.target != out:
                    continue
                ns, nm = dataset_ref(project, e.source)
                transformation = column_lineage_dataset.Transformation(
                    type="DIRECT" if e.transformation != "filter" else "INDIRECT",
                    subtype=e.subtype,
                    description=e.description or None,
                    masking=e.transformation == "masking",
                )
                if e.transformation == "filter" and e.subtype in DATASET_WIDE:
                    dataset_wide.setdefault(
                        (ns, nm, e.source_column),
                        column_lineage_dataset.InputField(
                            namespace=ns, name=nm, field=e.source_column, transformations=[transformation]
                        ),
                    )
                    continue
                fields.setdefault(e.target_column, []).append(
                    column_lineage_dataset.InputField(
                        namespace=ns, name=nm, field=e.source_column, transformations=[transformation]
                    )
                )
            if fields or dataset_wide:
                facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
                    fields={
                        col: column_lineage_dataset.Fields(inputFields=ins)
                        for col, ins in sorted(fields.items())
                    },
                    dataset=list(dataset_wide.values()),
                )
            outputs.append(OutputDataset(*dataset_ref(project, out), facets=facets))
        event = RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=when.isoformat().replace("+00:00", "Z"),
            run=Run(runId=str(generate_new_uuid(when))),
            job=Job(namespace=namespace, name=m.job, facets=job_facets),
            inputs=inputs,
            outputs=outputs,
            producer=PRODUCER,
        )
        events.append(Serde.to_dict(event))
    return events


def post_events(events: list[dict[str, Any]], url: str) -> int:
    """POST every event with the client's HTTP transport (retries included); returns how many were sent."""
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    from governance.config import check_endpoint

    check_endpoint(url)
    transport = HttpTransport(HttpConfig(url=url, timeout=10.0))
    sent = 0
    for event in events:
        try:
            transport.emit(cast(Any, event))  # Serde passes a dict through unchanged
        except Exception as exc:  # noqa: BLE001 - requests/urllib3 errors of many kinds
            raise InfraError(f"OpenLineage endpoint {url} refused or unreachable: {exc}") from exc
        sent += 1
    return sent


def export(project: Project, directory: str | Path, url: str | None = None) -> StepResult:
    from governance.lineage.service import checked_graph

    graph = checked_graph(project)
    events = build_events(project, graph)
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / EVENTS_FILE
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events), encoding="utf-8")
    posted = post_events(events, url) if url else 0
    payload = {
        "file": str(path),
        "events": len(events),
        "jobs": [e["job"]["name"] for e in events],
        "column_lineage_fields": sum(
            len(o.get("facets", {}).get("columnLineage", {}).get("fields", {}))
            for e in events
            for o in e["outputs"]
        ),
        "url": url,
        "posted": posted,
    }
    text = f"wrote {len(events)} OpenLineage events to {path}" + (
        f"; posted {posted} to {url}" if url else ""
    )
    return StepResult(payload, ExitCode.OK, text)
