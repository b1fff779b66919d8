"""Where a dataset's data lives, and how to open it as Arrow (Delta through `deltalake`, Parquet).

`lake.root` may be a local folder or an `abfss://container@account.dfs.core.windows.net/path` URL; for
the latter, storage options come from smartflow.yaml (`lake.storage_options`, `${VAR}` expanded) and the
environment (AZURE_STORAGE_* as understood by delta-rs / object_store).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from governance.config import Dataset, expand_env
from governance.errors import InfraError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pads
    from deltalake import DeltaTable

    from governance.project import Project

_ENV_OPTIONS = (
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CLIENT_ID",
    "AZURE_STORAGE_CLIENT_SECRET",
    "AZURE_STORAGE_TENANT_ID",
    "AZURE_STORAGE_USE_EMULATOR",
    "AZURE_STORAGE_ENDPOINT",
    "AZURE_STORAGE_ALLOW_HTTP",
    "AZURE_STORAGE_USE_AZURE_CLI",
)


@dataclass(frozen=True)
class DatasetLocation:
    name: str
    spec: Dataset
    uri: str | None = None  # delta / parquet location (local path or abfss:// URL)
    storage_options: dict[str, str] = field(default_factory=dict)

    @property
    def is_remote(self) -> bool:
        return bool(self.uri and "://" in self.uri)


# AZURE_STORAGE_* names whose object_store option key is not simply the lower-cased name
_ENV_KEYS = {"AZURE_STORAGE_ALLOW_HTTP": "allow_http", "AZURE_STORAGE_ENDPOINT": "azure_storage_endpoint"}


def storage_options(project: Project) -> dict[str, str]:
    """delta-rs / object_store options for a remote lake: AZURE_STORAGE_* from the environment, then
    `lake.storage_options` (values may use ${VAR}); azure-identity style credentials (client secret,
    managed identity, Azure CLI) are picked up by object_store itself."""
    remote = "://" in project.lake_root or any(
        "://" in (d.path or "") for d in project.config.datasets.values()
    )
    if not remote:
        return {}
    opts = {_ENV_KEYS.get(k, k.lower()): os.environ[k] for k in _ENV_OPTIONS if k in os.environ}
    for key, value in project.config.lake.storage_options.items():
        opts[key] = expand_env(value, project.config.lake.where)
    return opts


def dataset_uri(lake_root: str, path: str) -> str:
    """A dataset's location: its `path` when it is an absolute URL (an estate on several storage accounts),
    else `path` under `lake.root`."""
    if "://" in path:
        return path.rstrip("/")
    return f"{lake_root}/{path.strip('/')}"


def locate(project: Project, name: str) -> DatasetLocation:
    spec = project.dataset(name)
    if spec.format in ("delta", "parquet"):
        assert spec.path is not None
        uri = dataset_uri(project.lake_root, spec.path)
        return DatasetLocation(name, spec, uri, storage_options(project))
    return DatasetLocation(name, spec)


def delta_table(loc: DatasetLocation, version: int | None = None) -> DeltaTable:
    """The table's snapshot (its newest, or `version`). A local table's newest snapshot is opened once
    per newest commit file: the quality plan, the engine, PII discovery and freshness each asked for it."""
    key = None if version is not None else snapshot_key(loc)
    if key is not None and key in _SNAPSHOTS:
        return _SNAPSHOTS[key]
    table = _open_delta(loc, version)
    if key is not None:
        if len(_SNAPSHOTS) >= 64:
            _SNAPSHOTS.clear()
        _SNAPSHOTS[key] = table
    return table


_SNAPSHOTS: dict[tuple[str, str, int], DeltaTable] = {}


def delta_version(loc: DatasetLocation) -> int:
    """The newest version of a Delta table: for a local table the number of its newest JSON commit file
    (a commit file stays in the log until a checkpoint makes older ones redundant, and the newest is
    never cleaned up), so no snapshot is built; a remote table is opened."""
    newest = snapshot_key(loc)
    if newest is not None:
        return int(newest[1][:20])
    return delta_table(loc).version()


def snapshot_key(loc: DatasetLocation) -> tuple[str, str, int] | None:
    """(table, newest commit file, its mtime) of a local Delta table: what names its newest snapshot;
    None for a remote table or one without a JSON commit."""
    return None if loc.is_remote or loc.spec.format != "delta" else _newest_commit(loc.uri or "")


def _commits(names: list[str]) -> list[str]:
    """The JSON commit files among a `_delta_log` folder's names (`00000000000000000012.json`), in order."""
    return sorted(n for n in names if len(n) == 25 and n.endswith(".json") and n[:20].isdigit())


def _newest_commit(path: str) -> tuple[str, str, int] | None:
    """(table, newest commit file, its mtime): a new commit, or a table made anew, gives another key."""
    log_dir = os.path.join(path, "_delta_log")
    try:
        commits = _commits(os.listdir(log_dir))
        if not commits:
            return None
        newest = max(commits)
        return (path, newest, os.stat(os.path.join(log_dir, newest)).st_mtime_ns)
    except OSError:
        return None


def _open_delta(loc: DatasetLocation, version: int | None) -> DeltaTable:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(loc.uri or "", version=version, storage_options=loc.storage_options or None)
    except TableNotFoundError as exc:
        raise InfraError(f"dataset {loc.name}: no Delta table at {loc.uri}") from exc
    except OSError as exc:
        raise InfraError(f"dataset {loc.name}: cannot open {loc.uri}: {exc}") from exc


def add_actions(table: DeltaTable) -> pa.Table:
    """The snapshot's add actions (flattened) as a pyarrow Table, read through the Arrow stream
    interface: `pa.table()` would import pandas (about 0.4 s of CPU) only to learn the input is not a
    DataFrame."""
    import pyarrow as pa

    return pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=True)).read_all()


def exists(loc: DatasetLocation) -> bool:
    """Whether the data is there; a remote Delta table is probed through object_store."""
    if loc.uri is None:
        return loc.spec.format in ("sql", "spark")
    if loc.is_remote:
        if loc.spec.format != "delta":
            return True
        from deltalake import DeltaTable

        try:
            return bool(DeltaTable.is_deltatable(loc.uri, storage_options=loc.storage_options or None))
        except OSError as exc:
            raise InfraError(f"dataset {loc.name}: cannot reach {loc.uri}: {exc}") from exc
    path = loc.uri
    if loc.spec.format == "delta":
        return os.path.isdir(os.path.join(path, "_delta_log"))
    return os.path.exists(path)


def delta_arrow(loc: DatasetLocation, table: DeltaTable) -> pads.Dataset:
    """The snapshot of `table` as an Arrow dataset; a table deltalake cannot read (e.g. one with
    deletion vectors) is that dataset's error, not a crash."""
    from deltalake.exceptions import DeltaProtocolError

    try:
        return table.to_pyarrow_dataset()
    except DeltaProtocolError as exc:
        raise InfraError(f"dataset {loc.name}: cannot read the Delta table at {loc.uri}: {exc}") from exc


def arrow_dataset(loc: DatasetLocation) -> pads.Dataset:
    """An Arrow dataset over the files (partition pruning and projection pushdown happen at scan time)."""
    import pyarrow.dataset as ds

    if loc.spec.format == "delta":
        return delta_arrow(loc, delta_table(loc))
    if loc.spec.format == "parquet":
        if loc.is_remote:
            raise InfraError(f"dataset {loc.name}: remote Parquet is not supported; store it as Delta")
        return ds.dataset(loc.uri or "", format="parquet", partitioning="hive")
    raise InfraError(f"dataset {loc.name} is a {loc.spec.format} dataset, not files in the lake")


def arrow_schema(project: Project, name: str) -> pa.Schema | None:
    """The real schema of a file-based dataset when its data exists locally or remotely, else None.

    A Delta table's schema comes from its log alone (no data file is opened, no Arrow dataset is built)."""
    loc = locate(project, name)
    if loc.spec.format not in ("delta", "parquet") or not exists(loc):
        return None
    try:
        if loc.spec.format == "delta":
            import pyarrow as pa

            from_log = None if loc.is_remote else _local_log_schema(loc.uri or "")
            return from_log if from_log is not None else pa.schema(delta_table(loc).schema().to_arrow())
        return arrow_dataset(loc).schema
    except InfraError:
        return None


def log_schema(path: str) -> pa.Schema | None:
    """The schema of a local Delta table read from its JSON log alone (see _local_log_schema)."""
    return _local_log_schema(path) if path and "://" not in path else None


def _local_log_schema(path: str) -> pa.Schema | None:
    """The schema of the newest `metaData` action of a local Delta log, read from its JSON commits
    newest first (they are small; the snapshot's file list is not built). None when the log has a
    checkpoint or cannot be read this way: the caller then opens the table with deltalake."""
    log_dir = os.path.join(path, "_delta_log")
    try:
        names = os.listdir(log_dir)
    except OSError:
        return None
    if any("checkpoint" in n for n in names):
        return None
    commits = _commits(names)
    if not commits:
        return None
    try:  # a commit file is never rewritten: same newest commit, same schema (mtime: a table made anew)
        key = (path, commits[-1], os.stat(os.path.join(log_dir, commits[-1])).st_mtime_ns)
    except OSError:
        return None
    if key not in _LOG_SCHEMAS:
        _LOG_SCHEMAS[key] = _read_log_schema(log_dir, commits)
    return _LOG_SCHEMAS[key]


_LOG_SCHEMAS: dict[tuple[str, str, int], pa.Schema | None] = {}


def _read_log_schema(log_dir: str, commits: list[str]) -> pa.Schema | None:
    import json

    import pyarrow as pa
    from deltalake import Schema

    try:
        for name in reversed(commits):
            with open(os.path.join(log_dir, name), encoding="utf-8") as fh:
                found = None
                for line in fh:
                    if '"metaData"' in line:
                        action = json.loads(line)
                        found = action.get("metaData", found)
                if found is not None:
                    return pa.schema(Schema.from_json(found["schemaString"]).to_arrow())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


def known_columns(project: Project, name: str) -> list[str] | None:
    """Columns of a dataset: the lake's real schema when present, else the declared `columns:`."""
    schema = arrow_schema(project, name)
    if schema is not None:
        return list(schema.names)
    declared = project.dataset(name).columns
    return list(declared) if declared else None
