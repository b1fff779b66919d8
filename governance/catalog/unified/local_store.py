"""The embedded Unified Catalog: domains, terms, data products, CDEs and relationships in the local
catalog's database (catalog.local: the same SQLite file, or the team catalog's SQLAlchemy URL), so
`sync-domains`, the nightly and the audit report run with no Azure. Everything the tool writes is marked
managed; rows written by other means (managed = false) are treated as the portal's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from governance.catalog.backends.base import Requests
from governance.catalog.backends.local import open_catalog
from governance.catalog.plan import Change
from governance.catalog.unified.model import Obj, Rel, UnifiedState
from governance.errors import InfraError
from governance.project import Project

PREFIX = "sfg_unified_"


def _tables(schema: str | None) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    md = sa.MetaData(schema=schema)
    objects = sa.Table(
        PREFIX + "objects",
        md,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # Obj.fields as JSON
        sa.Column("managed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("kind", "name"),
    )
    rels = sa.Table(
        PREFIX + "relationships",
        md,
        sa.Column("source_kind", sa.String(40), primary_key=True),
        sa.Column("source", sa.String(400), primary_key=True),
        sa.Column("target_kind", sa.String(40), primary_key=True),
        sa.Column("target", sa.String(1000), primary_key=True),
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    return md, objects, rels


class LocalUnifiedStore:
    """The local backend of the Unified Catalog sync."""

    def __init__(self, project: Project, url: str | None = None) -> None:
        self.name = "local"
        self.project = project
        self.requests = Requests()
        self.warnings: list[str] = []
        md, self.objects, self.rels = _tables(project.config.catalog.local.schema_)
        self.engine = open_catalog(project, url, md)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _conn(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise InfraError(f"local catalog: {exc}") from exc

    def _write(self, conn: sa.Connection, stmt: Any) -> None:
        self.requests.write += 1
        conn.execute(stmt)

    # --- read -------------------------------------------------------------------------------------
    def read(self, desired: UnifiedState, cached: bool = False) -> UnifiedState:
        live = UnifiedState()
        with self._conn() as conn:
            self.requests.read += 2
            for r in conn.execute(sa.select(self.objects)):
                live.add(Obj(r.kind, r.name, r.id, json.loads(r.body), bool(r.managed)))
            for r in conn.execute(sa.select(self.rels)):
                live.relationships[Rel(r.source_kind, r.source, r.target_kind, r.target)] = bool(r.managed)
        # what relationships may point at: the project's terms, datasets and their declared columns
        live.targets |= {("term", t.name) for t in self.project.terms}
        live.targets |= {("term", n) for n in live.of("term")}
        for name, ds in self.project.config.datasets.items():
            live.targets.add(("data_asset", name))
            live.targets |= {("column", f"{name}.{c}") for c in ds.columns}
        return live

    # --- apply ------------------------------------------------------------------------------------
    def apply(self, changes: list[Change], desired: UnifiedState, live: UnifiedState) -> None:
        o, r = self.objects, self.rels
        with self._conn() as conn:
            for c in changes:
                if c.action == "noop":
                    continue
                if c.kind == "relationship":
                    f = c.after or c.before
                    key = {k: f[k] for k in ("source_kind", "source", "target_kind", "target")}
                    if c.action == "create":
                        self._write(conn, sa.insert(r).values(**key, managed=True))
                    else:
                        self._write(conn, sa.delete(r).where(*(r.c[k] == v for k, v in key.items())))
                    continue
                kind = str(c.kind)
                if c.action == "create":
                    d = desired.objects[(kind, c.name)]
                    self._write(
                        conn,
                        sa.insert(o).values(
                            id=d.id,
                            kind=kind,
                            name=c.name,
                            body=json.dumps(d.fields, sort_keys=True),
                            managed=True,
                        ),
                    )
                elif c.action == "update":
                    self._write(
                        conn,
                        sa.update(o)
                        .where(o.c.kind == kind, o.c.name == c.name)
                        .values(body=json.dumps(c.after, sort_keys=True)),
                    )
                elif c.action == "delete":
                    self._write(conn, sa.delete(r).where(r.c.source_kind == kind, r.c.source == c.name))
                    self._write(
                        conn, sa.delete(o).where(o.c.kind == kind, o.c.name == c.name, o.c.managed.is_(True))
                    )
