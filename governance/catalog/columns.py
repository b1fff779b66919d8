"""Columns of a dataset for the catalog: its declaration in smartflow.yaml, else the table itself (the Delta
log's schema or the Parquet files' through deltalake/pyarrow, the SQL catalog through the engine layer).
When neither knows the column, the live catalog may (the entities a scanner made): the backends read
those, and the plan uses them."""

from __future__ import annotations

import logging

from governance.errors import InfraError
from governance.project import Project

log = logging.getLogger(__name__)


def dataset_columns(project: Project, name: str) -> dict[str, str | None] | None:
    """Column name -> type, or None when neither the declaration nor a reachable table has them."""
    ds = project.config.datasets[name]
    if ds.columns:
        return dict(ds.columns)
    try:
        if ds.format in ("delta", "parquet"):
            from governance.lake.resolve import arrow_schema

            schema = arrow_schema(project, name)
            return {f.name: str(f.type) for f in schema} if schema is not None else None
        if ds.format == "sql" and ds.connection and ds.table:
            from governance.lake.engines import open_engine

            engine = open_engine(project, "sql", [name])
            try:
                return dict(engine.columns(name))
            finally:
                engine.close()
    except InfraError as exc:  # unreachable table: the live catalog may still know the columns
        log.info("%s: columns not read from the table (%s)", name, exc)
    return None
