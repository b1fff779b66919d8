"""The engine interface every capability runs SQL through (see governance.lake.engines for the engines
and `open_engine`)."""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Literal

from governance.errors import InfraError
from governance.lake.engine_errors import failure

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
            return self._run_expr(expr, text)
        except InfraError:
            raise
        except Exception as exc:  # engine-specific error types
            raise failure(self.kind, exc, self.server) from exc

    def _run_expr(self, expr: exp.Expr | str, text: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run `expr`, rendered as `text` (an engine may evaluate part of the tree another way)."""
        return self._run(text)

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

    def snapshot(self, dataset: str) -> Any:
        """The Delta snapshot (a `deltalake.DeltaTable`) that this engine's relation of `dataset` reads
        file by file, or None when it reads the data otherwise (or not at all yet)."""
        return None

    def register_subset(self, dataset: str, name: str, files: set[str]) -> exp.Table | None:
        """A relation `name` over only these data files (as the log spells them) of the snapshot that
        `snapshot(dataset)` names, with the relation's columns and types; None when this engine cannot."""
        return None

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
