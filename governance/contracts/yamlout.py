"""YAML in and out for contracts: block style for documents, round-trip (comments kept) for project files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from governance.errors import InputError, Location


def _block() -> YAML:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def roundtrip() -> YAML:
    """The loader/dumper for project files: comments, quotes and flow mappings survive an edit."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def dump(data: Any, yaml: YAML | None = None) -> str:
    buf = io.StringIO()
    (yaml or _block()).dump(data, buf)
    return buf.getvalue()


def load_contract(path: Path) -> dict[str, Any]:
    """A contract file as plain data; bad YAML or a non-contract is FILE:LINE, exit 2."""
    from ruamel.yaml.error import MarkedYAMLError

    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read contract: {exc.strerror or exc}", Location(str(path))) from None
    try:
        data = YAML(typ="safe").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise InputError(f"not YAML: {exc.problem}", Location(str(path), line)) from None
    if (
        not isinstance(data, dict)
        or data.get("kind") != "DataContract"
        or not isinstance(data.get("schema"), list)
    ):
        raise InputError(
            "not an ODCS data contract (kind: DataContract with a schema list)", Location(str(path), 1)
        )
    if not str(data.get("apiVersion", "")).startswith("v3."):
        raise InputError(f"apiVersion {data.get('apiVersion')!r} is not ODCS v3", Location(str(path), 1))
    return data
