"""`access check` over several sources and `posture check`: the services behind the commands and nightly.

Sources: `postgres` (the warehouse grants of policies' connections), `azure` (RBAC on the ADLS containers
holding datasets), `synapse` (workspace roles, and the SQL pool's grants when `azure.synapse.sql_connection`
is set). Without `--source`, every source that is configured is checked. Only ARM and catalog metadata are
read, never the lake's data.
"""

from __future__ import annotations

from typing import Any

from governance.errors import ExitCode, InputError
from governance.project import Project
from governance.results import StepResult, worst

SOURCES = ("postgres", "azure", "synapse")


def configured_sources(project: Project) -> list[str]:
    out = ["postgres"]
    if project.config.azure is not None:
        out.append("azure")
        if project.config.azure.synapse is not None:
            out.append("synapse")
    return out


def _postgres(project: Project) -> tuple[list[dict[str, Any]], dict[str, Any], str | None]:
    from governance.access.service import check

    result = check(project)
    p = result.payload
    flat = [
        {
            "source": "postgres",
            "principal": v["role"],
            "dataset": v["dataset"],
            "label": label,
            "scope": v["table"],
            "via": ", ".join(sorted({x["grantee"] for x in v["via"]})),
            "fix": " ".join(v["fix"]),
            "columns": v["columns"],
            "connection": v.get("connection"),
        }
        for v in p.get("violations", [])
        for label in v["labels"]
    ]
    return flat, p, None if p.get("checked") else (p.get("reason") or "nothing to check")


def _synapse_sql(project: Project, connection: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import sqlalchemy as sa

    from governance.access.compliance import Policies, TableLabels, check_tables
    from governance.access.principals import principals
    from governance.access.service import labels_by_dataset, warehouse_table
    from governance.access.synapse import read_sql_grants
    from governance.errors import InfraError

    conn = project.config.connections.get(connection)
    if conn is None:
        raise InputError(f"azure.synapse.sql_connection '{connection}' is not declared in connections")
    who = principals(project)
    pol = Policies()
    for f in project.policy_files:
        for p in f.policies:
            for role in p.allowed_roles:
                names = who[role].sql if role in who and who[role].sql else [role]
                pol.allowed.setdefault(p.label, set()).update(names)
    labels = labels_by_dataset(project)
    wanted = [(ds, t) for ds in sorted(labels) if (t := warehouse_table(project, ds, connection))]
    engine = sa.create_engine(conn.resolved_url())
    try:
        grants = read_sql_grants(engine, sorted({t[0] for _, t in wanted}))
    except sa.exc.SQLAlchemyError as exc:
        raise InfraError(f"Synapse SQL '{connection}' unreachable: {type(exc).__name__}") from None
    finally:
        engine.dispose()
    present = [
        TableLabels(
            ds, t, {c: set(labels[ds].get(c) or labels[ds].get("*", set())) for c in grants.tables[t].columns}
        )
        for ds, t in wanted
        if t in grants.tables
    ]
    found = check_tables(grants, pol, present, dialect="tsql")
    flat = [
        {
            "source": "synapse",
            "principal": v["role"],
            "dataset": v["dataset"],
            "label": label,
            "scope": v["table"],
            "via": ", ".join(sorted({x["grantee"] for x in v["via"]})),
            "fix": " ".join(v["fix"]),
            "columns": v["columns"],
        }
        for v in found["violations"]
        for label in v["labels"]
    ]
    return flat, {"violations": found["violations"], "exempt": found["exempt"]}


def access_check(project: Project, sources: list[str] | None = None) -> StepResult:
    """Exit 1 when anyone can read labelled data against the policies; 3 when a platform is unreachable."""
    from governance.access.arm import Arm, azure_section

    explicit = bool(sources)
    wanted = list(dict.fromkeys(sources or configured_sources(project)))
    payload: dict[str, Any] = {"sources": [], "violations": [], "key_access": [], "skipped": [], "errors": []}
    details: dict[str, Any] = {}
    for source in wanted:
        if source == "postgres":
            flat, detail, reason = _postgres(project)
            details["postgres"] = detail
            if reason:
                payload["skipped"].append({"source": "postgres", "reason": reason})
                continue
            payload["violations"] += flat
        elif source == "azure":
            from governance.access.azure_rbac import check_azure

            arm = Arm(azure_section(project))
            try:
                found = check_azure(project, arm)
            finally:
                arm.close()
            details["azure"] = {k: found[k] for k in ("datasets", "not_on_adls")}
            payload["violations"] += found["violations"]
            payload["key_access"] += found["key_access"]
            payload["errors"] += found["errors"]
        elif source == "synapse":
            cfg = azure_section(project).synapse
            if cfg is None:
                if explicit:
                    raise InputError("--source synapse needs an `azure.synapse` section in smartflow.yaml")
                continue
            from governance.access.synapse import check_workspace_roles

            found = check_workspace_roles(project, cfg)
            payload["violations"] += found["violations"]
            details["synapse"] = {"assignments": found["assignments"]}
            if cfg.sql_connection:
                flat, detail = _synapse_sql(project, cfg.sql_connection)
                payload["violations"] += flat
                details["synapse"]["sql"] = detail
        payload["sources"].append(source)
    payload["details"] = details
    payload["checked"] = bool(payload["sources"])
    if not payload["checked"]:
        payload["reason"] = "; ".join(f"{s['source']}: {s['reason']}" for s in payload["skipped"])
    code = _exit_code(found=bool(payload["violations"]), errors=bool(payload["errors"]))
    lines = [
        f"{v['source']}: {v['principal']} can read {v['dataset']} ({v['label']}) via {v['via']} at {v['scope']}\n"
        f"  fix: {v['fix']}"
        for v in payload["violations"]
    ]
    lines += _error_lines(payload["errors"])
    lines += [f"skipped {s['source']}: {s['reason']}" for s in payload["skipped"]]
    text = "\n".join(lines) or f"no access violations ({', '.join(payload['sources'])})"
    return StepResult(payload, code, text=text)


def posture_check(project: Project) -> StepResult:
    """Exit 1 on a finding; 3 when a dataset's storage account is not in the subscription or ARM is down."""
    from governance.access.arm import Arm, azure_section
    from governance.access.posture import check_posture

    arm = Arm(azure_section(project))
    try:
        found = check_posture(project, arm)
    finally:
        arm.close()
    payload = {"findings": found["findings"], "accounts": found["accounts"], "errors": found["errors"]}
    if not project.posture_files:
        payload["reason"] = "no policies/posture.yaml"
    code = _exit_code(found=bool(found["findings"]), errors=bool(found["errors"]))
    lines = [
        f"{f['account']}{'/' + f['container'] if f.get('container') else ''}: {f['setting']} is {f['actual']}, "
        f"expected {f['expected']} ({', '.join(f['datasets'])})\n  fix: {f['fix']}"
        for f in found["findings"]
    ]
    lines += _error_lines(found["errors"])
    return StepResult(
        payload,
        code,
        text="\n".join(lines) or f"{len(found['accounts'])} account(s) match the posture policy",
    )


def _exit_code(found: bool, errors: bool) -> int:
    """1 on a violation or finding, 3 when a source could not be read (outage wins: SPEC §6.1)."""
    return worst(ExitCode.CHECK_FAILED if found else ExitCode.OK, ExitCode.INFRA if errors else ExitCode.OK)


def _error_lines(errors: list[dict[str, Any]]) -> list[str]:
    return [f"error: {e['dataset']}: {e['error']}" for e in errors]
