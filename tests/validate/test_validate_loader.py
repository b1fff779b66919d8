"""The YAML loader and the lenient project loading behind `validate`, case by case."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import copy_project

from governance.specs.yamlio import MAX_BYTES, load_yaml, load_yaml_text
from governance.validation import check

BOMB = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 10)}]\n" for c in "bcdefgh"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", "f.yaml:3: duplicate key 'a' in the mapping starting at line 1"),
        ("a:\n\t- 1\n", "f.yaml:2: YAML syntax error:"),
        ("a: 1\n---\nb: 2\n", "f.yaml:2: YAML syntax error: expected a single document"),
        ("a: ok\nb: \x00\n", "f.yaml:2: unacceptable character #x0000"),
        ("? [1, 2]\n: 3\n", "f.yaml:1: a mapping key must be a name, not a list or mapping"),
        ("x: 1\n~: 2\n", "f.yaml:2: a mapping key must be a name, not null"),
        ("a: !foo bar\n", "f.yaml:1: unsupported YAML tag '!foo'"),
        ("a: !!binary aGVsbG8=\n", "f.yaml:1: binary (!!binary) values are not supported"),
        ("a: &x [*x]\n", None),  # ruamel resolves a self-alias to null: harmless
        (BOMB, "f.yaml:1: document too large: more than 200000 values after expanding aliases"),
        ("a: " + "[" * 100 + "]" * 100 + "\n", "f.yaml:1: nesting deeper than 64 levels"),
        ("", None),
    ],
    ids=[
        "duplicate-key",
        "tab",
        "two-documents",
        "nul",
        "complex-key",
        "null-key",
        "custom-tag",
        "binary",
        "self-alias",
        "alias-bomb",
        "deep-nesting",
        "empty",
    ],
)
def test_loader_turns_every_fault_into_a_located_problem(text: str, expected: str | None) -> None:
    doc, problems = load_yaml_text(text, "f.yaml")
    shown = [str(p) for p in problems]
    if expected is None:
        assert shown == [] and doc is not None
    else:
        assert any(s.startswith(expected) for s in shown), shown


def test_loader_rejects_big_files_directories_and_non_utf8(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * (MAX_BYTES + 1))
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: 1\nb: caf\xe9\n")
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    assert [str(p) for p in load_yaml(big, tmp_path)[1]][0].startswith("big.yaml:1: file too large")
    assert [str(p) for p in load_yaml(latin, tmp_path)[1]][0].startswith("latin.yaml:2: not UTF-8 text")
    assert [str(p) for p in load_yaml(folder, tmp_path)[1]] == [
        "dir.yaml:1: is a directory, expected a YAML file"
    ]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "p").parent


def messages(config: Path) -> list[str]:
    return [str(p) for p in check(config, check_data=False)[1]]


def test_broken_item_keeps_the_rest_of_its_file_checked(project: Path) -> None:
    """A term with a bad status is still known (no 'unknown parent' cascade); a typo elsewhere is found."""
    path = project / "glossary" / "customer_metrics.yaml"
    text = path.read_text()
    text = text.replace("  - name: Customer Metrics\n", "  - name: Customer Metrics\n    status: Final\n", 1)
    text = text.replace("related: [Daily Revenue, Monetary Value, Churn Risk]", "related: [Daily Revenu]")
    path.write_text(text.replace("    status: Approved\n    stewards", "    stewards", 1))
    found = messages(project / "smartflow.yaml")
    assert len(found) == 2, found
    assert "status: expected 'Draft', 'Approved', 'Alert' or 'Expired' (got 'Final')" in found[0]
    assert "unknown related term 'Daily Revenu' (did you mean 'Daily Revenue'?)" in found[1]


def test_unparseable_file_does_not_cascade_into_unknown_references(project: Path) -> None:
    """When a glossary file cannot be parsed, the terms it declared are unknown: their uses are not errors."""
    path = project / "glossary" / "time_geography.yaml"
    path.write_text(path.read_text().replace("terms:\n", "terms:\n  - name: [\n", 1))
    found = messages(project / "smartflow.yaml")
    assert len(found) == 1 and found[0].startswith("glossary/time_geography.yaml:"), found


def test_dropped_dataset_is_not_reported_again_where_it_is_used(project: Path) -> None:
    config = project / "smartflow.yaml"
    config.write_text(
        config.read_text().replace(
            "    format: delta\n    path: silver/transactions",
            "    format: csv\n    path: silver/transactions",
            1,
        )
    )
    found = messages(config)
    assert len(found) == 1 and "format: expected 'delta', 'parquet', 'sql' or 'spark'" in found[0], found


def test_columns_are_checked_against_the_real_lake_schema(project: Path) -> None:
    """With a lake on disk, a declared column the Delta table lacks is reported, and kwargs are checked
    against the real columns; without --no-data only."""
    import pyarrow as pa
    from deltalake import write_deltalake

    table = pa.table(
        {
            "customer_id": pa.array([1, 2], pa.int64()),
            "source_customer_id": ["CRM-0000001", "CRM-0000002"],
            "name": ["A B", "C D"],
            "email_address": ["a@x.example", "c@x.example"],
            "signup_date": pa.array([19000, 19001], pa.date32()),
            "region": ["north", "south"],
            "signup_month": ["2022-01", "2022-01"],
        }
    )
    write_deltalake(str(project / "lake" / "silver" / "customers"), table, partition_by=["signup_month"])
    with_data = {str(p) for p in check(project / "smartflow.yaml", check_data=True)[1]}
    assert any(
        "smartflow.yaml:" in m and "declared column 'email' is not in the lake table" in m for m in with_data
    )
    assert any(
        m.startswith("expectations/silver/silver_customers.yaml:") and "has no column 'email'" in m
        for m in with_data
    ), with_data
    assert messages(project / "smartflow.yaml") == []  # --no-data: the declared columns
    shutil.rmtree(project / "lake")


def test_odd_keys_give_one_located_line_each(project: Path) -> None:
    """Keys that look like pydantic's union tags, or hold escaped line breaks, are still reported properly."""
    path = project / "policies" / "access.yaml"
    path.write_text(path.read_text() + '"list[str]": 1\n"bad\\x1ekey\\u2028": 2\n')
    found = messages(project / "smartflow.yaml")
    assert len(found) == 2, found
    assert found[0].startswith("policies/access.yaml:") and "unknown key 'list[str]' at top level" in found[0]
    assert "unknown key 'bad\\x1ekey\\u2028'" in found[1] and len(found[1].splitlines()) == 1
