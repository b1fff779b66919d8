"""smartflow.yaml → typed config.

`${VAR}` is expanded in one pass over every string of the file when it loads (`expand_config`), before
the values are type-checked, so a variable works wherever a value does. A missing variable is
`smartflow.yaml:LINE: environment variable X is not set` (exit 2). The values that carry credentials
(`RESOLVED_ON_USE`: connection URLs, the catalog database URL, `lake.storage_options`, the SMTP login)
are the exception: they stay as written and are read from the environment only when the command opens
that connection, so a secret is never held in the config and a command that does not use a connection
does not need its variable.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator

from governance.durations import parse_duration
from governance.errors import InputError, Location, Problem
from governance.specs.base import Spec

if TYPE_CHECKING:
    from governance.specs.yamlio import YamlDoc

Layer = Literal["bronze", "silver", "gold"]
LAYERS: tuple[str, ...] = get_args(Layer)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(value: str, where: Location | None = None) -> str:
    """Replace `${VAR}` with the environment's value; a missing variable is a bad input (exit 2)."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise InputError(f"environment variable {name} is not set", where)
        return os.environ[name]

    return _ENV.sub(repl, value)


def env_names(value: str) -> list[str]:
    return _ENV.findall(value)


# paths (`*` matches any key) whose `${VAR}` is resolved when used, never at load: they carry secrets
RESOLVED_ON_USE: tuple[tuple[str, ...], ...] = (
    ("connections", "*", "url"),
    ("catalog", "local", "url"),
    ("lake", "storage_options", "*"),
    ("notify", "smtp", "username"),
    ("notify", "smtp", "password"),
    ("spark", "remote"),  # a Spark Connect URL carries its token; a DuckDB run never needs it
)


def _on_use(path: tuple[str | int, ...]) -> bool:
    return any(
        len(p) == len(path) and all(k == "*" or k == str(v) for k, v in zip(p, path, strict=True))
        for p in RESOLVED_ON_USE
    )


def expand_config(doc: YamlDoc) -> list[Problem]:
    """The one `${VAR}` pass over smartflow.yaml: every string of every section, at any depth, is
    expanded in `doc.data` (the text as written is kept in `doc.written` for messages). Returns a
    problem per missing variable, at the line of its value."""
    problems: list[Problem] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, path + (k,)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, path + (i,)) for i, v in enumerate(node)]
        if not isinstance(node, str) or "${" not in node or _on_use(path):
            return node
        missing = [n for n in env_names(node) if n not in os.environ]
        if missing:
            problems.extend(
                Problem(doc.at(path), f"environment variable {n} is not set") for n in dict.fromkeys(missing)
            )
            return node
        doc.written[path] = node
        return _ENV.sub(lambda m: os.environ[m.group(1)], node)

    doc.data = walk(doc.data, ())
    return problems


def check_endpoint(url: str, where: Location | None = None) -> str:
    """An Azure endpoint must be https, except plain http on a loopback address (tests). Messages name
    only the scheme and host: a path or query string may be a secret (a webhook's token)."""
    parsed = urlparse(url)
    shown = f"{parsed.scheme}://{parsed.hostname}" if parsed.scheme and parsed.hostname else "(not shown)"
    if parsed.scheme == "https":
        return url
    if parsed.scheme == "http":
        host = parsed.hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return url
        raise InputError(f"plain-HTTP endpoint {shown} is only accepted on a loopback address", where)
    raise InputError(f"endpoint {shown} must be an https:// URL", where)


def _duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class Freshness(Spec):
    column: str
    max_lag: str
    partition_column: str | None = None
    late_tolerance: str | None = Field(
        None, description="a partition committed later than its date + this is late"
    )

    @field_validator("max_lag", "late_tolerance")
    @classmethod
    def _durations(cls, v: str | None) -> str | None:
        return _duration(v)


class Dataset(Spec):
    format: Literal["delta", "parquet", "sql", "spark"]
    layer: Layer
    path: str | None = None
    connection: str | None = None
    table: str | None = None
    description: str | None = None
    owner: str | None = None
    partitioning: list[str] = []
    partition_grain: Literal["day", "month", "hour"] | None = None
    key: list[str] = Field(default_factory=list, description="primary-key columns (samples show these first)")
    columns: dict[str, str] = Field(default_factory=dict, description="declared schema: column -> SQL type")
    freshness: Freshness | None = None

    @model_validator(mode="after")
    def _where_it_lives(self) -> Dataset:
        if self.format in ("delta", "parquet") and not self.path:
            raise ValueError(f"a {self.format} dataset needs 'path' (relative to lake.root)")
        if self.format == "sql" and not (self.connection and self.table):
            raise ValueError("a sql dataset needs 'connection' and 'table'")
        if self.format == "spark" and not self.table:
            raise ValueError("a spark dataset needs 'table'")
        return self


class Lake(Spec):
    root: str = "lake"
    storage_options: dict[str, str] = Field(default_factory=dict, description="values may use ${VAR}")


class Connection(Spec):
    url: str
    schema_: str | None = Field(None, alias="schema")

    def resolved_url(self) -> str:
        return expand_env(self.url, self.where)


class LocalCatalog(Spec):
    path: str = ".smartflow/catalog.db"
    url: str | None = Field(
        None, description="SQLAlchemy URL (e.g. PostgreSQL for a team catalog); overrides path"
    )
    schema_: str | None = Field(None, alias="schema", description="database schema for the catalog tables")


class UnifiedCatalog(Spec):
    """`catalog.purview.unified_catalog`: the Unified Catalog data plane (a preview API)."""

    endpoint: str = "https://api.purview-service.microsoft.com"
    api_version: str | None = Field(None, description="default: the version this release is tested against")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        return _endpoint_ok(v) or v


class PurviewCatalog(Spec):
    endpoint: str
    glossary: Literal["classic", "unified", "both"] = Field(
        "classic", description="where sync-glossary writes terms: Data Map glossary, Unified Catalog, or both"
    )
    unified_catalog: UnifiedCatalog = Field(default_factory=UnifiedCatalog)
    collection: str | None = None
    contacts: dict[str, str] = Field(default_factory=dict)
    storage_account: str | None = None
    container: str | None = None
    qualified_name_pattern: str = (
        "https://{account}.dfs.core.windows.net/{container}/{path}/{{SparkPartitions}}"
    )
    sql_qualified_name_pattern: str = "mssql://{server}/{database}/{schema}/{table}"
    operations_per_second: float = Field(20.0, gt=0, description="request budget (all requests)")
    max_retries: int = Field(6, ge=0)
    retry_backoff: float = Field(0.8, ge=0, description="seconds; doubled on each retry of a 5xx/drop")
    entity_batch: int = Field(100, ge=1, le=100, description="entities per bulk write")
    guid_batch: int = Field(150, ge=1, le=150, description="guids / qualified names per bulk read")
    timeout: float = Field(60.0, gt=0, description="seconds per request")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if "${" not in v:
            check_endpoint(v)
        return v


class CatalogConfig(Spec):
    backend: Literal["local", "purview"] = "local"
    mode: Literal["plan", "apply"] = Field("plan", description="what nightly does with the sync plan")
    local: LocalCatalog = Field(default_factory=LocalCatalog)
    purview: PurviewCatalog | None = None

    @model_validator(mode="after")
    def _purview(self) -> CatalogConfig:
        if self.backend == "purview" and self.purview is None:
            raise ValueError("backend 'purview' needs a 'purview' section with its endpoint")
        return self


def _endpoint_ok(v: str | None) -> str | None:
    """Endpoint check inside a model validator: a ValueError, so the loader reports it as FILE:LINE."""
    if v is not None and "${" not in v:
        try:
            check_endpoint(v)
        except InputError as exc:
            raise ValueError(exc.problems[0].message) from None
    return v


class LogsIngestion(Spec):
    endpoint: str = Field(description="data collection endpoint (DCE) URL")
    rule_id: str = Field(description="immutable id of the data collection rule (dcr-…)")
    stream: str = Field("Custom-SmartflowQuality_CL", description="per-expectation quality rows")
    freshness_stream: str | None = Field(
        "Custom-SmartflowFreshness_CL", description="per-dataset freshness rows (log alert rules query them)"
    )
    batch_rows: int = Field(500, ge=1, description="rows per spooled batch")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        _endpoint_ok(v)
        return v


class AzureMonitor(Spec):
    region: str = "westeurope"
    resource_id: str
    metrics_endpoint: str | None = None
    logs_ingestion: LogsIngestion | None = None
    log_analytics_workspace_id: str | None = None
    logs_query_endpoint: str | None = Field(None, description="default https://api.loganalytics.io")
    max_retries: int = Field(3, ge=0, description="retries per request before the batch stays spooled")
    timeout_seconds: float = Field(30, gt=0)

    @field_validator("metrics_endpoint", "logs_query_endpoint")
    @classmethod
    def _endpoints(cls, v: str | None) -> str | None:
        return _endpoint_ok(v)

    def metrics_url(self) -> str:
        return self.metrics_endpoint or f"https://{self.region}.monitoring.azure.com"


class MonitorConfig(Spec):
    sinks: list[Literal["local", "azure"]] = Field(default_factory=lambda: ["local"])  # type: ignore[arg-type]
    azure: AzureMonitor | None = None
    anomaly_window: int = Field(28, ge=3, description="trailing points used by anomaly detection")

    @model_validator(mode="after")
    def _azure(self) -> MonitorConfig:
        if "azure" in self.sinks and self.azure is None:
            raise ValueError("sink 'azure' needs a 'monitor.azure' section")
        return self


class AlertsConfig(Spec):
    subscription_id: str | None = None
    resource_group: str | None = None
    location: str = "westeurope"
    arm_endpoint: str = "https://management.azure.com"
    workspace_resource_id: str | None = Field(
        None, description="ARM id of the Log Analytics workspace that log (scheduled query) rules run on"
    )
    metric_scopes: list[str] = Field(
        default_factory=list,
        description="resources metric alerts watch (default: monitor.azure.resource_id); several resources "
        "of one type in `location` give multiple-resource criteria",
    )
    max_retries: int = Field(3, ge=0)

    @field_validator("arm_endpoint")
    @classmethod
    def _arm(cls, v: str) -> str:
        _endpoint_ok(v)
        return v


class SynapseConfig(Spec):
    """`azure.synapse:` — the workspace whose roles and SQL grants `access check --source synapse` reads."""

    workspace_endpoint: str | None = Field(
        None, description="https://WORKSPACE.dev.azuresynapse.net (data plane); ${VAR} allowed"
    )
    sql_connection: str | None = Field(
        None, description="a `connections:` entry pointing at the Synapse SQL pool (catalog views are read)"
    )
    read_actions: list[str] = Field(
        default_factory=lambda: [
            "Microsoft.Synapse/workspaces/bigDataPools/useCompute/action",
            "Microsoft.Synapse/workspaces/credentials/useSecret/action",
        ],
        description="a workspace role whose actions or dataActions (wildcards honoured) grant one of these "
        "reads the workspace's data (through the workspace identity)",
    )

    @field_validator("workspace_endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return _endpoint_ok(v)


class AzureConfig(Spec):
    """`azure:` — the subscription that access and posture checks read (ARM metadata only)."""

    subscription_id: str = Field(description="${VAR} allowed")
    arm_endpoint: str = Field("https://management.azure.com", description="${VAR} allowed")
    max_retries: int = Field(3, ge=0)
    timeout_seconds: float = Field(30, gt=0)
    synapse: SynapseConfig | None = None

    @field_validator("arm_endpoint")
    @classmethod
    def _arm(cls, v: str) -> str:
        _endpoint_ok(v)
        return v

    def resolved(self) -> tuple[str, str]:
        """(subscription id, ARM endpoint) with ${VAR} expanded and the endpoint checked."""
        sub = expand_env(self.subscription_id, self.where)
        return sub, check_endpoint(expand_env(self.arm_endpoint, self.where), self.where).rstrip("/")


class SmtpConfig(Spec):
    host: str = "localhost"
    port: int = 25
    sender: str = "smartflow-gov@localhost"
    username: str | None = None
    password: str | None = Field(None, description="use ${VAR}; never a literal secret")
    starttls: bool = False
    ssl: bool = Field(False, description="implicit TLS (SMTPS, usually port 465)")
    timeout_seconds: float = Field(20, gt=0)

    @field_validator("password")
    @classmethod
    def _no_literal_secret(cls, v: str | None) -> str | None:
        if v is not None and not env_names(v):
            raise ValueError("smtp.password must come from the environment: use ${VAR}")
        return v


class NotifyConfig(Spec):
    smtp: SmtpConfig | None = Field(
        None,
        description="e-mail receivers of action groups are notified only when an SMTP server is configured",
    )
    webhook_timeout_seconds: float = Field(10, gt=0)
    max_retries: int = Field(2, ge=0)


class QualityConfig(Spec):
    engine: Literal["duckdb", "sql", "spark", "gx"] = Field(
        "duckdb",
        description="default engine of `quality run` (sql/spark datasets always run where they live)",
    )
    sample_size: int = Field(
        20,
        ge=0,
        description="unexpected rows sampled per failing expectation (0: counts only, no sample query)",
    )
    quarantine: str | None = Field(
        None,
        description="folder of the `--quarantine` Delta tables, one per dataset (${VAR} allowed; default: "
        "state_dir/quality/quarantine, or <lake root>/_quarantine on the spark engine)",
    )


class SparkConfig(Spec):
    """`spark:` — where the spark engine runs (SPEC §6.3; see governance/lake/spark_session.py)."""

    remote: str | None = Field(
        None,
        description="Spark Connect URL sc://host:port/;token=${VAR} (absent: SPARK_REMOTE, active, local)",
    )
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict, description="Spark SQL settings")


class PiiConfig(Spec):
    """`pii:` — how `pii scan` samples and confirms (rules themselves live in classifications/)."""

    engine: Literal["duckdb", "sql", "spark"] | None = Field(
        None, description="engine of `pii scan` for the datasets it can reach (default: where each lives)"
    )
    sample_size: int = Field(10_000, ge=0, description="rows sampled per dataset; 0 scans every row")
    seed: int = Field(42, description="seed of the reproducible sample")
    max_candidates: int = Field(
        1_000, ge=10, le=100_000, description="distinct matching values per column and rule confirmed"
    )
    free_text_minimum_percent: float = Field(
        1.0, ge=0, le=100, description="share of values holding PII inside prose for an in-text finding"
    )


class Config(Spec):
    version: Literal[1] = 1
    project: str = "smartflow"
    lake: Lake = Field(default_factory=Lake)
    state_dir: str = ".smartflow"
    reports_dir: str = "reports"
    datasets: dict[str, Dataset] = Field(default_factory=dict)
    connections: dict[str, Connection] = Field(default_factory=dict)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    spark: SparkConfig = Field(default_factory=SparkConfig)
    azure: AzureConfig | None = None

    @model_validator(mode="after")
    def _alerts_default_to_azure(self) -> Config:
        """`alerts` keep their own keys; those left out default to the `azure:` section's."""
        if self.azure is not None:
            if self.alerts.subscription_id is None:
                self.alerts.subscription_id = self.azure.subscription_id
            if "arm_endpoint" not in self.alerts.model_fields_set:
                self.alerts.arm_endpoint = self.azure.arm_endpoint
        return self

    @field_validator("datasets")
    @classmethod
    def _names(cls, v: dict[str, Dataset]) -> dict[str, Dataset]:
        for name in v:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+", name):
                raise ValueError(f"dataset name '{name}' must be dotted identifiers like silver.transactions")
        return v


def resolve_path(root: Path, value: str) -> Path:
    """A path from smartflow.yaml resolves against the project root, never the working directory."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else root / p
