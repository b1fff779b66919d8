"""Column-level precision and recall on the labelled evaluation set (Faker, 9 locales, decoys)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import pii_evalset as evalset
from pii_fixtures import PROJECT_RULES, REFERENCE_RULES, write_project

from governance.pii.service import scan
from governance.project import load_project


def _scores(tmp_path: Path, table: Any, rules: list[Path]) -> dict[str, dict[str, float]]:
    project = load_project(write_project(tmp_path, {"silver.eval": (table, "silver")}, rules=rules))
    kind = {r.name: r.validator for r in project.rules if r.validator}
    result = scan(project)
    detected: dict[str, set[str]] = {}
    for f in result.payload["findings"]:
        if f["status"] != "not_detected" and f["rule"] in kind:
            detected.setdefault(f["column"], set()).add(kind[f["rule"]])
    return evalset.score(detected)


def test_evaluation_set_shape(eval_table: Any) -> None:
    kinds = evalset.labels()
    assert eval_table.num_columns == len(kinds) >= 60
    assert sum(1 for k in kinds.values() if k is None) >= 20  # decoys
    assert {k for k in kinds.values() if k} == {
        "email", "phone", "luhn", "iban_mod97", "ip_address", "person_name", "date_of_birth", "national_id"
    }  # fmt: skip


def test_reference_rules_reach_the_targets(tmp_path: Path, eval_table: Any) -> None:
    scores = _scores(tmp_path, eval_table, [REFERENCE_RULES])
    assert scores["overall"]["precision"] >= 0.95, scores
    assert scores["overall"]["recall"] >= 0.90, scores
    for kind in ("email", "luhn", "iban_mod97", "ip_address", "national_id", "phone"):
        assert scores[kind]["recall"] == 1.0, (kind, scores[kind])


def test_project_rules_make_no_false_positive(tmp_path: Path, eval_table: Any) -> None:
    scores = _scores(tmp_path, eval_table, PROJECT_RULES)
    assert scores["overall"]["fp"] == 0, scores
    for kind in ("email", "luhn", "iban_mod97", "ip_address"):
        assert scores[kind]["recall"] == 1.0, (kind, scores[kind])
