"""`smartflow-gov schema export DIR`: valid JSON Schemas that accept the repo's files and reject mistakes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, run_cli
from jsonschema import Draft202012Validator

from governance.specs.yamlio import load_yaml

KIND_OF = {
    "glossary": "glossary",
    "classifications": "classifications",
    "expectations": "expectations",
    "manifests": "manifests",
    "alerts": "alerts",
    "policies": "policies",
    "domains": "domains",
}
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("schemas")
    proc = run_cli("--output", "json", "schema", "export", str(out), check=0)
    assert set(json.loads(proc.stdout)["schemas"]) == {"smartflow", "posture", *KIND_OF.values()}
    return out


def validator(exported: Path, kind: str) -> Draft202012Validator:
    schema = json.loads((exported / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def repo_files() -> list[tuple[str, Path]]:
    files = [("smartflow", REPO / "smartflow.yaml")]
    for folder, kind in KIND_OF.items():
        files += [
            ("posture" if (folder, p.stem) == ("policies", "posture") else kind, p)
            for p in sorted((REPO / folder).rglob("*.yaml"))
        ]
    return files


def data_of(path: Path) -> Any:
    doc, problems = load_yaml(path, REPO)
    assert doc is not None and not problems, problems
    return doc.data


def test_every_schema_is_a_valid_2020_12_schema_with_id_and_title(exported: Path) -> None:
    for path in sorted(exported.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith("/" + path.name)
        assert schema["title"] and schema["description"]
        assert schema["additionalProperties"] is False


@pytest.mark.parametrize(("kind", "path"), repo_files(), ids=lambda v: str(v).replace(str(REPO) + "/", ""))
def test_repo_files_validate_against_their_schema(exported: Path, kind: str, path: Path) -> None:
    """Against the freshly exported schemas, and against the committed ones the modelines point at
    (regenerate those with `smartflow-gov schema export schemas` when a model gains a field)."""
    for directory in (exported, REPO / "schemas"):
        errors = sorted(validator(directory, kind).iter_errors(data_of(path)), key=str)
        assert not errors, (directory, [f"{list(e.absolute_path)}: {e.message}" for e in errors])


def test_schemas_reject_the_mistakes_an_editor_should_flag(exported: Path) -> None:
    suite = data_of(REPO / "expectations" / "silver" / "silver_transactions.yaml")
    v = validator(exported, "expectations")
    bad_type = {**suite, "expectations": [{"type": "expect_column_values_to_not_be_nul", "kwargs": {}}]}
    bad_kwarg = {
        **suite,
        "expectations": [
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "a", "mostli": 1}}
        ],
    }
    missing = {
        **suite,
        "expectations": [{"type": "expect_column_values_to_match_regex", "kwargs": {"column": "a"}}],
    }
    bad_mostly = {
        **suite,
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "mostly": 2}}
        ],
    }
    for doc in (bad_type, bad_kwarg, missing, bad_mostly, {**suite, "colour": "red"}):
        assert not v.is_valid(doc), doc
    alerts = validator(exported, "alerts")
    rule = data_of(REPO / "alerts" / "quality.yaml")["rules"][0]
    assert alerts.is_valid({"rules": [rule]})
    assert not alerts.is_valid({"rules": [{**rule, "window": "1h"}]})
    classes = validator(exported, "classifications")
    assert not classes.is_valid({"rules": [{"name": "X", "label": "PII", "data_pattern": "(unclosed"}]})


def test_content_files_point_at_the_committed_schemas(exported: Path) -> None:
    """The content files name their schema in a modeline, and schemas/ holds one per exported kind."""
    assert {p.name for p in exported.glob("*.schema.json")} == {
        p.name for p in (REPO / "schemas").glob("*.json")
    }
    for kind, path in repo_files():
        if kind in ("smartflow", "manifests"):  # manifests are written by the pipelines' owners
            continue
        m = MODELINE.search(path.read_text())
        assert m, f"{path} lacks the yaml-language-server modeline"
        target = (path.parent / m.group(1)).resolve()
        assert target == (REPO / "schemas" / f"{kind}.schema.json").resolve(), path


def test_export_into_a_file_is_bad_input(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("schema", "export", str(blocker), check=2)
    assert "Traceback" not in proc.stderr
