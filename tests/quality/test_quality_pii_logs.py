"""SPEC §6.2 for quality: planted PII values (a duplicated e-mail that uniqueness carries back into the
samples query, a malformed one — the column's minimum —, the column's maximum) appear in no byte of
stdout, stderr at -vv, state_dir (incremental partition states included) or reports."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from deltalake import write_deltalake
from helpers import run_cli
from tiny_lake import DAYS, orders

PLANTED = ("twin.sister@planted.example", "jane.doe(at)example.com", "zed.zulu@planted.example")


def _every_byte(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_planted_pii_never_leaves_at_vv(tiny: Path, tmp_path: Path) -> None:
    root = tiny.parent
    rows = orders(DAYS)  # day one's e-mail 5 is "jane.doe(at)example.com"
    rows["email"][6] = rows["email"][7] = PLANTED[0]
    rows["email"][8] = PLANTED[2]
    write_deltalake(
        str(root / "lake/silver/orders"), pa.table(rows), partition_by=["order_date"], mode="overwrite"
    )
    suite = root / "expectations/orders.yaml"
    suite.write_text(
        suite.read_text().replace(
            "dataset: silver.orders\n", "dataset: silver.orders\nincremental: {partition: order_date}\n"
        )
        + "  - {type: expect_column_values_to_be_unique, kwargs: {column: email}}\n"
        + "  - {type: expect_column_max_to_be_between, kwargs: {column: email, min_value: a}}\n"
        + "  - {type: expect_column_min_to_be_between, kwargs: {column: email, min_value: a}}\n"
        + "  - {type: expect_column_values_to_not_be_in_set, kwargs: {column: email, value_set: [x@y.z]}}\n"
    )
    reports = tmp_path / "reports"
    quality = run_cli("--config", str(tiny), "--output", "json", "-vv", "quality", "run", "--quarantine")
    report = run_cli("--config", str(tiny), "-vv", "report", "nightly", "--out", str(reports))
    assert quality.returncode == 1, quality.stderr
    payload = json.loads(quality.stdout)
    email = [
        r
        for r in payload["suites"][0]["results"]
        if r["expectation_config"]["kwargs"].get("column") == "email"
        and r["expectation_config"]["type"] == "expect_column_values_to_be_unique"
    ][0]
    assert email["result"]["unexpected_count"] == 2  # the duplicate was found …
    assert "VALUES ('***')" in quality.stderr  # … its value carried into the samples query, masked in the log
    state = root / ".smartflow"
    written = b"\n".join(
        [quality.stdout.encode(), quality.stderr.encode(), report.stdout.encode(), report.stderr.encode()]
        + [_every_byte(state), _every_byte(reports)]
    )
    for value in PLANTED:
        assert value.encode() not in written, value
        assert value.split("@")[0].encode() not in written, value
