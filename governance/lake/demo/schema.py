"""Declared column types (smartflow.yaml `columns:`, SQL spelling) → Arrow types, and type comparison."""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from governance.config import Dataset
from governance.errors import InputError

_T = exp.DataType.Type
_SIMPLE = {
    _T.VARCHAR: pa.string(),
    _T.TEXT: pa.string(),
    _T.BIGINT: pa.int64(),
    _T.INT: pa.int32(),
    _T.SMALLINT: pa.int16(),
    _T.DOUBLE: pa.float64(),
    _T.FLOAT: pa.float32(),
    _T.BOOLEAN: pa.bool_(),
    _T.DATE: pa.date32(),
    _T.TIMESTAMP: pa.timestamp("us"),
    _T.TIMESTAMPNTZ: pa.timestamp("us"),
    _T.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
}


def sql_type(text: str) -> exp.DataType:
    return exp.DataType.build(text, dialect="duckdb")


def arrow_type(text: str) -> pa.DataType:
    dt = sql_type(text)
    if dt.this == _T.DECIMAL:
        precision, scale = (int(p.this.this) for p in dt.expressions) if dt.expressions else (18, 3)
        return pa.decimal128(precision, scale)
    if dt.this in _SIMPLE:
        return _SIMPLE[dt.this]
    raise InputError(f"column type {text!r} has no Arrow mapping for the demo lake")


def arrow_schema(name: str, spec: Dataset) -> pa.Schema:
    if not spec.columns:
        raise InputError(f"dataset {name} declares no `columns:`; the demo lake needs its schema")
    return pa.schema([pa.field(col, arrow_type(typ)) for col, typ in spec.columns.items()])


def same_type(declared: str, actual: str) -> bool:
    return sql_type(declared) == sql_type(actual)
