"""`--engine sql` on suites whose data are lake files is a wrong argument (exit 2, nothing run), not an
outage of the warehouse (exit 3)."""

from __future__ import annotations

from pathlib import Path

from helpers import copy_project, run_cli


def test_engine_sql_on_delta_suites_is_a_bad_argument(tmp_path: Path) -> None:
    cfg = copy_project(tmp_path)
    proc = run_cli("--config", str(cfg), "quality", "run", "--suite", "silver_customers", "--engine", "sql")
    assert proc.returncode == 2, proc.stderr
    assert "--engine sql" in proc.stderr and "silver.customers" in proc.stderr
    assert not (tmp_path / ".smartflow" / "quality").exists()  # nothing ran, nothing recorded
