"""Access and posture checks on a larger estate against the local ARM server: requests and wall time.

Usage: .venv/bin/python bench/access.py [--datasets 200] [--containers 20] [--accounts 4] [--assignments 200]

Generates D datasets spread over C containers on A storage accounts (absolute abfss:// paths), every dataset
labelled PII, and N role assignments spread over the subscription, resource group, account and container
scopes with 6 role definitions. Prints the requests sent (ARM lists are paged 100 items a page, as ARM does
for role assignments) for `access check --source azure` and `posture check`, against the lower bound of
one listing per container plus one read per distinct role definition. The server validates every request
and response against the contracts, in this process, so wall time includes that validation.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "servers"))
sys.path.insert(0, str(REPO / "tests" / "access"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--containers", type=int, default=20)
    ap.add_argument("--accounts", type=int, default=4)
    ap.add_argument("--assignments", type=int, default=200)
    args = ap.parse_args()

    import arm_estate as est
    from arm_server import ArmServer

    from governance.access.azure_service import access_check, posture_check
    from governance.project import load_project

    with ArmServer() as srv, tempfile.TemporaryDirectory() as tmp:
        st = srv.state
        st.page_size = 100
        est.fill(st)  # role definitions, and the two accounts of the tests' estate
        accounts = [
            f"{est.RG_LAKE}/providers/Microsoft.Storage/storageAccounts/bench{i}"
            for i in range(args.accounts)
        ]
        st.storage_accounts = [est._account(a, "westeurope", minimumTlsVersion="TLS1_2") for a in accounts]
        containers = [(accounts[i % args.accounts], f"c{i}") for i in range(args.containers)]
        st.containers = {
            a.lower(): [est._container(a, c, "None") for acc, c in containers if acc == a] for a in accounts
        }
        roles = [*est.BUILTIN, *est.CUSTOM]
        scopes = [f"/subscriptions/{est.SUB}", est.RG_LAKE, *accounts]
        scopes += [f"{a}/blobServices/default/containers/{c}" for a, c in containers]
        st.role_assignments = [
            est._assignment(
                i, scopes[i % len(scopes)], roles[i % len(roles)], f"{i:08d}-0000-0000-0000-000000000000"
            )
            for i in range(args.assignments)
        ]
        root = Path(tmp)
        lines = [
            "version: 1",
            "azure: {subscription_id: " + est.SUB + ", arm_endpoint: '" + srv.url + "'}",
            "datasets:",
        ]
        for i in range(args.datasets):
            acct, c = containers[i % len(containers)]
            name = acct.rsplit("/", 1)[-1]
            lines.append(
                f"  silver.t{i}: {{format: delta, layer: silver, path: 'abfss://{c}@{name}.dfs.core.windows.net/t{i}'}}"
            )
        (root / "smartflow.yaml").write_text("\n".join(lines) + "\n")
        (root / "classifications").mkdir()
        (root / "classifications/c.yaml").write_text(
            "labels: [{name: PII}]\nassignments:\n"
            + "".join(f"  - {{dataset: silver.t{i}, table: [PII]}}\n" for i in range(args.datasets))
        )
        (root / "policies").mkdir()
        (root / "policies/access.yaml").write_text("policies:\n  - {label: PII, allowed_roles: [nobody]}\n")
        (root / "policies/posture.yaml").write_text(
            "storage:\n  - {account: '*', encryption: customer-managed}\n"
        )
        os.environ["SMARTFLOW_AZURE_TOKEN"] = "bench-token"
        project = load_project(root / "smartflow.yaml")
        for label, fn in (
            ("access check --source azure", lambda: access_check(project, ["azure"])),
            ("posture check", lambda: posture_check(project)),
        ):
            st.requests.clear()
            t0 = time.perf_counter()
            result = fn()
            wall = time.perf_counter() - t0
            n = len(st.requests)
            found = len(result.payload.get("violations", result.payload.get("findings", [])))
            print(
                f"{label}: {n} requests, {wall:.2f} s, {found} violations/findings, exit {result.exit_code}"
            )
        defs = len({a["properties"]["roleDefinitionId"] for a in st.role_assignments})
        print(
            f"lower bound for access: 1 account listing + {args.containers} container listings + {defs} role definitions"
            f" = {1 + args.containers + defs} requests"
        )
        assert not st.invalid, st.invalid[:3]


if __name__ == "__main__":
    main()
