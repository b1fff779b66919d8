"""Run SQL where the data lives: one small interface over DuckDB, a SQL warehouse and Spark.

Shared by quality and PII discovery. SQL is built as sqlglot trees and rendered in the engine's dialect:

    engine = open_engine(project, "duckdb", ["silver.transactions"])
    try:
        table = engine.relation("silver.transactions")            # sqlglot exp.Table to select from
        query = sqlglot.select("count(*)").from_(table)           # identifiers quoted by sqlglot
        columns, rows = engine.execute(query)
    finally:
        engine.close()

- `duckdb`: a local Delta table is a view over DuckDB's own Parquet scan of its snapshot's files, made on
  first use of the connection (its columns are known from the log before that); other Delta tables and
  Parquet folders are Arrow datasets; either way DuckDB pushes projections and filters into the scan; `sql`
  datasets are not reachable from DuckDB (`load_rows` brings a small key set of them in, as Arrow data).
- `sql`: SQLAlchemy on the dataset's `connection` (format sql, `table` may be `schema.table`); the dialect
  follows the URL (postgres, tsql for mssql/Synapse, …). File datasets are not reachable from it.
- `spark`: `governance.lake.spark_engine` (Spark Connect or a local session; every dataset a temp view).

`execute` returns `(column names, rows as tuples)`; `run_statement` runs one that returns no rows (CREATE,
DROP); `columns` reads a dataset's column types from metadata; `create_sample`/`drop_temp` materialise and
drop a temporary relation over a reproducible sample. Each engine class holds its own way of doing these,
so capabilities never branch on the engine class. Engine faults raise InfraError (exit 3).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from governance.errors import InfraError, InputError, Location
from governance.lake import resolve
from governance.lake.connect import describe_error, sql_engine
from governance.lake.dialects import sqla_dialect
from governance.lake.duckdb_connect import duckdb_connection, duckdb_types
from governance.lake.engine_base import Engine, _table, view_name
from governance.lake.engine_errors import EngineLost, is_lost, scrub

if TYPE_CHECKING:
    from sqlglot import exp

    from governance.project import Project

log = logging.getLogger("governance.lake.engines")


class DuckDBEngine(Engine):
    kind = "duckdb"
    dialect = "duckdb"

    def __init__(
        self, project: Project | None = None, datasets: list[str] | None = None, threads: int | None = None
    ) -> None:
        super().__init__()
        self._threads = threads
        self._con: Any = None
        self._views: dict[str, str] = {}
        # local Delta tables whose views are created on first use of the connection: a run that only
        # needs their columns (every check answered from stored states) never opens their snapshots
        self._pending: dict[str, resolve.DatasetLocation] = {}
        self._native: dict[str, tuple[resolve.DatasetLocation, Any, dict[str, str]]] = {}  # Delta, native
        for name in datasets or []:
            assert project is not None
            self.register(project, name)

    @property
    def con(self) -> Any:
        """The connection, with every registered dataset's view in it."""
        self._make_views()
        return self._connection()

    def _make_views(self) -> None:
        while self._pending:
            _, loc = self._pending.popitem()
            self.register_location(loc)

    def _connection(self) -> Any:
        if self._con is None:
            self._con = duckdb_connection(self._threads)
        return self._con

    def _register(self, project: Project, dataset: str) -> None:
        loc = resolve.locate(project, dataset)
        if loc.spec.format not in ("delta", "parquet"):
            raise InfraError(f"dataset {dataset} ({loc.spec.format}) is not reachable from the duckdb engine")
        if not resolve.exists(loc):
            raise InfraError(f"dataset {dataset}: no data at {loc.uri}")
        if loc.spec.format == "delta" and not loc.is_remote:
            self._pending[loc.name] = loc
            self._views[loc.name] = view_name(loc.name)
        else:
            self.register_location(loc)

    def register_location(self, loc: resolve.DatasetLocation) -> None:
        """A local Delta table as DuckDB's own Parquet scan of its snapshot when that is exact, else (and
        for remote tables and Parquet folders) as an Arrow dataset."""
        name = view_name(loc.name)
        con = self._connection()
        self._pending.pop(loc.name, None)
        if loc.spec.format == "delta" and not loc.is_remote:
            table = resolve.delta_table(loc)
            if not self._native_view(loc, table, name):
                # the Arrow dataset (one fragment per file) is built only when the native scan cannot serve
                con.register(name + "__arrow", resolve.delta_arrow(loc, table))
                con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM "{name}__arrow"')
        else:
            con.register(name, resolve.arrow_dataset(loc))
        self._views[loc.name] = name

    def _native_view(self, loc: resolve.DatasetLocation, table: Any, name: str) -> bool:
        """View `name` as DuckDB's own Parquet scan of the Delta snapshot (see governance.lake.native),
        with the column types the Arrow path gives (read from the log's schema: no data file is listed
        or opened for them); False to keep Arrow."""
        import pyarrow as pa

        from governance.lake import native

        if not native.supported(table):
            return False
        types = duckdb_types(pa.schema(table.schema().to_arrow()))
        sql = native.view_sql(loc, table, types)
        if sql is None:
            return False
        try:
            self._connection().execute(f'CREATE OR REPLACE VIEW "{name}" AS {sql}')
            self._native[loc.name] = (loc, table, types)
        except Exception as exc:  # e.g. files that predate a column: the Arrow dataset fills it with NULL
            log.info("dataset %s stays on the Arrow scan: %s", loc.name, scrub(str(exc))[:200])
            return False
        return True

    def create_sample(
        self, name: str, dataset: str, projection: list[exp.Expr], size: int | None, seed: int
    ) -> str:
        """A local Delta table larger than the sample is sampled from a seeded subset of its files
        (`governance.lake.file_sample`), kept in `sampled_files`; anything else from every row."""
        from governance.lake.file_sample import subset_view_sql

        self.sampled_files.pop(dataset, None)
        self._make_views()  # whether the dataset is read natively is known once its view is made
        native = self._native.get(dataset)
        drawn = subset_view_sql(*native, size, seed) if size and native else None
        if drawn is not None:
            source, (sql, self.sampled_files[dataset]) = view_name(f"{dataset}__sampled_files"), drawn
            self.con.execute(f'CREATE OR REPLACE TEMPORARY VIEW "{source}" AS {sql}')
            self._views[source] = source
            log.info("sample of %s drawn from %s", dataset, self.sampled_files[dataset].summary())
            dataset = source
        return super().create_sample(name, dataset, projection, size, seed)

    def snapshot(self, dataset: str) -> Any:
        self._make_views()
        native = self._native.get(dataset)
        return native[1] if native is not None else None

    def register_subset(self, dataset: str, name: str, files: set[str]) -> exp.Table | None:
        """DuckDB's own Parquet scan of those files (`governance.lake.native`) of a local Delta table."""
        from governance.lake import native

        self._make_views()  # the table's own view: its snapshot and column types serve here too
        found = self._native.get(dataset)  # None: read through Arrow, so its files cannot be either
        sql = native.view_sql(*found, only=files) if found is not None and files else None
        if sql is None:
            return None
        view = view_name(name)
        self.con.execute(f'CREATE OR REPLACE TEMPORARY VIEW "{view}" AS {sql}')
        self._views[name] = view
        return _table(view)

    def register_arrow(self, dataset: str, data: Any) -> None:
        """Register an Arrow table/dataset or DataFrame under a dataset name (tests, conformance)."""
        name = view_name(dataset)
        self.con.register(name, data)
        self._views[dataset] = name

    def register_table(self, dataset: str, table: str) -> None:
        """Map a dataset name onto a table or view already in this connection."""
        self._views[dataset] = table

    def load_rows(self, name: str, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> exp.Table:
        import pyarrow as pa

        names = list(columns)
        data = {c: [r[i] for r in rows] for i, c in enumerate(names)}
        self.con.register(name, pa.table(data))
        return _table(name)

    def relation(self, dataset: str) -> exp.Table:
        if dataset not in self._views:
            raise InfraError(f"dataset {dataset} is not registered in the duckdb engine")
        return _table(self._views[dataset])

    def columns(self, dataset: str) -> dict[str, str]:
        loc = self._pending.get(dataset)
        schema = resolve.log_schema(loc.uri or "") if loc is not None else None
        if schema is not None:  # the types its view will have (see _native_view), from the log alone
            return {c: t.lower() for c, t in duckdb_types(schema).items()}
        rel = self.relation(dataset).sql(dialect="duckdb")
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
        return {r[0]: str(r[1]).lower() for r in rows}

    def _sample_query(
        self, projection: list[exp.Expr], source: exp.Table, size: int | None, seed: int
    ) -> tuple[exp.Select, str]:
        """DuckDB: `USING SAMPLE reservoir(N ROWS) REPEATABLE(seed)` (exactly N rows, no count first)."""
        from sqlglot import exp

        query = exp.select(*projection).from_(source)
        if not size:
            return query, "VIEW"
        sample = exp.TableSample(
            method=exp.var("RESERVOIR"),
            size=exp.Literal.number(int(size)),
            seed=exp.Literal.number(int(seed)),
        )
        query.set("sample", sample)
        return query, "TABLE"

    def _run_expr(self, expr: exp.Expr | str, text: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Repeated key hashes are found by sorting them in NumPy, not in a SQL window
        (governance.lake.hash_sort); the logged SQL is the portable one."""
        from governance.lake import hash_sort

        if isinstance(expr, str) or hash_sort.NEIGHBOURS not in text:  # no tree walk for other queries
            return self._run(text)
        tree, registered = hash_sort.presort(self.con, expr, self.dialect)
        try:
            return self._run(text if tree is expr else self.sql(tree))
        finally:
            hash_sort.release(self.con, registered)

    def _run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.con.execute(sql)
        cols = [d[0] for d in cur.description or []]
        return cols, [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        if self._con is not None:
            self._con.close()


class SQLEngine(Engine):
    kind = "sql"

    def __init__(self, url: str, tables: dict[str, str] | None = None, where: Location | None = None) -> None:
        super().__init__()
        self.engine = sql_engine(url, where)
        self.dialect = sqla_dialect(self.engine.dialect.name)
        self.tables = dict(tables or {})
        self._conn: Any = None

    def relation(self, dataset: str) -> exp.Table:
        if dataset not in self.tables:
            raise InfraError(f"dataset {dataset} is not reachable from this sql engine")
        return _table(self.tables[dataset])

    def columns(self, dataset: str) -> dict[str, str]:
        import sqlalchemy as sa

        parts = self.tables[dataset].split(".") if dataset in self.tables else []
        if not parts:
            raise InfraError(f"dataset {dataset} is not reachable from this sql engine")
        try:
            cols = sa.inspect(self.connection).get_columns(
                parts[-1], schema=parts[-2] if len(parts) > 1 else None
            )
        except Exception as exc:
            raise InfraError(f"cannot read the columns of {dataset}: {describe_error(exc)}") from exc
        if not cols:
            raise InfraError(f"dataset {dataset}: table {self.tables[dataset]} not found")
        return {c["name"]: str(c["type"]).lower() for c in cols}

    def load_rows(self, name: str, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> exp.Table:
        import sqlalchemy as sa

        types: dict[str, Any] = {
            "int": sa.BigInteger,
            "float": sa.Float,
            "decimal": sa.Numeric,
            "date": sa.Date,
            "timestamp": sa.DateTime,
            "bool": sa.Boolean,
        }
        table_name = "#" + name if self.engine.dialect.name == "mssql" else name  # T-SQL temp tables
        table = sa.Table(
            table_name,
            sa.MetaData(),
            *[sa.Column(c, types.get(family, sa.Text)()) for c, family in columns.items()],
            prefixes=["TEMPORARY"],
        )
        conn = self.connection
        self.queries += 1
        self.log.append(f"-- {len(rows)} rows into temporary table {table_name}")
        try:
            table.create(conn)
            if rows:
                conn.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in rows])
            conn.commit()
        except Exception as exc:
            conn.rollback()
            error = EngineLost if is_lost(exc) else InfraError
            raise error(f"sql temporary table not loaded: {type(exc).__name__}") from exc
        return _table(table_name)

    def run_statement(self, statement: exp.Expr | str) -> None:
        """SQLAlchemy results of a statement without rows cannot be fetched: executed and committed."""
        from governance.lake.logged_sql import masked

        text = self.sql(statement)
        self.queries += 1
        shown = masked(statement, self.dialect, self.sensitive)
        self.log.append(shown)
        log.info("sql statement %d: %s", self.queries, shown)
        conn = self.connection
        try:
            conn.exec_driver_sql(text)
            conn.commit()
        except Exception as exc:
            conn.rollback()
            error = EngineLost if is_lost(exc) else InfraError
            first = scrub(str(exc)).strip().splitlines()
            raise error(
                f"sql statement failed: {type(exc).__name__}: {first[0][:300] if first else ''}"
            ) from exc

    @property
    def connection(self) -> Any:
        if self._conn is None:
            try:
                self._conn = self.engine.connect()
            except Exception as exc:
                raise EngineLost(f"sql engine unreachable: {type(exc).__name__}") from exc
        return self._conn

    def _run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        conn = self.connection
        if self.engine.dialect.paramstyle in ("format", "pyformat"):
            sql = sql.replace("%", "%%")  # no parameters: a literal % must not read as a placeholder
        try:
            res = conn.exec_driver_sql(sql)
            cols = list(res.keys())
            rows = [tuple(r) for r in res.fetchall()]
            conn.commit()
            return cols, rows
        except Exception:
            conn.rollback()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self.engine.dispose()


def local_spark() -> Any:
    """The session of `governance.lake.spark_session` without a project: SPARK_REMOTE, else the active
    session, else local[*] (tests and benches)."""
    from governance.lake.spark_session import spark_session

    return spark_session(None)


def open_engine(project: Project, kind: str, datasets: list[str]) -> Engine:
    """An engine of `kind` with every dataset of `datasets` reachable through `relation(dataset)`."""
    if kind == "duckdb":
        return DuckDBEngine(project, datasets)
    if kind == "sql":
        conns = {project.dataset(d).connection for d in datasets}
        if len(conns) != 1 or None in conns:
            raise InfraError("the sql engine needs datasets of format sql sharing one connection")
        conn_name = conns.pop()
        assert conn_name is not None
        conn = project.config.connections.get(conn_name)
        if conn is None:
            raise InputError(f"unknown connection '{conn_name}'")
        tables = {d: str(project.dataset(d).table) for d in datasets}
        return SQLEngine(conn.resolved_url(), tables, conn.where)
    if kind == "spark":
        from governance.lake.spark_engine import SparkEngine
        from governance.lake.spark_session import server_address, spark_session

        engine = SparkEngine(spark_session(project))
        engine.server = server_address(project)
        for d in datasets:
            engine.register(project, d)
        return engine
    raise InputError(f"unknown engine '{kind}' (duckdb, sql, spark)")
