"""Run Great Expectations' own test definitions against our engines (the conformance proof).

Each dataset of a definition file is loaded into the engine (typed with the schema of the nearest GX
backend: duckdb≈sqlite/sqlalchemy, postgres≈postgresql, spark≈spark) with a hidden `pk_index` row order;
each test's kwargs run through our runner, and our result is compared with the test's `out`.
Verdicts: pass, fail, skip (not applicable to this backend, or an expectation we do not support).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.lake.engines import DuckDBEngine, Engine, SQLEngine
from governance.lake.spark_engine import SparkEngine
from governance.quality.expectations import implementation
from governance.quality.expectations.base import Ctx
from governance.quality.runner import Outcome, Spec, validate

NAMES: dict[str, set[str]] = {
    "duckdb": {"sqlite", "sqlalchemy", "duckdb"},
    "postgres": {"postgresql", "sqlalchemy"},
    "spark": {"spark"},
}
SCHEMAS: dict[str, list[str]] = {
    "duckdb": ["sqlite", "postgresql"],
    "postgres": ["postgresql", "sqlite"],
    "spark": ["spark"],
}
PK = "pk_index"
# GX tests of behaviour that is not ours to match: distributional / statistical-test expectations and
# GX-internal features (evaluation parameters, unexpected_rows query language).
UNSUPPORTED_REASONS = {
    "expect_column_values_to_match_json_schema": "JSON-schema validation has no SQL pushdown",
    "expect_column_values_to_be_dateutil_parseable": "dateutil parsing is a Python-only semantic",
    "expect_table_row_count_to_equal_other_table": "cross-table row counts use GX table names, not datasets",
    "expect_column_pair_cramers_phi_value_to_be_less_than": "statistical test, not a data-quality check",
    "expect_column_kl_divergence_to_be_less_than": "distributional test, not a data-quality check",
    "expect_column_chisquare_test_p_value_to_be_greater_than": "distributional test",
    "expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than": "distributional test",
    "expect_column_bootstrapped_ks_test_p_value_to_be_greater_than": "distributional test",
    "unexpected_rows_expectation": "arbitrary-SQL expectation (GX query language)",
    "expect_this_test_to_be_suppressed": "GX harness self-test",
}


@dataclass
class Case:
    file: str
    expectation: str
    dataset_index: int
    title: str
    verdict: str  # pass | fail | skip
    reason: str = ""


def definitions(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.glob("*/*.json")):
        yield path, json.loads(path.read_text())


# --------------------------------------------------------------------------------------------- loading
def _sql_type(backend: str, gx_type: str | None, values: list[Any]) -> str:
    t = (gx_type or "").upper()
    if backend == "spark":
        spark = {
            "INTEGERTYPE": "INT",
            "LONGTYPE": "BIGINT",
            "STRINGTYPE": "STRING",
            "DOUBLETYPE": "DOUBLE",
            "FLOATTYPE": "FLOAT",
            "BOOLEANTYPE": "BOOLEAN",
            "TIMESTAMPTYPE": "TIMESTAMP",
            "DATETYPE": "DATE",
        }
        if t in spark:
            return spark[t]
    if t:
        if t in ("DATETIME", "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE"):
            return "TIMESTAMP"
        if t.startswith("TIMESTAMP") and "ZONE" in t:
            return "TIMESTAMPTZ" if backend == "duckdb" else "TIMESTAMP WITH TIME ZONE"
        if t in ("TEXT", "VARCHAR", "STRING", "CHAR") or t.startswith("VARCHAR"):
            return "VARCHAR" if backend != "spark" else "STRING"
        if t in ("INTEGER", "INT") and backend == "duckdb":
            return "BIGINT"  # SQLite's INTEGER (the schema we borrow) holds 64 bits; DuckDB's holds 32
        if t in ("INTEGER", "INT", "BIGINT", "SMALLINT", "DATE", "BOOLEAN"):
            return t
        if t in ("FLOAT", "DOUBLE", "REAL", "DOUBLE_PRECISION", "DOUBLE PRECISION", "NUMERIC", "DECIMAL"):
            return "DOUBLE" if backend != "postgres" else "DOUBLE PRECISION"
    return _infer(backend, values)


def _infer(backend: str, values: list[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:  # an all-null column: untyped data, as pandas holds it (float NaN)
        return "DOUBLE" if backend != "postgres" else "DOUBLE PRECISION"
    if kinds <= {bool} and kinds:
        return "BOOLEAN"
    if kinds <= {int} and kinds:
        return "BIGINT"
    if kinds <= {int, float} and kinds:
        return "DOUBLE" if backend != "postgres" else "DOUBLE PRECISION"
    return "STRING" if backend == "spark" else "VARCHAR"


def _convert(value: Any, sql_type: str) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    t = sql_type.upper()
    try:
        if t in ("INT", "INTEGER", "BIGINT", "SMALLINT"):
            return int(value)
        if t.startswith("DOUBLE") or t == "FLOAT":
            return float(value)
        if t == "BOOLEAN":
            return bool(value)
        if t.startswith("TIMESTAMP"):
            from dateutil import parser

            parsed = parser.parse(str(value)) if not isinstance(value, dt.datetime) else value
            return parsed if "Z" in t.replace("TIMESTAMP", "") or "ZONE" in t else parsed.replace(tzinfo=None)
        if t == "DATE":
            from dateutil import parser

            return parser.parse(str(value)).date()
        if t in ("VARCHAR", "STRING", "TEXT"):
            return (
                value
                if isinstance(value, str)
                else json.dumps(value)
                if isinstance(value, dict | list)
                else str(value)
            )
    except (ValueError, TypeError, OverflowError):
        return None
    return value


def _schema(ds: dict[str, Any], backend: str) -> dict[str, str]:
    schemas = ds.get("schemas") or {}
    chosen: dict[str, str] = {}
    for name in SCHEMAS[backend]:
        if name in schemas:
            chosen = schemas[name]
            break
    data = ds["data"]
    return {c: _sql_type(backend, chosen.get(c), list(v)) for c, v in data.items()}


def _rows(data: dict[str, list[Any]], types: dict[str, str]) -> list[tuple[Any, ...]]:
    cols = list(data)
    n = max((len(v) for v in data.values()), default=0)
    return [
        (i, *[_convert(data[c][i] if i < len(data[c]) else None, types[c]) for c in cols]) for i in range(n)
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Loader:
    """Loads conformance datasets into one engine and returns ctx for each."""

    def __init__(self, backend: str, pg_url: str | None = None, spark: Any = None) -> None:
        self.backend = backend
        self.n = 0
        if backend == "duckdb":
            self.engine: Engine = DuckDBEngine()
        elif backend == "postgres":
            assert pg_url
            self.schema = f"sfg_conf_{dt.datetime.now().strftime('%H%M%S%f')}"
            self.engine = SQLEngine(pg_url)
            self.engine.connection.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
            self.engine.connection.commit()
        else:
            self.engine = SparkEngine(spark)

    def load(self, ds: dict[str, Any]) -> Ctx:
        self.n += 1
        name = f"conf.t{self.n}"
        table = f"t{self.n}"
        types = _schema(ds, self.backend)
        rows = _rows(ds["data"], types)
        cols = list(ds["data"])
        if self.backend == "duckdb":
            con = self.engine.con  # type: ignore[attr-defined]
            ddl = ", ".join([f"{PK} BIGINT"] + [f"{_quote(c)} {types[c]}" for c in cols])
            con.execute(f"CREATE TABLE {table} ({ddl})")
            if rows:
                marks = ", ".join("?" for _ in range(len(cols) + 1))
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            self.engine.register_table(name, table)  # type: ignore[attr-defined]
        elif self.backend == "postgres":
            conn = self.engine.connection  # type: ignore[attr-defined]
            full = f"{self.schema}.{table}"
            ddl = ", ".join([f"{PK} BIGINT"] + [f"{_quote(c)} {types[c]}" for c in cols])
            conn.exec_driver_sql(f"CREATE TABLE {full} ({ddl})")
            if rows:
                marks = ", ".join("%s" for _ in range(len(cols) + 1))
                conn.exec_driver_sql(f"INSERT INTO {full} VALUES ({marks})", rows)
            conn.commit()
            self.engine.tables[name] = full  # type: ignore[attr-defined]
        else:
            spark = self.engine.spark  # type: ignore[attr-defined]
            ddl = ", ".join([f"{PK} BIGINT"] + [f"`{c}` {types[c]}" for c in cols])
            df = spark.createDataFrame(rows, schema=ddl)
            self.engine.register_dataframe(name, df)  # type: ignore[attr-defined]
        columns = {c: t for c, t in self.engine.columns(name).items() if c != PK}
        dialect = self.engine.dialect
        return Ctx(
            dataset=name, relation=self.engine.relation(name), dialect=dialect, columns=columns, order=[PK]
        )

    def close(self) -> None:
        if self.backend == "postgres":
            conn = self.engine.connection  # type: ignore[attr-defined]
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            conn.commit()
        if self.backend != "spark":
            self.engine.close()


# ------------------------------------------------------------------------------------------ comparing
def _applicable(test: dict[str, Any], backend: str) -> bool:
    names = NAMES[backend]
    if set(test.get("suppress_test_for") or []) & names:
        return False
    only = test.get("only_for")
    return not only or bool(set(only) & names)


def _norm(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            parsed = dt.datetime.fromisoformat(v)
            return parsed.replace(tzinfo=None).isoformat(sep=" ")
        except ValueError:
            return v
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_norm(x) for x in v]
    return v


def _same(expected: Any, got: Any, tolerance: float | None) -> bool:
    e, g = _norm(expected), _norm(got)
    if isinstance(e, int | float) and isinstance(g, int | float) and not isinstance(e, bool):
        tol = tolerance if tolerance is not None else 1e-6
        return math.isclose(float(e), float(g), rel_tol=tol, abs_tol=tol)
    if isinstance(e, list) and isinstance(g, list):
        if len(e) != len(g):
            return False
        if all(_same(a, b, tolerance) for a, b in zip(e, g, strict=True)):
            return True
        return sorted(map(repr, e)) == sorted(map(repr, g))
    if isinstance(e, dict) and isinstance(g, dict):
        return all(k in g and _same(v, g[k], tolerance) for k, v in e.items())
    if isinstance(e, str) and not isinstance(g, str) and g is not None:
        return e == str(g)
    return bool(e == g)


def compare(test: dict[str, Any], outcome: Outcome) -> str | None:
    """None when our outcome matches the test's `out`, else why not."""
    out = test["out"]
    expects_error = bool(test.get("error") or "traceback_substring" in out)
    if expects_error:
        return None if outcome.error else "an exception was expected"
    if outcome.error:
        return f"raised {outcome.error}"
    tol = test.get("tolerance")
    for key, want in out.items():
        if key == "success":
            if outcome.success != want:
                return f"success {outcome.success} != {want}"
        elif key in ("unexpected_list", "unexpected_index_list", "observed_value"):
            got = outcome.result.get(key, [] if key != "observed_value" else None)
            if not _same(want, got, tol):
                return f"{key} {str(got)[:120]} != {str(want)[:120]}"
        elif key == "details":
            continue  # GX-internal detail shapes
    return None


def run_backend(root: Path, backend: str, pg_url: str | None = None, spark: Any = None) -> list[Case]:
    cases: list[Case] = []
    loader = Loader(backend, pg_url, spark)
    try:
        for path, doc in definitions(root):
            etype = doc.get("expectation_type") or path.stem
            for di, ds in enumerate(doc.get("datasets", [])):
                tests = ds.get("tests", [])
                if etype in UNSUPPORTED_REASONS or implementation(etype) is None:
                    reason = UNSUPPORTED_REASONS.get(etype, "not implemented")
                    cases += [Case(path.name, etype, di, t["title"], "skip", reason) for t in tests]
                    continue
                applicable = [t for t in tests if _applicable(t, backend)]
                cases += [
                    Case(path.name, etype, di, t["title"], "skip", "not for this backend")
                    for t in tests
                    if t not in applicable
                ]
                if not applicable:
                    continue
                try:
                    ctx = loader.load(ds)
                except Exception as exc:  # a dataset the engine cannot hold is a failure of every test
                    cases += [
                        Case(path.name, etype, di, t["title"], "fail", f"load: {exc}"[:200])
                        for t in applicable
                    ]
                    continue
                for test in applicable:
                    kwargs = dict(test["in"])
                    kwargs.pop("result_format", None)
                    kwargs.pop("catch_exceptions", None)
                    run = validate(loader.engine, ctx, [Spec(etype, kwargs)], sample_size=None, complete=True)
                    outcome = run.outcomes[0]
                    if outcome.unsupported:
                        cases.append(Case(path.name, etype, di, test["title"], "skip", outcome.error or ""))
                        continue
                    _complete_lists(outcome)
                    why = compare(test, outcome)
                    cases.append(
                        Case(
                            path.name, etype, di, test["title"], "pass" if why is None else "fail", why or ""
                        )
                    )
    finally:
        loader.close()
    return cases


def _complete_lists(outcome: Outcome) -> None:
    if "unexpected_count" in outcome.result:
        outcome.result.setdefault("unexpected_list", [])
        outcome.result.setdefault("unexpected_index_list", [])


def summary(cases: list[Case]) -> dict[str, int | float]:
    p = sum(c.verdict == "pass" for c in cases)
    f = sum(c.verdict == "fail" for c in cases)
    s = sum(c.verdict == "skip" for c in cases)
    return {"pass": p, "fail": f, "skip": s, "rate": 100.0 * p / (p + f) if p + f else 100.0}
