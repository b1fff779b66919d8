"""Both reports from a real demo nightly run, checked in headless Chromium (Debian's `chromium`): every
section renders, charts and the lineage SVG are there, no console error, nothing fetched from anywhere,
readable on a phone and in print; and no PII value of the demo anywhere in what the run wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium_cdp import CHROMIUM, Chromium, problems, requests
from helpers import demo_nightly, run_cli

pytestmark = pytest.mark.slow

NIGHTLY_SECTIONS = (
    "scorecard",
    "failing",
    "trends",
    "lineage",
    "freshness",
    "anomalies",
    "pii",
    "alerts",
    "run",
)
AUDIT_SECTIONS = ("glossary", "pii", "access", "lineage", "drift", "alerts", "run")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, demo_project: Path) -> Path:
    root, proc = demo_nightly(tmp_path_factory, demo_project)
    assert json.loads(proc.stdout)["steps"][-1]["status"] == "ok", proc.stderr
    return root


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make install-chromium, as root)")
    b = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    b.open()
    yield b
    b.close()


def _report(root: Path, kind: str) -> Path:
    return next((root / "reports").glob(f"{kind}-*.html"))


@pytest.mark.parametrize(("kind", "sections"), [("nightly", NIGHTLY_SECTIONS), ("audit", AUDIT_SECTIONS)])
def test_report_renders_in_chromium(
    run_dir: Path, browser: Chromium, tmp_path: Path, kind: str, sections: tuple[str, ...]
) -> None:
    html = _report(run_dir, kind)
    browser.viewport(1280, 900)
    browser.media("")
    events = browser.load(html.as_uri())
    assert problems(events) == []
    assert requests(events) == [html.as_uri()]  # self-contained: nothing else is fetched
    for anchor in sections:
        height = browser.evaluate(
            f"(() => {{ const h = document.getElementById({anchor!r}); if (!h) return -1;"
            " return (h.closest('section') || h).getBoundingClientRect().height; })()"
        )
        assert height > 40, f"section #{anchor} of the {kind} report is missing or empty"
    assert (
        browser.evaluate("document.querySelectorAll('script, link[rel=stylesheet], img, iframe').length") == 0
    )
    model = json.loads(html.with_suffix(".json").read_text())
    if kind == "nightly":
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") >= 4
        assert browser.evaluate("document.querySelectorAll('svg.chart polyline').length") >= 1  # real history
        nodes = browser.evaluate(
            "Array.from(document.querySelectorAll('svg.lineage g.node')).map(g => [g.querySelector('title')"
            ".textContent.split(':')[0], g.classList[1]])"
        )
        assert {n for n, _ in nodes} == set(model["lineage"]["nodes"])
        marked = {n: cls for n, cls in nodes}
        assert model["lineage"]["failing"], "the demo's injected defects should mark a failing dataset"
        assert all(marked[n] == "failing" for n in model["lineage"]["failing"])
        assert all(marked[n] == "suspect" for n in model["lineage"]["suspect"])
        assert browser.evaluate("document.querySelectorAll('svg.lineage path.edge').length") == len(
            model["lineage"]["edges"]
        )
    shot = browser.screenshot(tmp_path / f"{kind}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    # a phone: nothing wider than the screen (wide tables scroll inside their own box)
    browser.viewport(390, 844, mobile=True, scale=2)
    browser.load(html.as_uri())
    assert browser.evaluate("document.documentElement.scrollWidth") <= 390
    browser.screenshot(tmp_path / f"{kind}-phone.png")
    # print on A4 (about 703 CSS px between the margins): navigation hidden, nothing cut off, a PDF comes out
    browser.viewport(703, 1000)
    browser.load(html.as_uri())
    browser.media("print")
    assert browser.evaluate("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
    assert browser.evaluate("document.documentElement.scrollWidth") <= 703
    browser.media("")
    assert browser.pdf()[:5] == b"%PDF-"


def test_no_pii_value_in_anything_the_run_wrote(run_dir: Path) -> None:
    from deltalake import DeltaTable

    values: set[str] = set()
    for path, cols in (
        ("silver/customers", ("email", "name")),
        ("bronze/crm_customers", ("email", "full_name", "phone")),
    ):
        table = DeltaTable(str(run_dir / "lake" / path)).to_pyarrow_table(columns=list(cols))
        for col in cols:
            values |= {str(v) for v in table.column(col).to_pylist() if v and len(str(v)) >= 6}
    assert len(values) > 100
    written = [*(run_dir / "reports").glob("*.*"), *(run_dir / ".smartflow" / "runs").glob("*.json*")]
    assert any(p.suffix == ".html" for p in written)
    for path in written:
        text = path.read_text(encoding="utf-8")
        leaked = [v for v in values if v in text]
        assert not leaked, f"{path.name} holds {len(leaked)} PII value(s)"


def test_report_command_renders_from_the_stored_run(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli(
        "--config", str(run_dir / "smartflow.yaml"), "--output", "json", "report", "audit", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert Path(payload["html"]).parent == out and Path(payload["json"]).exists()
    stored = json.loads((run_dir / ".smartflow" / "runs" / "latest.json").read_text())
    assert payload["run_id"] == stored["run_id"]
    assert payload["sections"]["access"] is False  # the demo has no warehouse: the report says so
    assert "not checked" in Path(payload["html"]).read_text()
