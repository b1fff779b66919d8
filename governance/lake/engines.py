"""Run SQL where the data lives: one small interface over DuckDB, a SQL warehouse and Spark.

Shared by quality and PII discovery. SQL is built as sqlglot trees and rendered in the engine's dialect:

    engine = open_engine(project, "duckdb", ["silver.transactions"])
    try:
        table = engine.relation("silver.transactions")            # sqlglot exp.Table to select from
        query = sqlglot.select("count(*)").from_(table)           # identifiers quoted by sqlglot
        columns, rows = engine.execute(query)
    finally:
        engine.close()

- `duckdb`: Delta datasets are registered as Arrow datasets (from `governance.lake.resolve`), so DuckDB
  pushes projections and filters into the scan and prunes partitions; Parquet likewise; `sql` datasets
  are not reachable from DuckDB (`load_rows` brings a small key set of them in, as Arrow data).
- `sql`: SQLAlchemy on the dataset's `connection` (format sql, `table` may be `schema.table`); the dialect
  follows the URL (postgres, tsql for mssql/Synapse, …). File datasets are not reachable from it.
- `spark`: the SparkSession of `governance.lake.spark_session` (Spark Connect from `spark.remote` or
  SPARK_REMOTE, else the active one, else local[*]); format spark uses `spark.table(table)`; Delta is read
  on the cluster from the log's file list (`governance.lake.spark_delta`, no Delta jars needed); each
  becomes a temp view.

`execute` returns `(column names, rows as tuples)`; `run_statement` runs one that returns no rows (CREATE,
DROP); `columns` reads a dataset's column types from metadata; `create_sample`/`drop_temp` materialise and
drop a temporary relation over a reproducible sample. Each engine class holds its own way of doing these,
so capabilities never branch on the engine class. Engine faults raise InfraError (exit 3).
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Literal

from governance.errors import InfraError, InputError, Location
from governance.lake import resolve
from governance.lake.connect import describe_error, sql_engine
from governance.lake.dialects import sqla_dialect
from governance.lake.engine_errors import EngineLost, failure, is_lost, scrub

if TYPE_CHECKING:
    from sqlglot import exp

    from governance.lake.file_sample import FileSubset
    from governance.project import Project

EngineKind = Literal["duckdb", "sql", "spark"]
log = logging.getLogger("governance.lake.engines")


def view_name(dataset: str) -> str:
    """A safe view name for a dataset (dots and other characters become underscores)."""
    return "sfg_" + re.sub(r"[^A-Za-z0-9_]", "_", dataset)


class Engine(ABC):
    """A connection able to run sqlglot expressions against a set of datasets."""

    kind: str
    dialect: str  # sqlglot dialect name

    def __init__(self) -> None:
        self.queries = 0  # how many queries this engine ran (reported as "queries")
        self.log: list[str] = []  # the SQL it ran, for -v logs (sensitive literals masked)
        self.sensitive: set[str] = set()  # columns whose values never appear in logged SQL
        self.server: str | None = None  # host:port of a remote server, for messages
        self.sampled_files: dict[str, FileSubset] = {}  # dataset -> the files its sample came from

    @abstractmethod
    def relation(self, dataset: str) -> exp.Table: ...

    @abstractmethod
    def _run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    @abstractmethod
    def columns(self, dataset: str) -> dict[str, str]:
        """Column name → engine type name (lower case), from metadata (no data scan, not counted)."""

    def sql(self, expr: exp.Expr | str) -> str:
        return expr if isinstance(expr, str) else expr.sql(dialect=self.dialect)

    def register(self, project: Project, dataset: str) -> None:
        """Make `dataset` reachable as `relation(dataset)`; the engine's own errors become InfraError."""
        try:
            self._register(project, dataset)
        except InfraError:
            raise
        except Exception as exc:  # the session's own errors (a lost server, a path it cannot read)
            raise failure(self.kind, exc, self.server) from exc

    def _register(self, project: Project, dataset: str) -> None:
        raise InfraError(f"datasets are not registered in the {self.kind} engine")

    def execute(self, expr: exp.Expr | str) -> tuple[list[str], list[tuple[Any, ...]]]:
        from governance.lake.logged_sql import masked

        text = self.sql(expr)
        self.queries += 1
        shown = masked(expr, self.dialect, self.sensitive, text)
        self.log.append(shown)
        log.info("%s query %d: %s", self.kind, self.queries, shown)
        try:
            return self._run(text)
        except InfraError:
            raise
        except Exception as exc:  # engine-specific error types
            raise failure(self.kind, exc, self.server) from exc

    def run_statement(self, statement: exp.Expr | str) -> None:
        """A statement that returns no rows (CREATE, DROP), counted and logged like a query."""
        self.execute(statement)

    def create_sample(
        self, name: str, dataset: str, projection: list[exp.Expr], size: int | None, seed: int
    ) -> str:
        """Temporary relation `name` of `projection` over a reproducible sample of about `size` rows of
        `dataset` (seeded by `seed`). A real sample is materialised ("TABLE") so later queries read the
        same rows; when every row is read (no size, or a dataset smaller than it) it is only a view
        ("VIEW"), so a full scan never copies the data. Returns which of the two it is."""
        from sqlglot import exp

        query, kind = self._sample_query(projection, self.relation(dataset), size, seed)
        self.drop_temp(name, kind)
        self.run_statement(
            exp.Create(
                this=exp.to_table(name),
                kind=kind,
                expression=query,
                properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            )
        )
        return kind

    def _sample_query(
        self, projection: list[exp.Expr], source: exp.Table, size: int | None, seed: int
    ) -> tuple[exp.Select, str]:
        """SQL warehouses: `TABLESAMPLE BERNOULLI(p) REPEATABLE(seed)` with a LIMIT, p from a row count."""
        from sqlglot import exp

        query = exp.select(*projection)
        kind = "VIEW"
        if size:
            _, rows = self.execute(exp.select(exp.func("count", exp.Star())).from_(source.copy()))
            total = int(rows[0][0] or 0)
            if total > size:
                percent = min(100.0, round(120.0 * size / total, 6))
                source.set("sample", exp.TableSample(
                    method=exp.var("BERNOULLI"), percent=exp.Literal.number(percent), seed=exp.Literal.number(int(seed))
                ))  # fmt: skip
                query = query.limit(size)
                kind = "TABLE"
        return query.from_(source), kind

    def drop_temp(self, name: str, kind: str = "TABLE") -> None:
        """Drop temporary relation `name` ("TABLE" or "VIEW") if it exists."""
        from sqlglot import exp

        self.run_statement(exp.Drop(tables=[exp.to_table(name)], kind=kind, exists=True))

    def register_files(self, project: Project, dataset: str, name: str, files: list[str]) -> bool:
        """Make `name` the rows of only these data files of Delta `dataset` (as its log spells them),
        with its columns and types; False when this engine cannot (the caller reads the whole dataset)."""
        return False

    def load_rows(self, name: str, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> exp.Table:
        """A temporary table `name` in this engine holding `rows` (columns: name → type family), for
        data that lives elsewhere (the key set of a referenced dataset). Values travel as parameters
        or Arrow data, never as SQL literals."""
        raise InfraError(f"the {self.kind} engine cannot hold rows of another source")

    def write_parquet(self, query: exp.Expr, folder: str) -> bool:
        """Write the rows of `query` as Parquet files into the new `folder`, on the engine's side, so they
        never reach this process; False when this engine cannot (the caller writes them itself)."""
        return False

    def close(self) -> None:  # noqa: B027 - optional for engines with nothing to release
        pass

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _table(name: str) -> exp.Table:
    from sqlglot import exp

    parts = name.split(".")
    return exp.table_(
        parts[-1],
        db=parts[-2] if len(parts) > 1 else None,
        catalog=parts[-3] if len(parts) > 2 else None,
        quoted=True,
    )


def duckdb_connection(threads: int | None = None, database: str | None = None) -> Any:
    """The one place a DuckDB connection to data is opened, with the settings every use needs
    (in memory, or on the `database` file: the demo builder spills its tables there)."""
    import duckdb

    con = duckdb.connect(database) if database else duckdb.connect()
    # Parquet footers read once per connection, not once per query (Delta never rewrites a file)
    con.execute("SET parquet_metadata_cache = true")
    # DuckDB draws a progress bar on stdout for a long query, which would corrupt --output json
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


class DuckDBEngine(Engine):
    kind = "duckdb"
    dialect = "duckdb"

    def __init__(
        self, project: Project | None = None, datasets: list[str] | None = None, threads: int | None = None
    ) -> None:
        super().__init__()
        self.con = duckdb_connection(threads)
        self._views: dict[str, str] = {}
        self._native: dict[str, tuple[resolve.DatasetLocation, Any, dict[str, str]]] = {}  # Delta, native
        for name in datasets or []:
            assert project is not None
            self.register(project, name)

    def _register(self, project: Project, dataset: str) -> None:
        loc = resolve.locate(project, dataset)
        if loc.spec.format not in ("delta", "parquet"):
            raise InfraError(f"dataset {dataset} ({loc.spec.format}) is not reachable from the duckdb engine")
        if not resolve.exists(loc):
            raise InfraError(f"dataset {dataset}: no data at {loc.uri}")
        self.register_location(loc)

    def register_location(self, loc: resolve.DatasetLocation) -> None:
        """A local Delta table as DuckDB's own Parquet scan of its snapshot when that is exact, else (and
        for remote tables and Parquet folders) as an Arrow dataset."""
        name = view_name(loc.name)
        if loc.spec.format == "delta" and not loc.is_remote:
            table = resolve.delta_table(loc)
            if not self._native_view(loc, table, name):
                # the Arrow dataset (one fragment per file) is built only when the native scan cannot serve
                self.con.register(name + "__arrow", resolve.delta_arrow(loc, table))
                self.con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM "{name}__arrow"')
        else:
            self.con.register(name, resolve.arrow_dataset(loc))
        self._views[loc.name] = name

    def _native_view(self, loc: resolve.DatasetLocation, table: Any, name: str) -> bool:
        """View `name` as DuckDB's own Parquet scan of the Delta snapshot (see governance.lake.native),
        with the column types the Arrow path gives (read from the log's schema: no data file is listed
        or opened for them); False to keep Arrow."""
        import pyarrow as pa

        from governance.lake import native

        if not native.supported(table):
            return False
        # no rows, only the types (Schema.empty_table() would import pandas, ~0.4 s of CPU)
        no_rows = pa.Table.from_batches([], schema=pa.schema(table.schema().to_arrow()))
        self.con.register(name + "__schema", no_rows)
        try:
            described = self.con.execute(f'DESCRIBE SELECT * FROM "{name}__schema"').fetchall()
        finally:
            self.con.unregister(name + "__schema")
        types = {str(r[0]): str(r[1]) for r in described}
        sql = native.view_sql(loc, table, types)
        if sql is None:
            return False
        try:
            self.con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {sql}')
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
        native = self._native.get(dataset)
        drawn = subset_view_sql(*native, size, seed) if size and native else None
        if drawn is not None:
            source, (sql, self.sampled_files[dataset]) = view_name(f"{dataset}__sampled_files"), drawn
            self.con.execute(f'CREATE OR REPLACE TEMPORARY VIEW "{source}" AS {sql}')
            self._views[source] = source
            log.info("sample of %s drawn from %s", dataset, self.sampled_files[dataset].summary())
            dataset = source
        return super().create_sample(name, dataset, projection, size, seed)

    def register_files(self, project: Project, dataset: str, name: str, files: list[str]) -> bool:
        """DuckDB's own Parquet scan of those files (`governance.lake.native`) of a local Delta table."""
        from governance.lake import native

        loc = resolve.locate(project, dataset)
        rel = self.relation(dataset).sql(dialect="duckdb")
        types = {str(r[0]): str(r[1]) for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
        delta = loc.spec.format == "delta" and bool(files)
        sql = native.view_sql(loc, resolve.delta_table(loc), types, set(files)) if delta else None
        if sql is None:
            return False
        view = view_name(name)
        self.con.execute(f'CREATE OR REPLACE VIEW "{view}" AS {sql}')
        self._views[name] = view
        return True

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

    def _run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.con.execute(sql)
        cols = [d[0] for d in cur.description or []]
        return cols, [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


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


class SparkEngine(Engine):
    kind = "spark"
    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        super().__init__()
        self.spark = spark
        self._views: dict[str, str] = {}

    def _register(self, project: Project, dataset: str) -> None:
        loc = resolve.locate(project, dataset)
        spec = loc.spec
        if spec.format == "spark":
            assert spec.table is not None
            df = self.spark.table(spec.table)
        elif spec.format == "delta":
            from governance.lake.spark_delta import delta_frame

            if not resolve.exists(loc):
                raise InfraError(f"dataset {dataset}: no data at {loc.uri}")
            df = delta_frame(self.spark, loc)
        elif spec.format == "parquet":
            df = self.spark.read.parquet(loc.uri)
        else:
            raise InfraError(f"dataset {dataset} ({spec.format}) is not reachable from the spark engine")
        self.register_dataframe(dataset, df)

    def register_dataframe(self, dataset: str, df: Any) -> None:
        name = view_name(dataset)
        df.createOrReplaceTempView(name)
        self._views[dataset] = name

    def load_rows(self, name: str, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> exp.Table:
        import pyarrow as pa

        names = list(columns)
        data = pa.table({c: [r[i] for r in rows] for i, c in enumerate(names)})
        self.spark.createDataFrame(data.to_pandas()).createOrReplaceTempView(name)
        return _table(name)

    def relation(self, dataset: str) -> exp.Table:
        if dataset not in self._views:
            raise InfraError(f"dataset {dataset} is not registered in the spark engine")
        return _table(self._views[dataset])

    def columns(self, dataset: str) -> dict[str, str]:
        view = self.relation(dataset).name
        return {name: str(t).lower() for name, t in self.spark.table(view).dtypes}

    def create_sample(
        self, name: str, dataset: str, projection: list[exp.Expr], size: int | None, seed: int
    ) -> str:
        """Spark: `DataFrame.sample(seed=)` of a slightly larger fraction, limited and cached, as a temp view."""
        df = self.spark.table(self.relation(dataset).sql("spark")).selectExpr(
            *(p.sql("spark") for p in projection)
        )
        kind = "VIEW"
        if size:
            total = df.count()
            if total > size:
                fraction = min(1.0, 1.2 * size / total)
                df = df.sample(withReplacement=False, fraction=fraction, seed=seed).limit(size).cache()
                kind = "TABLE"
        df.createOrReplaceTempView(name)
        self.queries += 1
        return kind

    def drop_temp(self, name: str, kind: str = "TABLE") -> None:
        if self.spark.catalog.tableExists(name):
            self.spark.catalog.uncacheTable(name)
            self.spark.catalog.dropTempView(name)

    def write_parquet(self, query: exp.Expr, folder: str) -> bool:
        from governance.lake.spark_delta import write_parquet

        self.queries += 1
        try:
            write_parquet(self.spark, self.sql(query), folder)
        except Exception as exc:
            raise failure(self.kind, exc, self.server) from exc
        return True

    def _run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        df = self.spark.sql(sql)
        return list(df.columns), [tuple(r) for r in df.collect()]


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
        from governance.lake.spark_session import server_address, spark_session

        engine = SparkEngine(spark_session(project))
        engine.server = server_address(project)
        for d in datasets:
            engine.register(project, d)
        return engine
    raise InputError(f"unknown engine '{kind}' (duckdb, sql, spark)")
