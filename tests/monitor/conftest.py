"""Fixtures of the monitoring tests (builders live in monitor_data.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "servers"))

from azure_monitor_server import AzureMonitorServer  # noqa: E402
from monitor_data import AS_OF, CONFIG, write_bronze, write_monthly, write_silver  # noqa: E402


@pytest.fixture
def mini_project(tmp_path: Path) -> Callable[..., Path]:
    """Build the small project; returns its root. Bronze has 2026-11-20 missing and 2026-11-24 late."""

    def build(config: str = CONFIG, extra_files: dict[str, str] | None = None) -> Path:
        (tmp_path / "smartflow.yaml").write_text(config)
        for rel, text in (extra_files or {}).items():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(text)
        days = [date(2026, 11, 14) + timedelta(days=i) for i in range(14)]
        bronze_days = [d for d in days if d != date(2026, 11, 20)]
        write_bronze(tmp_path, bronze_days, late={date(2026, 11, 24): timedelta(hours=10, minutes=50)})
        write_silver(tmp_path, days, AS_OF - timedelta(minutes=90))
        write_monthly(tmp_path, ["2026-08", "2026-09", "2026-11"])
        return tmp_path

    return build


@pytest.fixture
def monitor_server() -> Iterator[AzureMonitorServer]:
    """A local Azure Monitor (ARM, custom metrics, logs ingestion, logs query) on 127.0.0.1."""
    with AzureMonitorServer() as srv:
        yield srv


@pytest.fixture
def azure_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SMARTFLOW_AZURE_TOKEN", "test-token-not-a-secret")
    return "test-token-not-a-secret"
