"""SPEC §6.2 end to end: a project with planted PII in the lake and in a PostgreSQL table, and secrets in
the environment (a warehouse URL with a password and a query-string token, a webhook URL with a token in
its path and query, SMARTFLOW_AZURE_TOKEN). `nightly -vv`, then a connection that fails and a URL that is
malformed; every byte of stdout, stderr, the state dir and the reports is searched for each planted value
and secret."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from helpers import PG_URL, run_cli

pytestmark = pytest.mark.slow  # a demo lake, a nightly run and PostgreSQL

PASSWORD = "S3cretPw-planted-91"
QUERY_TOKEN = "apptok-planted-77"
HOOK_PATH = "planted-hook-path-55"
HOOK_SIG = "planted-sig-33"
AZURE_TOKEN = "planted-azure-token-12"
SECRETS = [PASSWORD, QUERY_TOKEN, HOOK_PATH, HOOK_SIG, AZURE_TOKEN]

PLANTED = [  # (email, name); the first e-mail twice, so the uniqueness check fails on a planted value
    ("zoe.planted-4417@leaky.example", "Zoe Plantedvalue"),
    ("zoe.planted-4417@leaky.example", "Yannick Plantedvalue"),
    ("xavier.planted-8821@leaky.example", "Xavier Plantedvalue"),
    ("not-an-address-planted-3391", "Wanda Plantedvalue"),
]


def _warehouse_url(base: str, port: int | None = None) -> str:
    """PG_URL with a password (trust authentication ignores it) and a token in the query string."""
    url = base.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    if port is not None:
        url = re.sub(r"@([^:/]+):\d+/", rf"@\1:{port}/", url)
    return f"{url}?application_name={QUERY_TOKEN}"


@pytest.fixture(scope="module")
def run(small_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    import sqlalchemy as sa

    root = tmp_path_factory.mktemp("leak") / "project"
    shutil.copytree(small_demo, root)
    config = root / "smartflow.yaml"
    schema = f"leak_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        conn.execute(sa.text(f'CREATE TABLE "{schema}".people (id int, email text, name text)'))
        conn.execute(
            sa.text(f'INSERT INTO "{schema}".people VALUES (:i, :e, :n)'),
            [{"i": i, "e": e, "n": n} for i, (e, n) in enumerate(PLANTED)],
        )
    text = config.read_text().replace(
        "\nconnections:",
        f"\n  silver.people_wh:\n    format: sql\n    layer: silver\n    connection: warehouse\n"
        f"    table: {schema}.people\n    columns: {{id: INTEGER, email: VARCHAR, name: VARCHAR}}\n\nconnections:",
    )
    config.write_text(text)
    (root / "classifications" / "assignments" / "planted.yaml").write_text(
        "assignments:\n  - dataset: silver.people_wh\n    columns: {email: [PII], name: [PII], id: [Confidential]}\n"
    )
    (root / "expectations" / "silver" / "people_wh.yaml").write_text(
        "suite: people_wh\ndataset: silver.people_wh\nexpectations:\n"
        "  - {type: expect_column_values_to_be_unique, kwargs: {column: email}}\n"
        "  - {type: expect_column_values_to_match_regex, kwargs: {column: email, regex: '^[^@]+@[^@]+$'}}\n"
        "  - {type: expect_column_values_to_be_in_set, kwargs: {column: name,"
        " value_set: ['Nobody Known']}}\n"
    )
    env = {
        "SMARTFLOW_WAREHOUSE_URL": _warehouse_url(PG_URL),
        "SMARTFLOW_TEAMS_WEBHOOK": f"http://hooks.leaky.example/webhookb2/{HOOK_PATH}?sig={HOOK_SIG}",
        "SMARTFLOW_AZURE_TOKEN": AZURE_TOKEN,
    }
    runs: dict[str, Any] = {}
    runs["nightly"] = run_cli("--config", str(config), "-vv", "--output", "json", "nightly", env=env)
    runs["evaluate"] = run_cli(
        "--config", str(config), "-vv", "--output", "json", "alerts", "evaluate", env=env
    )
    down = {**env, "SMARTFLOW_WAREHOUSE_URL": _warehouse_url(PG_URL, port=1)}
    runs["down_quality"] = run_cli("--config", str(config), "-vv", "--output", "json", "quality", "run",
                                   "--dataset", "silver.people_wh", env=down)  # fmt: skip
    runs["down_nightly"] = run_cli("--config", str(config), "-vv", "nightly", "--step", "quality",
                                   "--step", "access", "--step", "freshness", env=down)  # fmt: skip
    bad = {
        **env,
        "SMARTFLOW_WAREHOUSE_URL": f"postgresql+psycopg://u:{PASSWORD}@h:notaport/db?x={QUERY_TOKEN}",
    }
    runs["bad_url"] = run_cli("--config", str(config), "-vv", "quality", "run", "--dataset", "silver.people_wh",
                              env=bad)  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()

    assert runs["nightly"].returncode in (1, 3), runs["nightly"].stderr[-3000:]
    run_id = json.loads(runs["nightly"].stdout)["run_id"]
    first = (root / ".smartflow" / "runs" / f"{run_id}.json").read_text()
    assert '"people_wh"' in first and "unreachable" not in first  # the planted suite ran on PostgreSQL
    assert runs["down_quality"].returncode == 3, runs["down_quality"].stderr[-2000:]
    assert runs["bad_url"].returncode in (2, 3), runs["bad_url"].stderr[-2000:]
    assert "DEBUG" in runs["nightly"].stderr  # -vv really logged

    written = {
        f"{name}.{s}": getattr(p, s).encode() for name, p in runs.items() for s in ("stdout", "stderr")
    }
    for folder in (".smartflow", "reports"):
        for path in (root / folder).rglob("*"):
            if path.is_file():
                written[f"{folder}/{path.relative_to(root / folder)}"] = path.read_bytes()
    assert any(k.startswith(".smartflow/runs/") for k in written) and any(
        k.startswith("reports/") for k in written
    )
    return root, written


@pytest.fixture(scope="module")
def outputs(run: tuple[Path, dict[str, bytes]]) -> dict[str, bytes]:
    return run[1]


def _lake_pii(root: Path) -> list[str]:
    """E-mail addresses of the demo lake's silver.customers (classified PII)."""
    from deltalake import DeltaTable

    table = DeltaTable(str(root / "lake" / "silver" / "customers")).to_pyarrow_table(columns=["email"])
    return sorted({e for e in table.column("email").to_pylist() if e and "@" in e and len(e) >= 10})


def _needles(values: list[str]) -> set[bytes]:
    out: set[bytes] = set()
    for v in values:
        out |= {v.encode(), quote(v, safe="").encode(), v.replace("@", "%40").encode()}
    return out


def _find(written: dict[str, bytes], values: list[str]) -> list[tuple[str, str]]:
    needles = _needles(values)
    return sorted({(name, n.decode()) for name, data in written.items() for n in needles if n in data})


def test_no_secret_in_any_byte_written(outputs: dict[str, bytes]) -> None:
    assert _find(outputs, SECRETS) == []


def test_no_planted_pii_in_any_byte_written(run: tuple[Path, dict[str, bytes]]) -> None:
    """Neither the planted PostgreSQL values (a failing uniqueness check on e-mail, a failing set check
    on names) nor the e-mail addresses of the demo lake's silver.customers, logged SQL included."""
    root, outputs = run
    lake = _lake_pii(root)
    assert len(lake) > 20
    values = [e for e, _ in PLANTED] + [n for _, n in PLANTED] + lake
    assert _find(outputs, values) == []


def test_the_search_finds_what_is_there(outputs: dict[str, bytes]) -> None:
    """The needles are real: the same search over a buffer that holds them finds every one."""
    probe = {"probe": " ".join(SECRETS + [e for e, _ in PLANTED]).encode()}
    assert len(_find(probe, SECRETS)) == len(SECRETS)
