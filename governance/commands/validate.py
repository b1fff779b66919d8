"""`smartflow-gov validate`: lint every declarative file (no network, no data changed)."""

from __future__ import annotations

import click

from governance.cli import App, pass_app
from governance.errors import ExitCode, InputError
from governance.output import emit


@click.command("validate")
@click.option("--no-data", is_flag=True, help="Check columns against declared schemas only, not the lake.")
@pass_app
def command(app: App, no_data: bool) -> int:
    """Lint glossary, classifications, expectations, manifests, alerts and policies; exit 2 on any problem."""
    from governance.validation import check

    project, problems = check(app.config, check_data=not no_data)
    if problems:
        raise InputError(problems)
    counts = {
        "datasets": len(project.config.datasets),
        "terms": len(project.terms),
        "labels": len(project.labels),
        "rules": len(project.rules),
        "suites": len(project.suites),
        "manifests": len(project.manifests),
        "alert_rules": len(project.alert_rules),
        "policies": len(project.policies),
        "domains": len(project.domain_files),
        "data_products": sum(len(d.data_products) for d in project.domain_files),
        "critical_data_elements": sum(len(d.critical_data_elements) for d in project.domain_files),
    }
    domains = sorted(d.domain for d in project.domain_files)
    emit(
        app.output,
        {"valid": True, "files": sorted(project.docs), "counts": counts, "domains": domains},
        lambda: (
            f"ok: {len(project.docs)} files valid ("
            + ", ".join(f"{v} {k}" for k, v in counts.items())
            + ")"
            + (f"\ndomains: {', '.join(domains)}" if domains else "")
        ),
    )
    return ExitCode.OK
