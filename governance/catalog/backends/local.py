"""The embedded catalog: SQLite by default (catalog.local.path), any SQLAlchemy URL for a team catalog
(catalog.local.url, e.g. PostgreSQL). Same model as Purview: glossaries, terms, entities with qualified
names, classification types, classifications, term assignments (relations with their own guid),
detection rules and lineage processes; everything the tool writes is marked managed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from governance.catalog.backends.base import CatalogBackend, ProcessState
from governance.catalog.model import (
    CatalogState,
    ClassificationTypeState,
    EntityState,
    RuleState,
    TermState,
)
from governance.catalog.plan import Change
from governance.config import expand_env, resolve_path
from governance.errors import InfraError
from governance.lake.connect import describe_error, shown_url, sql_engine
from governance.project import Project

PREFIX = "sfg_catalog_"


def _tables(schema: str | None) -> tuple[sa.MetaData, dict[str, sa.Table]]:
    md = sa.MetaData(schema=schema)
    t: dict[str, sa.Table] = {}
    t["glossaries"] = sa.Table(
        PREFIX + "glossaries",
        md,
        sa.Column("guid", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(400), nullable=False, unique=True),
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    t["terms"] = sa.Table(
        PREFIX + "terms",
        md,
        sa.Column("guid", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(400), nullable=False, unique=True),
        sa.Column("glossary", sa.String(400), nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # TermState.fields() as JSON
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    t["entities"] = sa.Table(
        PREFIX + "entities",
        md,
        sa.Column("guid", sa.String(36), primary_key=True),
        sa.Column("qualified_name", sa.String(1000), nullable=False, unique=True),
        sa.Column("name", sa.String(400), nullable=False, index=True),
        sa.Column("type_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("dataset", sa.String(400), nullable=False),
        sa.Column("column_name", sa.String(400)),
        sa.Column("data_type", sa.String(100)),
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    t["classification_types"] = sa.Table(
        PREFIX + "classification_types",
        md,
        sa.Column("name", sa.String(400), primary_key=True),
        sa.Column("description", sa.Text),
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    t["classifications"] = sa.Table(
        PREFIX + "classifications",
        md,
        sa.Column("entity_guid", sa.String(36), primary_key=True),
        sa.Column("type_name", sa.String(400), primary_key=True),
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    t["assignments"] = sa.Table(
        PREFIX + "term_assignments",
        md,
        sa.Column("relation_guid", sa.String(36), primary_key=True),
        sa.Column("term_guid", sa.String(36), nullable=False),
        sa.Column("entity_guid", sa.String(36), nullable=False),
        sa.Column("managed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("term_guid", "entity_guid"),
    )
    t["rules"] = sa.Table(
        PREFIX + "rules",
        md,
        sa.Column("name", sa.String(400), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    t["processes"] = sa.Table(
        PREFIX + "processes",
        md,
        sa.Column("guid", sa.String(36), primary_key=True),
        sa.Column("qualified_name", sa.String(1000), nullable=False, unique=True),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("outputs", sa.Text, nullable=False),
        sa.Column("column_mapping", sa.Text, nullable=False),
        sa.Column("managed", sa.Boolean, nullable=False),
    )
    return md, t


def open_catalog(project: Project, url: str | None, md: sa.MetaData) -> sa.Engine:
    """The catalog database (through the connection factory) with the tables of `md` created."""
    from governance.lake.dialects import sqlalchemy_traits

    local = project.config.catalog.local
    engine = sql_engine(url or catalog_url(project), local.where)
    try:
        if local.schema_ and sqlalchemy_traits(engine).has_schemas:
            with engine.begin() as conn:
                conn.execute(sa.schema.CreateSchema(local.schema_, if_not_exists=True))
        md.create_all(engine)
    except sa.exc.SQLAlchemyError as exc:
        raise InfraError(
            f"local catalog {shown_url(engine)}: {describe_error(exc, str(engine.url))}"
        ) from exc
    return engine


def catalog_url(project: Project) -> str:
    local = project.config.catalog.local
    if local.url:
        return expand_env(local.url, local.where)
    path = resolve_path(project.root, local.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class LocalBackend(CatalogBackend):
    def __init__(self, project: Project, url: str | None = None) -> None:
        super().__init__(name="local")
        self.project = project
        md, self.t = _tables(project.config.catalog.local.schema_)
        self.engine = open_catalog(project, url, md)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _conn(self, write: bool) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise InfraError(f"local catalog: {exc}") from exc

    def _select(self, conn: sa.Connection, stmt: Any) -> list[Any]:
        self.requests.read += 1
        return list(conn.execute(stmt))

    def _write(self, conn: sa.Connection, stmt: Any, rows: list[dict[str, Any]] | None = None) -> None:
        if rows is not None and not rows:
            return
        self.requests.write += 1
        conn.execute(stmt, rows) if rows is not None else conn.execute(stmt)

    # --- read -------------------------------------------------------------------------------------
    def read(self, desired: CatalogState, kinds: set[str]) -> CatalogState:
        live = CatalogState()
        t = self.t
        with self._conn(False) as conn:
            by_guid: dict[str, EntityState] = {}
            for r in self._select(conn, sa.select(t["entities"])):
                e = EntityState(
                    r.name,
                    r.kind,
                    r.type_name,
                    r.qualified_name,
                    r.dataset,
                    r.column_name,
                    r.data_type,
                    r.managed,
                    r.guid,
                )
                by_guid[r.guid] = e
                live.entities[e.name] = e
            if "glossary" in kinds:
                for r in self._select(conn, sa.select(t["glossaries"])):
                    live.glossaries[r.name] = r.managed
                terms_by_guid: dict[str, str] = {}
                for r in self._select(conn, sa.select(t["terms"])):
                    term = TermState.from_fields(json.loads(r.body), r.managed, r.guid)
                    live.terms[term.name] = term
                    terms_by_guid[r.guid] = term.name
                for r in self._select(conn, sa.select(t["assignments"])):
                    if r.term_guid in terms_by_guid and r.entity_guid in by_guid:
                        live.assignments[(terms_by_guid[r.term_guid], by_guid[r.entity_guid].name)] = (
                            r.managed
                        )
            if "classifications" in kinds:
                for r in self._select(conn, sa.select(t["classification_types"])):
                    live.classification_types[r.name] = ClassificationTypeState(
                        r.name, r.description, r.managed
                    )
                for r in self._select(conn, sa.select(t["classifications"])):
                    if r.entity_guid in by_guid:
                        live.classifications[(by_guid[r.entity_guid].name, r.type_name)] = r.managed
                for r in self._select(conn, sa.select(t["rules"])):
                    body = json.loads(r.body)
                    live.rules[r.name] = RuleState(
                        name=r.name,
                        source=body["source"],
                        label=body["label"],
                        description=body.get("description"),
                        column_patterns=tuple(body.get("column_patterns", [])),
                        data_patterns=tuple(body.get("data_patterns", [])),
                        minimum_match_percent=float(body.get("minimum_match_percent", 60)),
                        managed=r.managed,
                    )
        return live

    # --- apply ------------------------------------------------------------------------------------
    def apply(self, changes: list[Change], desired: CatalogState, live: CatalogState) -> None:
        t = self.t
        todo = [c for c in changes if c.action != "noop"]
        if not todo:
            return
        with self._conn(True) as conn:
            guids = {
                r.name: r.guid
                for r in self._select(conn, sa.select(t["entities"].c.name, t["entities"].c.guid))
            }
            term_guids = {
                r.name: r.guid for r in self._select(conn, sa.select(t["terms"].c.name, t["terms"].c.guid))
            }
            # creates and updates first (entities, types, glossaries, terms parents-first), then relations
            new_entities = [
                self._entity_row(desired.entities[c.name])
                for c in todo
                if c.kind == "entity" and c.action == "create"
            ]
            self._write(conn, t["entities"].insert(), new_entities)
            guids.update({r["name"]: r["guid"] for r in new_entities})
            for c in todo:
                if c.kind == "classification_type" and c.action in ("create", "update"):
                    d = desired.classification_types[c.name]
                    self._upsert(
                        conn,
                        t["classification_types"],
                        {"name": d.name},
                        {"description": d.description, "managed": True},
                    )
                elif c.kind == "rule" and c.action in ("create", "update"):
                    self._upsert(
                        conn,
                        t["rules"],
                        {"name": c.name},
                        {"body": json.dumps(c.after, sort_keys=True), "managed": True},
                    )
                elif c.kind == "term" and c.action in ("create", "update"):
                    glossary = c.after["glossary"]
                    if glossary not in live.glossaries:
                        self._write(
                            conn,
                            t["glossaries"]
                            .insert()
                            .values(guid=str(uuid.uuid4()), name=glossary, managed=True),
                        )
                        live.glossaries[glossary] = True
                    guid = term_guids.get(c.name) or str(uuid.uuid4())
                    term_guids[c.name] = guid
                    values = {
                        "name": c.name,
                        "glossary": glossary,
                        "body": json.dumps(c.after, sort_keys=True),
                        "managed": True,
                    }
                    self._upsert(conn, t["terms"], {"guid": guid}, values)
            self._write(
                conn,
                t["assignments"].insert(),
                [
                    {
                        "relation_guid": str(uuid.uuid4()),
                        "term_guid": term_guids[c.after["term"]],
                        "entity_guid": guids[c.after["entity"]],
                        "managed": True,
                    }
                    for c in todo
                    if c.kind == "assignment" and c.action == "create"
                ],
            )
            self._write(
                conn,
                t["classifications"].insert(),
                [
                    {"entity_guid": guids[c.after["entity"]], "type_name": c.after["label"], "managed": True}
                    for c in todo
                    if c.kind == "classification" and c.action == "create"
                ],
            )
            # deletes: relations, then objects
            for c in todo:
                if c.action != "delete":
                    continue
                if c.kind == "assignment":
                    a = t["assignments"]
                    self._write(
                        conn,
                        a.delete().where(
                            a.c.term_guid == term_guids[c.before["term"]],
                            a.c.entity_guid == guids[c.before["entity"]],
                        ),
                    )
                elif c.kind == "classification":
                    k = t["classifications"]
                    self._write(
                        conn,
                        k.delete().where(
                            k.c.entity_guid == guids[c.before["entity"]], k.c.type_name == c.before["label"]
                        ),
                    )
            for c in todo:
                if c.action != "delete":
                    continue
                if c.kind == "term":
                    self._write(conn, t["terms"].delete().where(t["terms"].c.name == c.name))
                elif c.kind == "classification_type":
                    self._write(
                        conn,
                        t["classification_types"].delete().where(t["classification_types"].c.name == c.name),
                    )
                elif c.kind == "rule":
                    self._write(conn, t["rules"].delete().where(t["rules"].c.name == c.name))
                elif c.kind == "entity":
                    g = guids[c.name]
                    self._write(
                        conn, t["classifications"].delete().where(t["classifications"].c.entity_guid == g)
                    )
                    self._write(conn, t["assignments"].delete().where(t["assignments"].c.entity_guid == g))
                    self._write(conn, t["entities"].delete().where(t["entities"].c.guid == g))

    def _upsert(
        self, conn: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
    ) -> None:
        cond = [table.c[k] == v for k, v in key.items()]
        exists = self._select(conn, sa.select(sa.func.count()).select_from(table).where(*cond))[0][0]
        if exists:
            self._write(conn, table.update().where(*cond).values(**values))
        else:
            self._write(conn, table.insert().values(**key, **values))

    @staticmethod
    def _entity_row(e: EntityState) -> dict[str, Any]:
        return {
            "guid": str(uuid.uuid4()),
            "qualified_name": e.qualified_name,
            "name": e.name,
            "type_name": e.type_name,
            "kind": e.kind,
            "dataset": e.dataset,
            "column_name": e.column,
            "data_type": e.data_type,
            "managed": True,
        }

    # --- lineage processes ------------------------------------------------------------------------
    def read_processes(self, desired: dict[str, ProcessState]) -> dict[str, ProcessState]:
        p = self.t["processes"]
        with self._conn(False) as conn:
            rows = self._select(conn, sa.select(p))
        return {
            r.name: ProcessState(
                r.name,
                r.qualified_name,
                tuple(json.loads(r.inputs)),
                tuple(json.loads(r.outputs)),
                r.column_mapping,
                r.managed,
            )
            for r in rows
        }

    def apply_processes(
        self, changes: list[Change], desired: dict[str, ProcessState], entities: CatalogState
    ) -> None:
        p = self.t["processes"]
        todo = [c for c in changes if c.action != "noop" and c.kind == "process"]
        if not todo:
            return
        with self._conn(True) as conn:
            for c in todo:
                if c.action == "delete":
                    self._write(conn, p.delete().where(p.c.name == c.name))
                    continue
                d = desired[c.name]
                values = {
                    "qualified_name": d.qualified_name,
                    "inputs": json.dumps(list(d.inputs)),
                    "outputs": json.dumps(list(d.outputs)),
                    "column_mapping": d.column_mapping,
                    "managed": True,
                }
                if c.action == "create":
                    self._write(conn, p.insert().values(guid=str(uuid.uuid4()), name=d.name, **values))
                else:
                    self._write(conn, p.update().where(p.c.name == d.name).values(**values))
