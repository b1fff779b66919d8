"""`smartflow-gov nightly`: the real job over the demo lake, partial failure, the state-dir lock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import demo_nightly, run_cli

from governance import metrics
from governance.errors import ExitCode
from governance.nightly import STEP_NAMES, Context, Step, run_step, service
from governance.project import load_project
from governance.results import StepResult, worst
from governance.runs import latest_run, run_history


@pytest.fixture()
def demo_copy(demo_project: Path, tmp_path: Path) -> Path:
    """A private copy of the demo project (lake and state) the test may change."""
    dst = tmp_path / "demo"
    shutil.copytree(demo_project, dst)
    return dst


@pytest.mark.slow
def test_demo_nightly_runs_every_step_and_stores_its_summary(
    tmp_path_factory: pytest.TempPathFactory, demo_project: Path
) -> None:
    root, proc = demo_nightly(tmp_path_factory, demo_project)
    summary = json.loads(proc.stdout)
    assert [s["name"] for s in summary["steps"]] == list(STEP_NAMES)
    for key in ("run_id", "started_at", "finished_at", "duration_seconds", "exit_code", "steps"):
        assert key in summary
    assert "results" not in summary  # payloads are stored for the reports, not printed
    for s in summary["steps"]:
        assert set(s) >= {"name", "status", "exit_code", "duration_seconds", "summary"}
        assert s["status"] in ("ok", "failed", "error", "skipped")
    assert summary["exit_code"] == worst(*(s["exit_code"] for s in summary["steps"])) == proc.returncode
    # the demo injects defects (a missing partition, a stale feed, undeclared PII): the job says so
    assert proc.returncode >= ExitCode.CHECK_FAILED
    by_name = {s["name"]: s for s in summary["steps"]}
    assert by_name["validate"]["status"] == "ok"
    assert by_name["freshness"]["status"] == "failed"
    assert by_name["reports"]["status"] == "ok"
    if "SMARTFLOW_WAREHOUSE_URL" not in os.environ:
        assert by_name["access"]["status"] == "skipped"  # no warehouse configured in the demo
    state = root / ".smartflow"
    stored = latest_run(state)
    assert stored and stored["run_id"] == summary["run_id"]
    assert set(stored["results"]) >= {"validate", "lineage-build", "freshness", "reports"}
    assert (state / "runs" / f"{summary['run_id']}.json").exists()
    assert run_history(state)[-1]["run_id"] == summary["run_id"]
    assert not (state / "nightly.lock").exists()
    durations = metrics.query(state, "run_duration_seconds", {"job": "nightly"})
    assert any(m.run_id == summary["run_id"] and "step" not in m.dimensions for m in durations)
    day = summary["started_at"][:10]
    for kind in ("nightly", "audit"):
        assert (root / "reports" / f"{kind}-{day}.html").stat().st_size > 10_000
        assert (
            json.loads((root / "reports" / f"{kind}-{day}.json").read_text())["run"]["run_id"]
            == summary["run_id"]
        )


@pytest.mark.slow
def test_progress_is_plain_lines_without_a_terminal(
    tmp_path_factory: pytest.TempPathFactory, demo_project: Path
) -> None:
    _, proc = demo_nightly(tmp_path_factory, demo_project)
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("nightly [")]
    assert len(lines) == 2 * len(STEP_NAMES)  # start and end of every step
    assert lines[0] == f"nightly [1/{len(STEP_NAMES)}] validate ..."
    assert "\x1b[" not in proc.stderr  # no colour codes in CI logs


@pytest.mark.slow
def test_partial_failure_is_recorded_and_the_rest_goes_on(demo_copy: Path) -> None:
    shutil.rmtree(demo_copy / "lake" / "silver" / "transactions")
    proc = run_cli("--config", str(demo_copy / "smartflow.yaml"), "--output", "json", "nightly")
    summary = json.loads(proc.stdout)
    steps = {s["name"]: s for s in summary["steps"]}
    assert list(steps) == list(STEP_NAMES)  # every step ran
    assert proc.returncode == summary["exit_code"] == worst(*(s["exit_code"] for s in steps.values()))
    assert proc.returncode != ExitCode.OK
    assert steps["reports"]["status"] == "ok"
    broken = [s for s in ("quality", "pii", "freshness") if steps[s]["status"] == "error"]
    assert broken and all("silver.transactions" in (steps[s]["error"] or "") for s in broken)
    stored = latest_run(demo_copy / ".smartflow")
    assert stored is not None
    fresh = {d["dataset"]: d for d in stored["results"]["freshness"]["datasets"]}
    assert "error" in fresh["silver.transactions"]  # the broken dataset is recorded...
    assert fresh["silver.device_telemetry"].get("lag_minutes") is not None  # ...and the others still checked
    day = summary["started_at"][:10]
    report = json.loads((demo_copy / "reports" / f"nightly-{day}.json").read_text())
    assert "silver.transactions" in report["lineage"]["failing"]
    assert "gold.daily_revenue" in report["lineage"]["failing"] + report["lineage"]["suspect"]
    html = (demo_copy / "reports" / f"nightly-{day}.html").read_text()
    assert "silver.transactions" in html


def _hold_lock(state: Path) -> subprocess.Popen[str]:
    code = (
        "import sys; from pathlib import Path; from governance.nightly import nightly_lock\n"
        f"with nightly_lock(Path({str(state)!r})):\n"
        "    print('locked', flush=True); sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_lock_prevents_a_second_run_on_the_same_state_dir(demo_copy: Path) -> None:
    state = demo_copy / ".smartflow"
    holder = _hold_lock(state)
    try:
        proc = run_cli("--config", str(demo_copy / "smartflow.yaml"), "nightly", "--step", "validate")
        assert proc.returncode == ExitCode.INFRA
        assert "another nightly run holds" in proc.stderr and str(holder.pid) in proc.stderr
    finally:
        holder.communicate("", timeout=30)
    assert not (state / "nightly.lock").exists()
    proc = run_cli("--config", str(demo_copy / "smartflow.yaml"), "nightly", "--step", "validate", check=0)


def test_a_stale_lock_of_a_dead_process_is_taken_over(demo_copy: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    state = demo_copy / ".smartflow"
    state.mkdir(exist_ok=True)
    (state / "nightly.lock").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    proc = run_cli(
        "--config", str(demo_copy / "smartflow.yaml"), "--output", "json", "nightly", "--step", "validate"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["steps"][0]["status"] == "ok"
    assert not (state / "nightly.lock").exists()


def test_unknown_step_is_bad_input(repo: Path) -> None:
    proc = run_cli("--config", str(repo / "smartflow.yaml"), "nightly", "--step", "nope")
    assert proc.returncode == ExitCode.BAD_INPUT and "unknown step" in proc.stderr


def test_a_missing_capability_or_a_crash_is_recorded_as_that_steps_error(repo: Path) -> None:
    from datetime import UTC, datetime

    ctx = Context(load_project(repo / "smartflow.yaml"), "test", datetime.now(UTC))

    def missing(ctx: Context) -> StepResult:
        return service("governance.no_such_capability.service", "run")(ctx.project)  # type: ignore[no-any-return]

    def crash(ctx: Context) -> StepResult:
        raise RuntimeError("engine exploded")

    def fine(ctx: Context) -> StepResult:
        return StepResult({"summary": {"checked": 3}}, ExitCode.CHECK_FAILED)

    recs = [run_step(Step(n, n, fn), ctx) for n, fn in (("a", missing), ("b", crash), ("c", fine))]
    assert (recs[0].status, recs[0].exit_code, recs[0].summary) == ("error", 3, "capability not installed")
    assert recs[1].status == "error" and recs[1].exit_code == 3 and "engine exploded" in (recs[1].error or "")
    assert (recs[2].status, recs[2].exit_code, recs[2].summary) == ("failed", 1, "checked 3")
    assert set(ctx.results) == {"c"}


def test_a_service_that_breaks_on_one_dataset_is_rerun_dataset_by_dataset(repo: Path) -> None:
    from datetime import UTC, datetime

    from governance.errors import InfraError
    from governance.nightly import _per_dataset

    ctx = Context(load_project(repo / "smartflow.yaml"), "test", datetime.now(UTC))
    calls: list[list[str] | None] = []

    def run(project: object, datasets: list[str] | None = None) -> StepResult:
        calls.append(datasets)
        if datasets is None or datasets == ["b"]:
            raise InfraError("engine lost dataset b")
        return StepResult(
            {"success": True, "suites": [{"dataset": datasets[0], "success": datasets[0] != "c"}]},
            ExitCode.OK if datasets[0] != "c" else ExitCode.CHECK_FAILED,
        )

    result = _per_dataset(ctx, run, ["a", "b", "c"], "suites")
    assert calls == [None, ["a"], ["b"], ["c"]]
    assert [s["dataset"] for s in result.payload["suites"]] == ["a", "c"]
    assert result.payload["errors"] == [{"dataset": "b", "exit_code": 3, "error": "engine lost dataset b"}]
    assert result.payload["success"] is False and result.exit_code == ExitCode.INFRA
