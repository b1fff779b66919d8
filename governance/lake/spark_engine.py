"""The Spark engine: the SparkSession of `governance.lake.spark_session` (Spark Connect from
`spark.remote` or SPARK_REMOTE, else the active one, else local[*]). Format spark uses
`spark.table(table)`; Delta is read on the cluster from the log's file list (`governance.lake.spark_delta`,
no Delta jars needed); each dataset becomes a temp view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from governance.errors import InfraError
from governance.lake import resolve
from governance.lake.engine_base import Engine, _table, view_name
from governance.lake.engine_errors import failure

if TYPE_CHECKING:
    from sqlglot import exp

    from governance.project import Project


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
