"""The `gx` engine: the same suite run by Great Expectations 1.x itself (the oracle for our engines).

GX's DuckDB path is broken (every expectation errors with duckdb-engine), so the dataset is read into a
pandas DataFrame (Delta/Parquet via Arrow; SQL datasets via SQLAlchemy) and validated by GX's pandas
execution engine, in an ephemeral context. Our two extensions have no GX counterpart and are reported
as not evaluated.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from governance.errors import InfraError
from governance.lake.connect import sql_engine
from governance.lake.spark_session import ignore_pandas_version_warning
from governance.project import Project
from governance.quality.runner import Outcome, Spec, mask_observed, referenced_columns

EXTENSIONS = {"expect_column_values_to_exist_in", "expect_column_max_to_be_recent"}


ignore_pandas_version_warning()  # GX imports pyspark when it is installed


def load_frame(project: Project, dataset: str) -> Any:
    import pyarrow as pa

    from governance.lake import resolve

    loc = resolve.locate(project, dataset)
    if loc.spec.format in ("delta", "parquet"):
        table = resolve.arrow_dataset(loc).to_table()
        # decimals → float64, as GX's pandas engine compares numbers
        fields = [pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema]
        return table.cast(pa.schema(fields)).to_pandas()
    if loc.spec.format == "sql":
        import pandas as pd
        import sqlalchemy as sa

        conn = project.config.connections[str(loc.spec.connection)]
        engine = sql_engine(conn.resolved_url(), conn.where)
        *schema, name = str(loc.spec.table).split(".")
        try:
            table = sa.table(name, schema=schema[-1] if schema else None)
            return pd.read_sql(sa.select(sa.text("*")).select_from(table), engine)
        finally:
            engine.dispose()
    raise InfraError(f"dataset {dataset}: the gx engine reads delta, parquet or sql datasets")


def validate_frame(
    frame: Any, specs: list[Spec], pii: set[str] | None = None, name: str = "suite"
) -> list[Outcome]:
    """Validate a pandas DataFrame with GX 1.x; results in our Outcome shape (PII samples masked)."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # stderr is for our messages
    source = context.data_sources.add_pandas("smartflow")
    batch_def = source.add_dataframe_asset("dataset").add_batch_definition_whole_dataframe("all")
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=name)
    outcomes: list[Outcome | None] = [None] * len(specs)
    for i, spec in enumerate(specs):
        if spec.type in EXTENSIONS:
            continue
        try:
            suite.add_expectation_configuration(
                ExpectationConfiguration(
                    type=spec.type, kwargs=dict(spec.kwargs), meta={"smartflow_index": i}
                )
            )
        except Exception as exc:  # GX rejects the kwargs (its pydantic models): that expectation's error
            outcomes[i] = Outcome(spec, False, {}, error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    result = batch.validate(suite, result_format="SUMMARY")
    for r in result.results:
        assert r.expectation_config is not None
        i = int(r.expectation_config.meta["smartflow_index"])
        res = dict(r.result or {})
        if pii and pii & set(referenced_columns(specs[i].kwargs)):
            if "partial_unexpected_list" in res:
                res["partial_unexpected_list"] = mask_observed(
                    {"observed_value": res["partial_unexpected_list"]}
                )["observed_value"]
            res.pop("partial_unexpected_counts", None)
            res = mask_observed(res)
        info = r.exception_info or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        outcomes[i] = Outcome(specs[i], bool(r.success), _plain(res), error=error)
    for i, spec in enumerate(specs):
        if outcomes[i] is None:
            outcomes[i] = Outcome(
                spec, False, {}, error=f"{spec.type} is a smartflow extension; GX has none", unsupported=True
            )
    return [o for o in outcomes if o is not None]


def validate_with_gx(project: Project, dataset: str, specs: list[Spec], now: datetime) -> list[Outcome]:
    try:
        import great_expectations  # noqa: F401
        import pandas  # noqa: F401
    except ImportError as exc:
        raise InfraError(
            f"the gx engine needs Great Expectations: pip install 'smartflow-gov[gx]' ({exc.name} missing)"
        ) from exc
    frame = load_frame(project, dataset)
    return validate_frame(frame, specs, project.pii_columns(dataset), dataset)


def _plain(value: Any) -> Any:
    """numpy / pandas scalars → JSON-friendly Python."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
