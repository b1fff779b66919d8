"""Time and peak memory of `smartflow-gov demo init` at scale 1 and 100 (each run in its own subprocess).

Usage: python bench/demo.py [SCALE ...]   (default: 1 100). Prints a table; each build goes to a temp
copy of the repo's project and is deleted afterwards. Peak RSS is the child's own ru_maxrss (os.wait4).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers import copy_project  # noqa: E402  (the tests' copy of the repo's declarative files)


def run(scale: float) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory(prefix="sfg-bench-") as tmp:
        copy_project(Path(tmp))
        exe = Path(sys.executable).with_name("smartflow-gov")
        cmd = [
            str(exe),
            "--config",
            f"{tmp}/smartflow.yaml",
            "demo",
            "init",
            "--scale",
            str(scale),
            "--seed",
            "42",
            "--as-of",
            "2026-11-28T04:00:00Z",
        ]
        pid_start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, _, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - pid_start
        status = "ok" if proc.returncode in (0, None) else f"exit {proc.returncode}"
        size = sum(f.stat().st_size for f in (Path(tmp) / "lake").rglob("*") if f.is_file())
        return seconds, usage.ru_maxrss / 1024, f"{status}, lake {size / 2**20:,.0f} MiB"


def main() -> None:
    scales = [float(a) for a in sys.argv[1:]] or [1.0, 100.0]
    print(f"{'scale':>7} {'seconds':>9} {'peak RSS MiB':>13}  note", flush=True)
    for scale in scales:
        seconds, rss, note = run(scale)
        print(f"{scale:>7g} {seconds:>9.1f} {rss:>13,.0f}  {note}", flush=True)


if __name__ == "__main__":
    main()
