"""A real Spark standalone cluster on loopback: a master, N workers and a Spark Connect server, each a
process of its own, started from the pyspark installation (the wheel carries spark-class, spark-submit and
the spark-connect jar, but no start script for the server). Small settings: 1 core and 1 GB per worker.

Used by the `spark_connect` fixture (one cluster per test session) and by bench/spark.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONNECT_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def connect_jar() -> Path | None:
    """The Spark Connect server jar shipped inside pyspark (pyspark ≥ 4.0 carries it in jars/)."""
    return next(iter(sorted((spark_home() / "jars").glob("spark-connect_*.jar"))), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class SparkCluster:
    """`with SparkCluster(workers=1) as cluster: cluster.url` → "sc://127.0.0.1:<port>". With workers=0,
    only a Connect server running Spark in its own JVM (`local[1]`): one process, quicker to start."""

    def __init__(
        self,
        workers: int = 1,
        worker_memory: str = "1g",
        executor_memory: str = "768m",
        executor_java_options: str = "",
    ) -> None:
        self.workers = workers
        self.worker_memory = worker_memory
        self.executor_memory = executor_memory
        self.executor_java_options = executor_java_options
        self.dir = Path(tempfile.mkdtemp(prefix="sfg-spark-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(self.dir),
            "SPARK_WORKER_DIR": str(self.dir / "work"),
            "SPARK_NO_DAEMONIZE": "1",
        }

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - the process keeps writing to it
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=self._env(), start_new_session=True
        )
        self.procs.append(proc)

    def _wait(self, what: str, ready: object, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if callable(ready) and ready():
                return
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"spark {what}: a process exited early; logs in {self.dir}")
            time.sleep(0.5)
        raise RuntimeError(f"spark {what} not ready after {timeout:.0f}s; logs in {self.dir}")

    def start(self) -> SparkCluster:
        if connect_jar() is None:
            raise RuntimeError(f"no spark-connect jar in {spark_home() / 'jars'} (pyspark < 4?)")
        master = self._start_standalone() if self.workers else "local[1]"
        bin_dir = spark_home() / "bin"
        self.port = free_port()
        self._start(
            "connect",
            [str(bin_dir / "spark-submit"), "--class", CONNECT_CLASS, "--name", "smartflow-test-connect",
             "--master", master,
             "--conf", f"spark.connect.grpc.binding.port={self.port}",
             "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
             "--conf", "spark.driver.memory=512m",
             "--conf", f"spark.executor.memory={self.executor_memory}",
             "--conf", "spark.executor.cores=1",
             "--conf", "spark.ui.enabled=false",
             "--conf", "spark.sql.shuffle.partitions=4",
             "--conf", "spark.sql.session.timeZone=UTC",
             *(["--conf", f"spark.executor.extraJavaOptions={self.executor_java_options}"]
               if self.executor_java_options else [])],
        )  # fmt: skip
        self._wait("connect server", lambda: _listening(self.port))
        return self

    def _start_standalone(self) -> str:
        """A master and the workers; returns the master's URL."""
        bin_dir = spark_home() / "bin"
        master_port = free_port()
        master = f"spark://127.0.0.1:{master_port}"
        self._start(
            "master",
            [str(bin_dir / "spark-class"), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
             "--port", str(master_port), "--webui-port", str(free_port())],
        )  # fmt: skip
        self._wait("master", lambda: _listening(master_port))
        for i in range(self.workers):
            self._start(
                f"worker{i}",
                [str(bin_dir / "spark-class"), "org.apache.spark.deploy.worker.Worker", master,
                 "--host", "127.0.0.1", "--cores", "1", "--memory", self.worker_memory,
                 "--webui-port", str(free_port()), "--work-dir", str(self.dir / f"work{i}")],
            )  # fmt: skip
        master_log = self.dir / "master.log"
        self._wait("workers", lambda: master_log.read_text().count("Registering worker") >= self.workers)
        return master

    def kill_connect_server(self) -> None:
        """SIGKILL the Connect server (the last process started), as a crash would."""
        proc = self.procs[-1]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> SparkCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def no_jvm_env(**extra: str) -> dict[str, str]:
    """An environment in which no local JVM can start: JAVA_HOME points nowhere, no java on PATH."""
    import shutil
    import sys

    path = str(Path(sys.executable).parent)
    assert shutil.which("java", path=path) is None
    return {"JAVA_HOME": "/nonexistent/java", "PATH": path, **extra}
