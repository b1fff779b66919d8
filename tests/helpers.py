"""Helpers shared by tests (import with `from helpers import run_cli, REPO, ...`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    """The shared contract folder (Azure REST schemas, GX conformance suite) that sits beside the project.

    SMARTFLOW_SHARED overrides; otherwise `../shared` beside this checkout, or beside the repository it was
    cloned from (a fresh clone in a temporary folder has no `../shared` of its own).
    """
    if os.environ.get("SMARTFLOW_SHARED"):
        return Path(os.environ["SMARTFLOW_SHARED"])
    candidates = [REPO.parent / "shared"]
    origin = subprocess.run(
        ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and "://" not in origin and ":" not in origin.split("/")[0]:
        candidates.append(Path(origin).expanduser().resolve().parent / "shared")
    return next((c for c in candidates if (c / "contracts").is_dir()), candidates[0])


SHARED = _find_shared()
CONTRACTS = SHARED / "contracts" / "azure-rest-api-specs" / "specification"
GX_TESTS = SHARED / "conformance" / "gx-test-definitions"
PG_URL = os.environ.get("SMARTFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PROJECT_PARTS = (
    "smartflow.yaml",
    "glossary",
    "classifications",
    "expectations",
    "manifests",
    "alerts",
    "policies",
    "domains",
)


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, check: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console script in a subprocess, as a user would."""
    exe = Path(sys.executable).with_name("smartflow-gov")
    proc = subprocess.run(
        [str(exe), *args],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=1200,
    )
    if check is not None and proc.returncode != check:
        raise AssertionError(
            f"exit {proc.returncode} != {check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def copy_project(dst: Path) -> Path:
    """Copy the repo's declarative files (not lake or state) to `dst`; returns the config path."""
    import shutil

    dst.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_PARTS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name, dirs_exist_ok=True)
        elif src.is_file():
            shutil.copy(src, dst / name)
    return dst / "smartflow.yaml"


def demo_nightly(
    tmp_path_factory: object, demo_project: Path
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One real `nightly --output json` over a copy of the demo project, shared by the nightly and report
    tests of a session (the first caller runs it, later callers reuse it). Returns (project dir, process)."""
    import json
    import shutil

    base = tmp_path_factory.getbasetemp() / "demo-nightly"  # type: ignore[attr-defined]
    done = base / "process.json"
    if not done.exists():
        if base.exists():
            shutil.rmtree(base)
        shutil.copytree(demo_project, base)
        proc = run_cli("--config", str(base / "smartflow.yaml"), "--output", "json", "nightly")
        done.write_text(json.dumps({"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}))
    data = json.loads(done.read_text())
    return base, subprocess.CompletedProcess([], data["rc"], data["stdout"], data["stderr"])
