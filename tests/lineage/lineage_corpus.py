"""Loading the SQL corpus of the lineage tests (a module, not a conftest, so tests can import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
SCHEMAS = HERE / "schemas"


def load_corpus() -> tuple[dict[str, dict[str, str]], list[dict[str, Any]]]:
    yaml = YAML(typ="safe")
    schema = yaml.load((CORPUS / "schema.yaml").read_text())
    cases: list[dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.yaml")):
        if path.name == "schema.yaml":
            continue
        cases += yaml.load(path.read_text())["cases"]
    return schema, cases
