"""OpenLineage export: every event is valid against the OpenLineage JSON schemas (vendored, offline) and is
POSTed to a local OpenLineage HTTP endpoint that validates what it receives."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import copy_project, run_cli
from lineage_corpus import SCHEMAS

CORE_URIS = (
    "https://openlineage.io/spec/1-0-1/OpenLineage.json",
    "https://openlineage.io/spec/1-0-2/OpenLineage.json",
)
FACETS = {"columnLineage": "ColumnLineageDatasetFacet", "schema": "SchemaDatasetFacet", "sql": "SQLJobFacet"}
SUBTYPES = {
    "DIRECT": {"IDENTITY", "TRANSFORMATION", "AGGREGATION", "MASKING"},
    "INDIRECT": {"FILTER", "JOIN", "GROUP_BY", "CONDITIONAL", "WINDOW", "SORT"},
}


class EventValidator:
    """The vendored core schema for the event, each facet against its own schema file."""

    def __init__(self) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        core = json.loads((SCHEMAS / "OpenLineage.json").read_text())
        core_as_defs = {
            **core,
            "$defs": core["definitions"],
        }  # the facets say `$defs`; the core says `definitions`
        registry = Registry().with_resources(
            [(uri, Resource.from_contents(core_as_defs)) for uri in CORE_URIS]
        )
        self.core = Draft202012Validator(
            core, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        self.facets = {}
        for key, name in FACETS.items():
            schema = json.loads((SCHEMAS / f"{name}.json").read_text())
            self.facets[key] = Draft202012Validator(schema, registry=registry)

    def errors(self, event: dict[str, Any]) -> list[str]:
        out = [f"core: {e.json_path}: {e.message}" for e in self.core.iter_errors(event)]
        facets = [("sql", event["job"].get("facets", {}).get("sql"))]
        for ds in event.get("inputs", []) + event.get("outputs", []):
            for key in ("schema", "columnLineage"):
                facets.append((key, ds.get("facets", {}).get(key)))
        for key, facet in facets:
            if facet is not None:
                out += [
                    f"{key}: {e.json_path}: {e.message}" for e in self.facets[key].iter_errors({key: facet})
                ]
        out += self.transformation_errors(event)
        return out

    @staticmethod
    def transformation_errors(event: dict[str, Any]) -> list[str]:
        """columnLineage 1-2-0 `transformations`: checked against the client's generated 1-2-0 classes."""
        from openlineage.client.generated.column_lineage_dataset import InputField, Transformation

        out = []
        for ds in event.get("outputs", []):
            facet = ds.get("facets", {}).get("columnLineage")
            if not facet:
                continue
            fields = [f for v in facet["fields"].values() for f in v["inputFields"]] + facet.get(
                "dataset", []
            )
            for field in fields:
                for t in field.get("transformations", []):
                    try:
                        Transformation(**t)
                        InputField(**{**field, "transformations": []})
                    except TypeError as exc:
                        out.append(f"transformation {t}: {exc}")
                    if t["subtype"] not in SUBTYPES.get(t["type"], set()):
                        out.append(f"transformation {t}: bad type/subtype")
                    if t.get("masking") is not (t["subtype"] == "MASKING"):
                        out.append(f"transformation {t}: masking flag")
        return out


@pytest.fixture(scope="module")
def validator() -> EventValidator:
    return EventValidator()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    root = tmp_path_factory.mktemp("ol")
    config = copy_project(root / "project")
    out = root / "events"
    proc = run_cli(
        "--config", str(config), "--output", "json", "lineage", "export", "--openlineage", str(out), check=0
    )
    summary = json.loads(proc.stdout)
    lines = (out / "openlineage.jsonl").read_text().splitlines()
    assert summary["events"] == len(lines) == 13
    return [json.loads(line) for line in lines]


def test_every_event_is_valid(exported: list[dict[str, Any]], validator: EventValidator) -> None:
    for event in exported:
        assert validator.errors(event) == [], event["job"]["name"]
        assert event["eventType"] == "COMPLETE"


def test_validator_rejects_broken_events(exported: list[dict[str, Any]], validator: EventValidator) -> None:
    """The checks can fail: each mutation is caught."""
    event = next(e for e in exported if e["job"]["name"] == "gold_daily_revenue")
    broken_core = json.loads(json.dumps(event))
    del broken_core["run"]["runId"]
    broken_uuid = json.loads(json.dumps(event))
    broken_uuid["run"]["runId"] = "not-a-uuid"
    broken_facet = json.loads(json.dumps(event))
    fields = broken_facet["outputs"][0]["facets"]["columnLineage"]["fields"]
    del next(iter(fields.values()))["inputFields"][0]["field"]
    broken_sql = json.loads(json.dumps(event))
    del broken_sql["job"]["facets"]["sql"]["query"]
    broken_transformation = json.loads(json.dumps(event))
    fields = broken_transformation["outputs"][0]["facets"]["columnLineage"]["fields"]
    next(iter(fields.values()))["inputFields"][0]["transformations"][0]["kind"] = "oops"
    for broken in (broken_core, broken_uuid, broken_facet, broken_sql, broken_transformation):
        assert validator.errors(broken)


def test_column_lineage_facet_content(exported: list[dict[str, Any]]) -> None:
    by_job = {e["job"]["name"]: e for e in exported}
    features = by_job["ml_customer_features"]
    assert features["job"]["facets"]["sql"]["query"].lstrip().startswith("WITH snapshot AS")
    [out] = features["outputs"]
    assert out["name"].endswith("gold/ml_features/gold_customer_features") and out["namespace"] == "file"
    assert {f["name"] for f in out["facets"]["schema"]["fields"]} >= {"email_hash", "tenure_days"}
    facet = out["facets"]["columnLineage"]
    [email] = facet["fields"]["email_hash"]["inputFields"]
    assert email["name"].endswith("silver/customers") and email["field"] == "email"
    assert email["transformations"] == [
        {"type": "DIRECT", "subtype": "MASKING", "masking": True, "description": 'SHA256(LOWER("c"."email"))'}
    ]
    assert facet["_schemaURL"].startswith(
        "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
    )
    wide = {(d["field"], d["transformations"][0]["subtype"]) for d in facet["dataset"]}
    assert ("customer_id", "JOIN") in wide
    copy = by_job["crm_customers_copy"]
    assert copy["inputs"] == [] and "columnLineage" not in copy["outputs"][0]["facets"]
    assert copy["job"]["facets"]["jobType"]["jobType"] == "COPY"
    assert by_job["iot_telemetry_stream"]["job"]["facets"]["jobType"]["processingType"] == "STREAMING"


class _Marquez(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    rejected: list[str] = []
    validator: EventValidator

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/api/v1/lineage" or self.headers.get("Content-Type") != "application/json":
            self.rejected.append(f"{self.path} {self.headers.get('Content-Type')}")
            self.send_response(404)
        else:
            event = json.loads(body)
            errors = self.validator.errors(event)
            if errors:
                self.rejected.append("; ".join(errors))
                self.send_response(422)
            else:
                self.received.append(event)
                self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def marquez(validator: EventValidator) -> Iterator[tuple[str, type[_Marquez]]]:
    handler = type("Handler", (_Marquez,), {"received": [], "rejected": [], "validator": validator})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_post_to_openlineage_endpoint(tmp_path: Path, marquez: tuple[str, type[_Marquez]]) -> None:
    url, handler = marquez
    config = copy_project(tmp_path / "p")
    proc = run_cli(
        "--config",
        str(config),
        "--output",
        "json",
        "lineage",
        "export",
        "--openlineage",
        str(tmp_path / "ev"),
        "--url",
        url,
        check=0,
    )
    assert json.loads(proc.stdout)["posted"] == 13
    assert handler.rejected == []
    assert sorted(e["job"]["name"] for e in handler.received) == sorted(
        json.loads(line)["job"]["name"]
        for line in (tmp_path / "ev" / "openlineage.jsonl").read_text().splitlines()
    )


def test_unreachable_or_insecure_endpoint(tmp_path: Path) -> None:
    config = copy_project(tmp_path / "p")
    insecure = run_cli(
        "--config",
        str(config),
        "lineage",
        "export",
        "--openlineage",
        str(tmp_path / "a"),
        "--url",
        "http://marquez.example.com:5000",
    )
    assert insecure.returncode == 2 and "loopback" in insecure.stderr
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = run_cli(
        "--config",
        str(config),
        "lineage",
        "export",
        "--openlineage",
        str(tmp_path / "b"),
        "--url",
        f"http://127.0.0.1:{port}",
    )
    assert down.returncode == 3 and "Traceback" not in down.stderr
