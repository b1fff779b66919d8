"""`quality run --quarantine` on a Spark Connect cluster (tests/spark_cluster.py): the cluster writes the
failing rows beside the data (`<lake root>/_quarantine/<dataset>`), PII masked in its SQL, and the client
only commits the files to the Delta log — the rows never reach the client. The table equals DuckDB's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from helpers import copy_project, run_cli

pytestmark = pytest.mark.slow


def _project(dst: Path, lake: Path, url: str) -> Path:
    config = copy_project(dst)
    text = config.read_text().replace("lake: {root: lake}", f"lake: {{root: '{lake}'}}", 1)
    config.write_text(text + f"\nspark:\n  remote: '{url}'\n  conf: {{spark.sql.shuffle.partitions: 4}}\n")
    return config


def _rows(path: Path) -> list[tuple[Any, ...]]:
    rows = DeltaTable(str(path)).to_pyarrow_table().drop_columns(["_run_id", "_quarantined_at"]).to_pylist()
    return sorted(tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows)


class Received:
    """Rows the Spark Connect client received from the cluster, counted while the quarantine is written."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from pyspark.sql.connect.client.core import SparkConnectClient

        from governance.quality import quarantine

        self.rows = 0  # while the quarantine is written
        self.total = 0  # in the whole run (results, samples): the hook does see what the client fetches
        self.writing = False
        fetch, write = SparkConnectClient._execute_and_fetch, quarantine.write

        def counted(client: Any, *args: Any, **kwargs: Any) -> Any:
            out = fetch(client, *args, **kwargs)
            rows = out[0].num_rows if out[0] is not None else 0
            self.total += rows
            self.rows += rows if self.writing else 0
            return out

        def writing(*args: Any, **kwargs: Any) -> int:
            self.writing = True
            try:
                return write(*args, **kwargs)
            finally:
                self.writing = False

        monkeypatch.setattr(SparkConnectClient, "_execute_and_fetch", counted)
        monkeypatch.setattr(quarantine, "write", writing)


def test_quarantine_is_written_by_the_cluster_beside_the_data_and_equals_duckdb(
    demo_project: Path, spark_connect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.masking import mask
    from governance.project import load_project
    from governance.quality.service import run

    lake = tmp_path / "lake"
    shutil.copytree(demo_project / "lake", lake)
    duck_cfg, spark_cfg = (
        _project(tmp_path / "duck", lake, spark_connect),
        _project(tmp_path / "spark", lake, spark_connect),
    )
    duck = run_cli("--config", str(duck_cfg), "quality", "run", "--quarantine", "--engine", "duckdb")
    assert duck.returncode == 1, duck.stderr[-2000:]

    received = Received(monkeypatch)
    project = load_project(spark_cfg)
    first = run(project, engine="spark", quarantine=True)
    assert first.exit_code == 1, first.payload
    quarantined = {d: n for d, n in first.extra["quarantined"].items() if n}
    assert quarantined and received.rows == 0  # written by the cluster, committed from file footers
    assert received.total > 0
    assert not (spark_cfg.parent / ".smartflow/quality/quarantine").exists()
    masked_somewhere = False
    for dataset, n in quarantined.items():
        ours = lake / "_quarantine" / dataset
        theirs = duck_cfg.parent / ".smartflow/quality/quarantine" / dataset
        assert _rows(ours) == _rows(theirs), dataset
        table = DeltaTable(str(ours)).to_pyarrow_table()
        assert table.num_rows == n
        assert table.schema.field("_quarantined_at").type.tz == "UTC"
        for column in project.pii_columns(dataset) & set(table.column_names):
            values = [v for v in table.column(column).to_pylist() if v is not None]
            assert all(v == mask(v) or re.fullmatch(r"[x9\W_]*…?", v) for v in values), column
            masked_somewhere |= bool(values)
    assert masked_somewhere  # the demo lake quarantines rows with PII columns

    # a second run appends (a fresh state: every partition is scanned again)
    shutil.rmtree(spark_cfg.parent / ".smartflow")
    second = run(load_project(spark_cfg), engine="spark", quarantine=True)
    assert received.rows == 0
    for dataset, n in quarantined.items():
        table = DeltaTable(str(lake / "_quarantine" / dataset))
        assert table.version() == 1, dataset
        runs = set(table.to_pyarrow_table().column("_run_id").to_pylist())
        assert runs == {first.payload["run_id"], second.payload["run_id"]}
        assert table.to_pyarrow_table().num_rows == n + second.extra["quarantined"][dataset]


def test_quarantine_root_from_the_configuration(tmp_path: Path, spark_connect: str) -> None:
    """`quality.quarantine` (with ${VAR}) holds every dataset's table, on either engine, with the same rows:
    PII masked (the cluster's SQL gives the client's shapes, a long value cut with "…"), labels, NULLs."""
    import datetime as dt

    import pyarrow as pa
    from deltalake import write_deltalake

    from governance.project import load_project
    from governance.quality.service import run

    write_deltalake(
        str(tmp_path / "lake/people"),
        pa.table(
            {
                "id": pa.array([1, 2, 3, 4], pa.int64()),
                "email": [
                    "ann@example.org",
                    None,
                    "a-very-long-address.of.someone@example.org",
                    "Zoë_7@ex.org",
                ],
                "seen": pa.array([dt.datetime(2026, 11, 1, 8, 0)] * 4, pa.timestamp("us", "UTC")),
            }
        ),
    )
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations/people.yaml").write_text(
        "suite: people\ndataset: silver.people\nexpectations:\n"
        "  - type: expect_column_values_to_not_be_null\n    kwargs: {column: email}\n"
        "  - type: expect_column_values_to_be_between\n    kwargs: {column: id, max_value: 2}\n"
    )
    (tmp_path / "classifications").mkdir()
    (tmp_path / "classifications/people.yaml").write_text(
        "assignments:\n  - dataset: silver.people\n    columns: {email: [PII]}\n"
    )
    (tmp_path / "smartflow.yaml").write_text(
        "version: 1\nlake: {root: lake}\n"
        "datasets:\n  silver.people: {format: delta, path: people, layer: silver, key: [id]}\n"
        f"spark: {{remote: '{spark_connect}'}}\nquality: {{quarantine: '${{SFG_Q}}/q'}}\n"
    )
    tables: dict[str, list[dict[str, Any]]] = {}
    for engine in ("duckdb", "spark"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SFG_Q", str(tmp_path / engine))
            project = load_project(tmp_path / "smartflow.yaml")
            assert project.pii_columns("silver.people") == {"email"}
            assert run(project, engine=engine, quarantine=True).exit_code == 1
        rows = DeltaTable(str(tmp_path / engine / "q/silver.people")).to_pyarrow_table()
        tables[engine] = sorted(rows.drop_columns(["_run_id", "_quarantined_at"]).to_pylist(), key=str)
    assert tables["spark"] == tables["duckdb"] == [
        {"id": 2, "email": None, "seen": tables["spark"][0]["seen"],
         "_failed_expectations": ["expect_column_values_to_not_be_null(email)"]},
        {"id": 3, "email": "x-xxxx-xxxx-xxxxxxx.xx.x…", "seen": tables["spark"][0]["seen"],
         "_failed_expectations": ["expect_column_values_to_be_between(id)"]},
        {"id": 4, "email": "xxx_9@xx.xxx", "seen": tables["spark"][0]["seen"],
         "_failed_expectations": ["expect_column_values_to_be_between(id)"]},
    ]  # fmt: skip
    assert not (tmp_path / "lake/_quarantine").exists()
