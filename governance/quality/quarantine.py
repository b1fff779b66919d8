"""`--quarantine`: failing rows of error-severity expectations, written to a Delta table per dataset.

The table holds the rows (PII-classified columns masked) plus `_failed_expectations` (which expectations
each row broke), `_run_id` and `_quarantined_at`, so engineers can inspect them and replay the keys once
fixed. One query per dataset (the same flags as the samples, without the bound).

Where: `quality.quarantine` in smartflow.yaml (`<root>/<dataset>`), else beside the data for an engine
that writes where the data is (Spark: `<lake root>/_quarantine/<dataset>`), else
`state_dir/quality/quarantine/<dataset>`. How:

- an engine that can write files itself (Spark) writes the rows as Parquet into a new folder of the
  table, masking in the SQL, so rows never reach this process; the client then commits those files to
  the Delta log (deltalake's transaction API) from their names, sizes and Parquet footers;
- any other engine returns the rows, which are masked here and appended with deltalake.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from governance.config import expand_env, resolve_path
from governance.errors import InfraError
from governance.masking import MASK_MAX, mask
from governance.quality.compiler import flag_name
from governance.quality.expectations.base import Ctx, Expectation

if TYPE_CHECKING:
    from governance.lake.engines import Engine
    from governance.project import Project

Failing = dict[int, tuple[Expectation, str]]


def table_uri(project: Project, dataset: str, engine_kind: str) -> str:
    """The quarantine table of `dataset` (a local path or a URL)."""
    quality = project.config.quality
    if quality.quarantine:
        root = expand_env(quality.quarantine, quality.where)
        root = root.rstrip("/") if "://" in root else str(resolve_path(project.root, root))
    elif engine_kind == "spark":
        root = f"{_lake_root(project, dataset)}/_quarantine"
    else:
        return str(project.state_dir / "quality" / "quarantine" / dataset)
    return f"{root}/{dataset}"


def _lake_root(project: Project, dataset: str) -> str:
    """The lake root, or for a dataset at an absolute URL the folder holding it."""
    path = project.dataset(dataset).path or ""
    return path.rstrip("/").rpartition("/")[0] if "://" in path else project.lake_root


def write(
    engine: Engine,
    ctx: Ctx,
    failing: Failing,
    uri: str,
    run_id: str,
    pii: set[str],
    storage_options: dict[str, str] | None = None,
) -> int:
    """Write the failing rows to the Delta table at `uri`; returns how many rows were quarantined."""
    if not failing:
        return 0
    now = datetime.now(UTC)
    query = _failing_rows(ctx, failing)
    folder = f"{uri.rstrip('/')}/{run_id}"
    if engine.write_parquet(_stored_rows(query, ctx, failing, run_id, now, pii), folder):
        return commit_files(uri, run_id, storage_options)
    return _append_here(engine, query, ctx, failing, uri, run_id, now, pii, storage_options)


def _failing_rows(ctx: Ctx, failing: Failing) -> exp.Select:
    """The dataset's columns and one 0/1 flag per failing expectation, for the rows breaking any."""
    derived: dict[str, exp.Expr] = {}
    for e, _ in failing.values():
        derived.update(e.derived())
    inner = ctx.source().select(*[exp.column(c, quoted=True) for c in ctx.columns])
    if derived:
        inner = inner.select(*[v.as_(k, quoted=True) for k, v in derived.items()])
    flags = [
        exp.Case(
            ifs=[exp.If(this=e.unexpected(), true=exp.Literal.number(1))], default=exp.Literal.number(0)
        ).as_(flag_name(i), quoted=True)
        for i, (e, _) in failing.items()
    ]
    preds = [e.unexpected() for e, _ in failing.values()]
    return (
        exp.select(*[exp.column(c, quoted=True) for c in ctx.columns], *flags)
        .from_(inner.subquery("q"))
        .where(exp.or_(*[p for p in preds if p is not None]))
    )


def _stored_rows(
    query: exp.Select, ctx: Ctx, failing: Failing, run_id: str, now: datetime, pii: set[str]
) -> exp.Select:
    """The rows as stored, computed by the engine: PII masked in the SQL, the labels of the broken
    expectations as an array, the run's id and time as constants."""
    labels = exp.Array(
        expressions=[
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.EQ(
                            this=exp.column(flag_name(i), "r", quoted=True), expression=exp.Literal.number(1)
                        ),
                        true=exp.Literal.string(label),
                    )
                ]
            )
            for i, (_, label) in failing.items()
        ]
    )
    not_null = sqlglot.parse_one("FILTER(a, x -> x IS NOT NULL)", read="spark").expression
    columns = [
        (_masked(exp.column(c, "r", quoted=True)) if c in pii else exp.column(c, "r", quoted=True)).as_(
            c, quoted=True
        )
        for c in ctx.columns
    ]
    return exp.select(
        *columns,
        exp.ArrayFilter(this=labels, expression=not_null).as_("_failed_expectations", quoted=True),
        exp.Literal.string(run_id).as_("_run_id", quoted=True),
        exp.cast(exp.Literal.string(now.isoformat()), "timestamp").as_("_quarantined_at", quoted=True),
    ).from_(query.subquery("r"))


def _masked(value: exp.Expr) -> exp.Expr:
    """`governance.masking.mask` in SQL: letters → x, digits → 9, at most MASK_MAX characters then "…"."""
    text = exp.cast(value, "string")
    head = exp.Substring(this=text, start=exp.Literal.number(1), length=exp.Literal.number(MASK_MAX))
    shape: exp.Expr = head
    for pattern, symbol in (("\\p{L}", "x"), ("\\p{Nd}", "9")):
        shape = exp.RegexpReplace(
            this=shape, expression=exp.Literal.string(pattern), replacement=exp.Literal.string(symbol)
        )
    longer = exp.GT(this=exp.Length(this=text.copy()), expression=exp.Literal.number(MASK_MAX))
    more = exp.Case(ifs=[exp.If(this=longer, true=exp.Literal.string("…"))], default=exp.Literal.string(""))
    return exp.Concat(expressions=[shape, more])


def commit_files(uri: str, run_id: str, storage_options: dict[str, str] | None) -> int:
    """Commit the Parquet files the engine wrote into `<uri>/<run_id>/` to the Delta table at `uri`
    (created on first use; columns new to it are added), reading only the files' names, sizes and
    footers. Returns the rows they hold; an empty result leaves no folder and no commit."""
    import pyarrow.parquet as pq
    from deltalake import DeltaTable, Schema
    from deltalake.transaction import AddAction, CommitProperties, RemoveAction, create_table_with_add_actions

    fs, base = _filesystem(uri, storage_options or {})
    folder = run_id
    adds: list[AddAction] = []
    schema = None
    rows = 0
    infos = fs.get_file_info(_selector(f"{base}/{folder}"))
    for info in sorted(infos, key=lambda i: i.path):
        name = info.path.rsplit("/", 1)[-1]
        if not name.endswith(".parquet") or name.startswith(("_", ".")):
            continue  # _SUCCESS, .crc checksums
        with fs.open_input_file(info.path) as f:
            meta = pq.ParquetFile(f).metadata
        schema = meta.schema.to_arrow_schema()
        rows += meta.num_rows
        adds.append(
            AddAction(
                path=f"{folder}/{name}",
                size=int(info.size or 0),
                partition_values={},
                modification_time=int((info.mtime_ns or 0) // 1_000_000),
                data_change=True,
                stats=json.dumps({"numRecords": meta.num_rows}),
            )
        )
    if rows == 0 or schema is None:
        with contextlib.suppress(FileNotFoundError):
            fs.delete_dir(f"{base}/{folder}")
        return 0
    props = CommitProperties(custom_metadata={"smartflow.run_id": run_id})
    opts = storage_options or None
    if not DeltaTable.is_deltatable(uri, opts):
        create_table_with_add_actions(
            uri, Schema.from_arrow(schema), adds, mode="error", storage_options=opts, commit_properties=props
        )
        return rows
    table = DeltaTable(uri, storage_options=opts)
    _add_new_columns(table, schema)
    actions: list[AddAction | RemoveAction] = [*adds]
    table.create_write_transaction(actions, mode="append", schema=schema, commit_properties=props)
    return rows


def _add_new_columns(table: Any, schema: Any) -> None:
    from deltalake import Field, Schema

    known = {f.name for f in table.schema().fields}
    new = [f for f in Schema.from_arrow(schema).fields if f.name not in known]
    if new:
        table.alter.add_columns([Field(f.name, f.type, nullable=True) for f in new])


def _filesystem(uri: str, options: dict[str, str]) -> tuple[Any, str]:
    """pyarrow's filesystem for `uri`; for abfss:// the lake's account key or SAS token when the storage
    options hold one, else Azure's default credential chain (environment, managed identity, CLI)."""
    import pyarrow.fs as pafs

    try:
        fs, path = pafs.FileSystem.from_uri(uri)
        opts = {k.lower().removeprefix("azure_storage_"): v for k, v in options.items()}
        if uri.startswith(("abfs://", "abfss://")) and (opts.get("account_key") or opts.get("sas_token")):
            account = opts.get("account_name") or uri.split("@", 1)[1].split(".", 1)[0]
            secret = (
                {"account_key": opts["account_key"]}
                if opts.get("account_key")
                else {"sas_token": opts["sas_token"]}
            )
            fs = pafs.AzureFileSystem(account_name=account, **secret)
        return fs, path
    except (ValueError, OSError) as exc:
        raise InfraError(
            f"quarantine table {uri}: cannot list its files here ({type(exc).__name__})"
        ) from None


def _selector(path: str) -> Any:
    import pyarrow.fs as pafs

    return pafs.FileSelector(path, allow_not_found=True)


def _append_here(
    engine: Engine,
    query: exp.Select,
    ctx: Ctx,
    failing: Failing,
    uri: str,
    run_id: str,
    now: datetime,
    pii: set[str],
    storage_options: dict[str, str] | None,
) -> int:
    """The rows come back from the engine and are masked and appended here."""
    import pyarrow as pa
    from deltalake import write_deltalake

    names, rows = engine.execute(query)
    if not rows:
        return 0
    records: list[dict[str, Any]] = []
    for row in rows:
        rec = dict(zip(names, row, strict=True))
        failed = [label for i, (_, label) in failing.items() if rec.get(flag_name(i)) == 1]
        out: dict[str, Any] = {c: mask(rec[c]) if c in pii else rec[c] for c in ctx.columns}
        out["_failed_expectations"] = failed
        out["_run_id"] = run_id
        out["_quarantined_at"] = now
        records.append(out)
    table = pa.Table.from_pylist(records)
    table = table.cast(
        pa.schema([_storable(f, c in pii) for f, c in zip(table.schema, table.column_names, strict=True)])
    )
    if "://" not in uri:
        from pathlib import Path

        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(uri, table, mode="append", schema_mode="merge", storage_options=storage_options or None)
    return len(records)


def _storable(field: Any, masked: bool) -> Any:
    import pyarrow as pa

    if masked or pa.types.is_null(field.type):
        return pa.field(field.name, pa.string())
    if pa.types.is_timestamp(field.type) and field.type.tz is None:
        return pa.field(field.name, pa.timestamp("us"))
    return field
