"""Shared fixtures: the repo's own project, a built demo lake, a PostgreSQL database.

Fixtures of one capability live in tests/<capability>/conftest.py; helpers in tests/helpers.py.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import PG_URL, REPO, copy_project, run_cli  # noqa: E402

_PYCACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """The suite starts the console script a few hundred times. Where the environment forbids writing
    bytecode beside the sources (PYTHONDONTWRITEBYTECODE), each start would compile the package again:
    the subprocesses cache it in a folder of this session instead, as an installed tool caches it."""
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        _PYCACHE.append(tempfile.mkdtemp(prefix="smartflow-test-pycache-"))
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE[0]
    _quick_jvms()


# Spark's JVMs in the tests run short, small jobs: the optimising JIT compiler (C2) and parallel GC threads
# cost more CPU than they win back (test_conformance_spark: 129 s of CPU instead of 188 s with these).
TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def _quick_jvms() -> None:
    """Local Spark sessions and the Connect server start through spark-submit (SPARK_SUBMIT_OPTS), the
    standalone master and worker through spark-class (SPARK_DAEMON_JAVA_OPTS); the executors get the same
    options from the `spark_connect` fixture. An option already set in the environment wins."""
    os.environ.setdefault("SPARK_SUBMIT_OPTS", TEST_JVM_OPTIONS)
    os.environ.setdefault("SPARK_DAEMON_JAVA_OPTS", TEST_JVM_OPTIONS)


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _PYCACHE:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's project with a small demo lake built by `demo init` (shared by tests: do not modify;
    copy it with `copy_project` + shutil.copytree of lake/ when a test needs to write)."""
    dst = tmp_path_factory.mktemp("demo")
    config = copy_project(dst)
    # SMARTFLOW_TEST_AS_OF (ISO time) builds the demo as of another moment: the tests must pass for any
    as_of = ("--as-of", os.environ["SMARTFLOW_TEST_AS_OF"]) if os.environ.get("SMARTFLOW_TEST_AS_OF") else ()
    run_cli("--config", str(config), "demo", "init", "--scale", "0.2", "--seed", "7", *as_of, check=0)
    return dst


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's project with a tiny demo lake (`demo init --scale 0.02` as of 2026-11-30T06:00Z), built
    once (shared: do not modify; tests that write work on a shutil.copytree of it)."""
    dst = tmp_path_factory.mktemp("small-demo")
    config = copy_project(dst)
    run_cli(
        "--config", str(config), "demo", "init", "--scale", "0.02", "--as-of", "2026-11-30T06:00:00Z", check=0
    )
    return dst


@pytest.fixture(scope="session")
def pg_url() -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is required for these tests ({PG_URL}): {exc}")
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture(scope="session")
def spark_connect() -> Iterator[str]:
    """`sc://127.0.0.1:<port>` of a Spark Connect server on a local standalone cluster (a master and one
    worker, separate processes; tests/spark_cluster.py), one per test session. Tests using it are slow.
    SMARTFLOW_TEST_SPARK_REMOTE names a running server instead."""
    import os

    from spark_cluster import SparkCluster

    if os.environ.get("SMARTFLOW_TEST_SPARK_REMOTE"):
        yield os.environ["SMARTFLOW_TEST_SPARK_REMOTE"]
        return

    from governance.lake.spark_session import close_remote

    with SparkCluster(workers=1, executor_java_options=TEST_JVM_OPTIONS) as cluster:
        yield cluster.url
        close_remote()
