"""Silver and gold: run each SQL manifest with DuckDB, in dependency order, and write its output as Delta.

The manifest's SQL runs verbatim. Its dotted dataset names resolve through DuckDB views: every input's
Arrow dataset (read back from the lake) is registered under a safe alias and a view `<schema>.<table>`
is created on it, both built as sqlglot trees, so no identifier from a YAML file is pasted into SQL.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.errors import InputError
from governance.lake import resolve
from governance.lake.demo.calendar import Calendar
from governance.lake.demo.schema import arrow_schema, same_type
from governance.lake.demo.writer import TableWriter
from governance.lake.duckdb_connect import duckdb_connection
from governance.lake.engines import view_name
from governance.specs.manifests import Manifest

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from governance.project import Project

BATCH_ROWS = 256_000
# When a derived partition of date D lands (it is judged against D + late_tolerance): a streaming job
# opens it within minutes, the hourly Spark ELT within the small hours, daily SQL jobs the next day.
ARRIVAL_OFFSET = {
    "stream": timedelta(minutes=5),
    "spark": timedelta(hours=2, minutes=15),
    "sql": timedelta(days=1, hours=3, minutes=15),
}


def sql_manifests(project: Project, bronze: set[str]) -> list[Manifest]:
    """Manifests with SQL, ordered so that every input is built before it is read."""
    todo = [m for m in project.manifests if m.sql]
    for m in todo:
        if len(m.outputs) != 1:
            raise InputError(
                f"job {m.job}: a SQL manifest needs exactly one output", project.locate(m, "outputs")
            )
    built = set(bronze)
    ordered: list[Manifest] = []
    while todo:
        ready = [m for m in todo if all(i in built for i in m.inputs)]
        if not ready:
            missing = sorted({i for m in todo for i in m.inputs if i not in built})
            raise InputError(
                f"jobs {', '.join(m.job for m in todo)} read datasets nothing produces: {', '.join(missing)}",
                project.locate(todo[0], "inputs"),
            )
        ordered += ready
        built |= {m.outputs[0] for m in ready}
        todo = [m for m in todo if m not in ready]
    return ordered


class Deriver:
    def __init__(self, project: Project, cal: Calendar, replace: bool) -> None:
        self.project = project
        self.cal = cal
        self.replace = replace
        self._tmp = tempfile.TemporaryDirectory(prefix="smartflow-demo-")
        self.con: duckdb.DuckDBPyConnection = duckdb_connection(
            database=str(Path(self._tmp.name) / "build.duckdb")
        )
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET memory_limit = '4GB'")
        self.con.execute("SET temp_directory = ?", [str(Path(self._tmp.name) / "spill")])

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()

    def _expose(self, name: str) -> None:
        from sqlglot import exp

        parts = name.split(".")
        if len(parts) != 2:
            raise InputError(f"dataset {name}: the demo builder needs two-part names (schema.table)")
        alias = view_name(name)
        self.con.register(alias, resolve.arrow_dataset(resolve.locate(self.project, name)))
        schema = exp.to_identifier(parts[0], quoted=True)
        self.con.execute(exp.Create(this=exp.Table(this=schema), kind="SCHEMA", exists=True).sql("duckdb"))
        view = exp.Create(
            this=exp.Table(this=exp.to_identifier(parts[1], quoted=True), db=schema),
            kind="VIEW",
            replace=True,
            expression=exp.select("*").from_(exp.Table(this=exp.to_identifier(alias, quoted=True))),
        )
        self.con.execute(view.sql("duckdb"))

    def _check(self, m: Manifest, rel: duckdb.DuckDBPyRelation) -> None:
        out = m.outputs[0]
        declared = self.project.dataset(out).columns
        got = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
        where = self.project.locate(m, "sql")
        if list(got) != list(declared):
            raise InputError(
                f"job {m.job}: its SQL returns columns {list(got)}, but {out} declares {list(declared)}",
                where,
            )
        wrong = [f"{c} is {got[c]}, declared {t}" for c, t in declared.items() if not same_type(t, got[c])]
        if wrong:
            raise InputError(f"job {m.job}: column types differ from {out}: " + "; ".join(wrong), where)

    def run(self, m: Manifest) -> tuple[TableWriter, Iterator[int]]:
        """Runs the job; yields after each commit so callers can show progress."""
        import duckdb

        out = m.outputs[0]
        for name in m.inputs:
            self._expose(name)
        try:
            rel = self.con.sql(m.sql or "")
        except duckdb.Error as exc:
            raise InputError(
                f"job {m.job}: its SQL does not run on DuckDB: {exc}", self.project.locate(m, "sql")
            ) from exc
        self._check(m, rel)
        spec = self.project.dataset(out)
        loc = resolve.locate(self.project, out)
        writer = TableWriter(loc, arrow_schema(out, spec), replace=self.replace)
        fr = spec.freshness
        daily = (
            fr is not None and fr.partition_column is not None and fr.partition_column in spec.partitioning
        )
        if daily:
            assert fr is not None and fr.partition_column is not None
            return writer, self._by_partition(m, rel, writer, fr.partition_column)
        return writer, self._whole(rel, writer)

    def _whole(self, rel: duckdb.DuckDBPyRelation, writer: TableWriter) -> Iterator[int]:
        writer.write(_batches(rel.fetch_arrow_reader(BATCH_ROWS)), self.cal.as_of)
        yield writer.rows

    def _by_partition(
        self, m: Manifest, rel: duckdb.DuckDBPyRelation, writer: TableWriter, column: str
    ) -> Iterator[int]:
        """One commit per partition date, each stamped with the simulated time that partition landed."""
        import duckdb

        table = view_name(m.outputs[0]) + "_result"
        rel.create(table)
        result = self.con.table(table)
        key = duckdb.ColumnExpression(column)
        values = sorted(v for (v,) in result.select(key).distinct().fetchall() if v is not None)
        offset = ARRIVAL_OFFSET.get(m.kind, ARRIVAL_OFFSET["sql"])
        for value in values:
            part = result.filter(key == duckdb.ConstantExpression(value))
            writer.write(_batches(part.fetch_arrow_reader(BATCH_ROWS)), self._arrival(value, offset))
            yield writer.rows
        nulls = result.filter(key.isnull())
        if nulls.aggregate("count(*)").fetchall() != [(0,)]:
            writer.write(_batches(nulls.fetch_arrow_reader(BATCH_ROWS)), self.cal.as_of)
            yield writer.rows
        self.con.execute(f"DROP TABLE {_quoted(table)}")

    def _arrival(self, value: Any, offset: timedelta) -> datetime:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return self.cal.cap(datetime.combine(day, datetime.min.time()) + offset)


def _quoted(name: str) -> str:
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    yield from reader
