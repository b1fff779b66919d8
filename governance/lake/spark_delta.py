"""A Delta table as a Spark DataFrame read on the cluster from the log's file list (no Delta jars needed).

The client reads the Delta log (deltalake) and hands Spark the snapshot's Parquet files with the table's
own schema (the log's `schemaString` is a Spark StructType). Partition values are the log's: parsed from
hive-style paths only where the paths spell exactly those values (one read, `col = value` filters prune
files), else one read per partition with the values as typed constants (a filter on them prunes whole
branches). A table using a reader feature a Parquet read cannot honour (deletion vectors, column mapping,
…) or a file path Spark would expand as a glob is that dataset's error (exit 3), never wrong rows.
"""

from __future__ import annotations

import json
from functools import reduce
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from governance.errors import InfraError
from governance.lake import native, resolve

if TYPE_CHECKING:
    from deltalake import DeltaTable

_GLOB = set("*?[]{}\\")


def _file(root: str, path: str) -> str | None:
    """An `add` path (URI-encoded, relative or absolute) as Spark must be given it; None when Spark would
    read it as a glob pattern."""
    full = unquote(path) if "://" in path else f"{root.rstrip('/')}/{unquote(path)}"
    return None if _GLOB & set(full[len(root) :] if full.startswith(root) else full) else full


def unsupported_features(table: DeltaTable) -> list[str]:
    protocol = table.protocol()
    features = sorted(set(protocol.reader_features or []) - native.HARMLESS_FEATURES)
    mapping = (table.metadata().configuration or {}).get("delta.columnMapping.mode", "none")
    if mapping not in ("none", None) and "columnMapping" not in features:
        features.append("columnMapping")
    return features


def delta_frame(spark: Any, loc: resolve.DatasetLocation) -> Any:
    """The current snapshot of the Delta table at `loc` as a DataFrame with the table's columns, in order."""
    from pyspark.sql.types import StructType
    from sqlglot import exp

    table = resolve.delta_table(loc)
    root = loc.uri or ""
    if not native.supported(table):
        raise InfraError(
            f"dataset {loc.name}: the Delta table uses {', '.join(unsupported_features(table))}, which a "
            "Parquet read of its files cannot honour; validate it with an engine that reads Delta natively"
        )
    schema = StructType.fromJson(json.loads(table.schema().to_json()))
    partitions = list(table.metadata().partition_columns)
    groups = native.file_groups(table, partitions, lambda path: _file(root, path))
    if groups is None:
        raise InfraError(f"dataset {loc.name}: a data file's path holds glob characters Spark would expand")
    names = [f.name for f in schema.fields]
    if not groups:
        return spark.createDataFrame([], schema)
    if native.hive_spelled(root, groups, partitions):
        files = sorted(f for group in groups.values() for f in group)
        reader = spark.read.schema(schema)
        if partitions:
            reader = reader.option("basePath", root)
        return reader.parquet(*files).select(*names)
    data = StructType([f for f in schema.fields if f.name not in partitions])
    frames = []
    for key, files in sorted(groups.items(), key=lambda kv: kv[1]):
        consts = dict(zip(partitions, key, strict=True))
        columns = []
        for field in schema.fields:  # SQL text, not pyspark functions: the same code for Connect and classic
            if field.name in consts:
                value = consts[field.name]
                literal = exp.null() if value is None else exp.Literal.string(native.text(value))
                typed = exp.cast(literal, field.dataType.simpleString(), dialect="spark")
                columns.append(typed.as_(field.name, quoted=True).sql("spark"))
            else:
                columns.append(exp.column(field.name, quoted=True).sql("spark"))
        frames.append(spark.read.schema(data).parquet(*sorted(files)).selectExpr(*columns))
    return reduce(lambda a, b: a.unionByName(b), frames)


def write_parquet(spark: Any, sql: str, folder: str) -> None:
    """The rows of `sql` written by the cluster as Parquet files into `folder` (a new folder: the rows never
    pass through this process). Timestamps as INT64 microseconds, which Delta readers expect (Spark's
    default INT96 is not a Delta type); the session's setting is restored afterwards."""
    key = "spark.sql.parquet.outputTimestampType"
    before = spark.conf.get(key, None)
    spark.conf.set(key, "TIMESTAMP_MICROS")
    try:
        spark.sql(sql).write.mode("error").parquet(folder)
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)
