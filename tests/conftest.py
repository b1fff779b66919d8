"""Shared fixtures: the repo's own project, a built demo lake, a PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PG_URL = os.environ.get("SMARTFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            check: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console script in a subprocess, as a user would."""
    exe = Path(sys.executable).with_name("smartflow-gov")
    proc = subprocess.run([str(exe), *args], cwd=cwd or REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=1200)
    if check is not None and proc.returncode != check:
        raise AssertionError(f"exit {proc.returncode} != {check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repo's governance project (declarative files only) in a temp folder."""
    dst = tmp_path_factory.mktemp("project")
    for name in ("smartflow.yaml", "glossary", "classifications", "expectations", "manifests", "alerts", "policies"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name)
        elif src.is_file():
            shutil.copy(src, dst / name)
    return dst


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's project with a small demo lake built by `demo init` (shared, read-only for tests)."""
    dst = tmp_path_factory.mktemp("demo")
    for name in ("smartflow.yaml", "glossary", "classifications", "expectations", "manifests", "alerts", "policies"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name)
        elif src.is_file():
            shutil.copy(src, dst / name)
    run_cli("--config", str(dst / "smartflow.yaml"), "demo", "init", "--scale", "0.2", "--seed", "7", check=0)
    return dst


@pytest.fixture(scope="session")
def pg_url() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is required for these tests ({PG_URL}): {exc}")
    finally:
        engine.dispose()
    return PG_URL
