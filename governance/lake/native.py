"""A local Delta table as DuckDB's own Parquet scan over the snapshot's files.

DuckDB reads Parquet natively much faster than through an Arrow dataset handed over the C stream
(the quality bench's hand-written query: 3.0 s vs 4.4 s on 9.8 M rows; bench/quality.py and
bench/delta_scan.py). The Delta log stays the authority: the file list is the snapshot's, partition
values are the ones its `add` actions hold (read from hive-style paths only where the paths spell
exactly those values, else one `read_parquet` per partition with the values as constants; either way
`col = value` filters prune files), and every column is cast to the type the Arrow path gives, so both
paths expose the same relation. Tables using a reader feature this scan cannot honour (deletion
vectors, column mapping, …) stay on deltalake's Arrow dataset (which reads column-mapped tables and
refuses deletion vectors with a clear error), as do remote (abfss://) tables.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from governance.lake.resolve import DatasetLocation

# reader features that change nothing about which rows a file holds or what its columns are called
HARMLESS_FEATURES = {
    "timestampNtz",
    "v2Checkpoint",
    "vacuumProtocolCheck",
    "typeWidening",
    "typeWidening-preview",
}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def supported(table: DeltaTable) -> bool:
    """Whether a plain Parquet scan of the snapshot's files returns exactly the table's rows."""
    protocol = table.protocol()
    if protocol.min_reader_version >= 3 and not set(protocol.reader_features or []) <= HARMLESS_FEATURES:
        return False
    mapping = (table.metadata().configuration or {}).get("delta.columnMapping.mode", "none")
    return mapping in ("none", None)


def text(value: Any) -> str:
    """A partition value as the Delta log writes it (dates and timestamps in ISO form)."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _literal(value: Any, duck_type: str) -> str:
    if value is None:
        return f"CAST(NULL AS {duck_type})"
    return f"CAST({_quote_str(text(value))} AS {duck_type})"


def _local_path(root: str, path: str) -> str | None:
    """The file of an `add` action: a URI-encoded path relative to the table (or an absolute URI, as in
    shallow clones). None when DuckDB cannot open it as given: remote, or holding glob characters,
    which read_parquet would expand."""
    if "://" in path:
        if not path.startswith("file://"):
            return None
        full = unquote(path.removeprefix("file://"))
    else:
        full = os.path.join(root, unquote(path))
    return None if any(c in full for c in "*?[") else full


# One scan over every file, partition values parsed from hive-style paths (verified against the log), is
# the fastest form: file order lets a top-N skip row groups, and a partition filter prunes files. Tables
# whose paths do not spell their partition values plainly get one read_parquet per partition with the
# values as constants, up to this many partitions (planning grows with the branches: 3,000 took 1.3 s
# for a count); beyond, they stay on Arrow.
MAX_BRANCHES = 128
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.-]+")


def view_sql(
    loc: DatasetLocation, table: DeltaTable, types: dict[str, str], only: set[str] | None = None
) -> str | None:
    """`SELECT …` over the snapshot's files (or those of them named in `only`, as the log spells their
    paths) with the columns (and DuckDB types) of `types`, in order, or None when the native scan cannot
    stand in for the Arrow dataset."""
    if loc.is_remote or not loc.uri or not supported(table):
        return None
    root = loc.uri
    partitions = [c for c in table.metadata().partition_columns if c in types]
    wanted = None if only is None else {unquote(p) for p in only}
    groups = file_groups(
        table,
        partitions,
        lambda path: _local_path(root, path),
        None if wanted is None else lambda path: unquote(path) in wanted,
    )
    if not groups:
        return None
    one_scan = _one_scan(root, groups, partitions, types)
    if one_scan is not None or len(groups) > MAX_BRANCHES:
        return one_scan
    return _per_partition(groups, partitions, types)


def file_groups(
    table: DeltaTable,
    partitions: list[str],
    place: Callable[[str], str | None],
    keep: Callable[[str], bool] | None = None,
) -> dict[tuple[Any, ...], list[str]] | None:
    """The snapshot's data files (as `place` spells an `add` path; those `keep` accepts) grouped by the
    values of `partitions` that the log holds; None when `place` cannot spell one of them."""
    from governance.lake.resolve import add_actions

    adds = add_actions(table)
    paths = adds.column("path").to_pylist() if adds.num_rows else []
    values = [adds.column(f"partition.{c}").to_pylist() for c in partitions] if paths else []
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for i, path in enumerate(paths):
        if keep is not None and not keep(path):
            continue
        full = place(path)
        if full is None:
            return None
        groups[tuple(v[i] for v in values)].append(full)
    return dict(groups)


def hive_spelled(root: str, groups: dict[tuple[Any, ...], list[str]], partitions: list[str]) -> bool:
    """Whether every file sits under `col=value/` folders that spell exactly the log's values in plain
    text, and no other folder holds a `=` a reader would take for a partition."""
    if partitions and "=" in root:
        return False
    for key, group in groups.items():
        texts = [None if v is None else text(v) for v in key]
        if any(t is None or not _PLAIN_VALUE.fullmatch(t) for t in texts):
            return False
        expected = [f"{c}={t}" for c, t in zip(partitions, texts, strict=True)]
        for f in group:
            segments = f[len(root) :].strip("/").split("/") if f.startswith(root) else []
            if segments[: len(partitions)] != expected or any("=" in x for x in segments[len(partitions) :]):
                return False
    return True


def _columns(types: dict[str, str], consts: dict[str, Any]) -> str:
    cols = []
    for name, duck_type in types.items():
        ident = _quote_ident(name)
        if name in consts:
            cols.append(f"{_literal(consts[name], duck_type)} AS {ident}")
        else:
            cols.append(f"CAST({ident} AS {duck_type}) AS {ident}")
    return ", ".join(cols)


def _per_partition(
    groups: dict[tuple[Any, ...], list[str]], partitions: list[str], types: dict[str, str]
) -> str:
    branches = []
    for key, files in sorted(groups.items(), key=lambda kv: kv[1]):
        listing = ", ".join(_quote_str(f) for f in sorted(files))
        consts = dict(zip(partitions, key, strict=True))
        options = "union_by_name = true, hive_partitioning = false"
        branches.append(f"SELECT {_columns(types, consts)} FROM read_parquet([{listing}], {options})")
    return "\nUNION ALL\n".join(branches)


def _one_scan(
    root: str, groups: dict[tuple[Any, ...], list[str]], partitions: list[str], types: dict[str, str]
) -> str | None:
    """Every file in one read_parquet, in path order (partition order for hive layouts), partition
    values parsed from the paths — only when the paths spell the log's values (`hive_spelled`)."""
    if not hive_spelled(root, groups, partitions):
        return None
    files = [f for group in groups.values() for f in group]
    listing = ", ".join(_quote_str(f) for f in sorted(files))
    options = "union_by_name = true"
    if partitions:
        hive_types = ", ".join(f"{_quote_str(c)}: {types[c]}" for c in partitions)
        options += f", hive_partitioning = true, hive_types = {{{hive_types}}}"
    else:
        options += ", hive_partitioning = false"
    return f"SELECT {_columns(types, {})} FROM read_parquet([{listing}], {options})"
