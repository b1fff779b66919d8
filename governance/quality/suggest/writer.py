"""The suggested suite as YAML in the project's format (expectations/<layer>/*.yaml)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from governance.quality.suggest.rules import Suggestion


def _flow(value: Any) -> Any:
    if isinstance(value, dict):
        m = CommentedMap((k, _flow(v)) for k, v in value.items())
        m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        s = CommentedSeq(_flow(v) for v in value)
        s.fa.set_flow_style()
        return s
    return value


def suite_yaml(suite: str, dataset: str, description: str, suggestions: Sequence[Suggestion]) -> str:
    doc = CommentedMap()
    doc["suite"] = suite
    doc["dataset"] = dataset
    doc["description"] = description
    items = CommentedSeq()
    for s in suggestions:
        e = CommentedMap()
        e["type"] = s.type
        e["kwargs"] = _flow(s.kwargs)
        e["meta"] = _flow({"suggested": True, "evidence": s.evidence})
        items.append(e)
    doc["expectations"] = items
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    buf.write(f"# Suggested by `smartflow-gov quality suggest --dataset {dataset}`: review before use.\n")
    yaml.dump(doc, buf)
    return buf.getvalue()
