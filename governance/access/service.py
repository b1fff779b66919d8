"""`check(project)`: access-policy compliance of every policy connection (the audit report's evidence).

Which warehouse table holds a dataset: a `format: sql` dataset names its table; a lake dataset is exposed
in the warehouse under its logical name (`silver.customers` → schema `silver`, table `customers`, as
Synapse external tables and serverless views are). Tables that are not in the warehouse are listed as such.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from governance.access.compliance import Policies, TableLabels, check_tables
from governance.access.grants import Table
from governance.errors import ExitCode, GovernanceError, InfraError
from governance.lake.connect import sql_engine
from governance.project import Project
from governance.results import StepResult


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def warehouse_table(project: Project, dataset: str, connection: str) -> Table | None:
    spec = project.config.datasets[dataset]
    if spec.format == "sql":
        if spec.connection != connection or not spec.table:
            return None
        parts = spec.table.split(".")
        conn = project.config.connections.get(connection)
        default_schema = (conn.schema_ if conn else None) or "public"
        return (parts[-2], parts[-1]) if len(parts) >= 2 else (default_schema, parts[0])
    parts = dataset.split(".")
    return (parts[0], parts[1]) if len(parts) == 2 else None


def labels_by_dataset(project: Project) -> dict[str, dict[str, set[str]]]:
    """dataset -> column -> labels. A column with its own labels has exactly those; a column without any
    takes the table-level labels (unclassified columns of a PII table are treated as PII until classified).
    Key "*" holds the table-level labels for columns that exist only in the warehouse."""
    out: dict[str, dict[str, set[str]]] = {}
    table_labels: dict[str, set[str]] = {}
    for a in project.assignments:
        table_labels.setdefault(a.dataset, set()).update(a.table)
        for col, labels in a.columns.items():
            out.setdefault(a.dataset, {}).setdefault(col, set()).update(labels)
    for ds, tlabels in table_labels.items():
        cols = out.setdefault(ds, {})
        declared = project.config.datasets[ds].columns if ds in project.config.datasets else {}
        for col in declared:
            if not cols.get(col):
                cols[col] = set(tlabels)
        cols["*"] = set(tlabels)
    return out


def _connection_policies(project: Project) -> dict[str, Policies]:
    by_conn: dict[str, Policies] = {}
    default = next(iter(project.config.connections), None) if len(project.config.connections) == 1 else None
    for f in project.policy_files:
        conn = f.connection or default
        if conn is None:
            continue
        pol = by_conn.setdefault(conn, Policies())
        for p in f.policies:  # a role is its `principals.<role>.postgres` name, else its own name
            names = {(f.principals[r].postgres if r in f.principals else None) or r for r in p.allowed_roles}
            pol.allowed.setdefault(p.label, set()).update(names)
    return by_conn


def check(project: Project) -> StepResult:
    """Exit 1 when a role can read data its label's policy does not allow; 3 when the warehouse is down."""
    import sqlalchemy as sa

    from governance.access.grants import read_grants

    payload: dict[str, Any] = {
        "checked_at": _iso(datetime.now(UTC)),
        "checked": False,
        "connections": [],
        "policies": [
            {"label": p.label, "allowed_roles": sorted(p.allowed_roles), "connection": f.connection}
            for f in project.policy_files
            for p in f.policies
        ],
        "tables": [],
        "violations": [],
        "exempt": [],
        "fix": [],
    }
    policies = _connection_policies(project)
    if not policies:
        payload["reason"] = "no access policies declared (policies/*.yaml)"
        return StepResult(payload, ExitCode.OK)
    labels = labels_by_dataset(project)
    reasons = []
    for conn_name, pol in sorted(policies.items()):
        conn = project.config.connections.get(conn_name)
        entry: dict[str, Any] = {"connection": conn_name, "checked": False}
        payload["connections"].append(entry)
        if conn is None:
            entry["reason"] = f"connection '{conn_name}' is not declared in smartflow.yaml"
            reasons.append(entry["reason"])
            continue
        try:
            url = conn.resolved_url()
        except GovernanceError as exc:
            entry["reason"] = f"connection '{conn_name}' not configured: {exc}"
            reasons.append(entry["reason"])
            continue
        wanted: list[tuple[str, Table]] = []
        for ds in sorted(project.config.datasets):
            t = warehouse_table(project, ds, conn_name)
            if t and any(lb in pol.allowed for col in labels.get(ds, {}).values() for lb in col):
                wanted.append((ds, t))
        engine = sql_engine(url, conn.where)
        try:
            grants = read_grants(engine, sorted({t[0] for _, t in wanted}))
        except sa.exc.SQLAlchemyError as exc:
            raise InfraError(f"warehouse '{conn_name}' unreachable: {type(exc).__name__}") from None
        finally:
            engine.dispose()
        entry.update({"checked": True, "server": grants.server, "read_at": _iso(grants.read_at)})
        present = []
        for ds, t in wanted:
            cols = labels.get(ds, {})
            table_wide = cols.get("*", set())
            is_there = t in grants.tables
            payload["tables"].append(
                {
                    "dataset": ds,
                    "table": ".".join(t),
                    "connection": conn_name,
                    "present": is_there,
                    "labelled_columns": sorted(c for c in cols if c != "*"),
                }
            )
            if is_there:
                col_labels = {c: set(cols.get(c) or table_wide) for c in grants.tables[t].columns}
                present.append(TableLabels(ds, t, col_labels))
        found = check_tables(grants, pol, present)
        for v in found["violations"]:
            v["connection"] = conn_name
        payload["violations"] += found["violations"]
        payload["exempt"] += [{**e, "connection": conn_name} for e in found["exempt"]]
        payload["fix"] += found["fix"]
    payload["checked"] = any(c["checked"] for c in payload["connections"])
    if not payload["checked"]:
        payload["reason"] = "; ".join(reasons)
    code = ExitCode.CHECK_FAILED if payload["violations"] else ExitCode.OK
    text = "\n".join(
        [
            f"{v['role']} can read {v['table']} ({', '.join(v['columns'])}) labelled {', '.join(v['labels'])}"
            for v in payload["violations"]
        ]
    )
    return StepResult(payload, code, text=text or "no access-policy violations")
