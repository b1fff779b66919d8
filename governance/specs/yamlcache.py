"""Declarative files parsed once: the plain data and line numbers of each YAML file, kept by path and
content hash in `state_dir/cache/yaml.json`, so a project whose files did not change is loaded without
running the (pure Python, round-trip) YAML parser again — about 0.7 s of CPU for the demo's files.

Only files that parsed with no problem are kept; an edited file (another hash), another ruamel.yaml
release or another cache format is parsed again. Values other than JSON's own and dates are not kept
(that file is simply parsed every time). The cache is written only into a state dir that exists, so a
read-only command on a fresh checkout creates nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from governance.specs.yamlio import PathKey, YamlDoc
from governance.statecache import StateCache

FORMAT = 2
_TAG = "$yamlcache"


class _NotKept(Exception):
    pass


def _version() -> str:
    from ruamel.yaml import __version__

    return f"{FORMAT}/{__version__}"


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value if not isinstance(value, str) else str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if _TAG in value:
            raise _NotKept
        return {str(k): _encode(v) for k, v in value.items()}
    raise _NotKept


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        tag = value.get(_TAG)
        if tag == "datetime":
            return dt.datetime.fromisoformat(value["v"])
        if tag == "date":
            return dt.date.fromisoformat(value["v"])
        return {k: _decode(v) for k, v in value.items()}
    return value


def all_lines(doc: YamlDoc) -> dict[PathKey, int]:
    """The line of every mapping key and sequence item of a parsed document (keys as strings, items as
    indexes), and of the document itself under (): what `YamlDoc.line` needs without the node tree."""
    if doc.lines is not None:
        return doc.lines
    out: dict[PathKey, int] = {(): doc.line()}

    def walk(node: Any, path: PathKey) -> None:
        if isinstance(node, CommentedMap):
            for k, v in node.items():
                out[(*path, str(k))] = node.lc.key(k)[0] + 1
                walk(v, (*path, str(k)))
        elif isinstance(node, CommentedSeq):
            for i, v in enumerate(node):
                out[(*path, i)] = node.lc.item(i)[0] + 1
                walk(v, (*path, i))

    walk(doc.node, ())
    return out


class YamlCache:
    """path relative to the project -> {"sha": content hash, "data": …, "lines": …}."""

    def __init__(self, path: Path | None) -> None:
        self.store = StateCache(path.parent.parent if path is not None else None, "yaml", _version())

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> YamlCache:
        return cls(state_dir / "cache" / "yaml.json")

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, rel: str, text: str) -> YamlDoc | None:
        entry = self.store.entries.get(rel)
        if not entry or entry.get("sha") != self.digest(text):
            return None
        try:
            lines: dict[PathKey, int] = {tuple(p): int(n) for p, n in entry["lines"]}
            return YamlDoc(rel, None, _decode(entry["data"]), lines)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, rel: str, text: str, doc: YamlDoc) -> None:
        if self.store.target is None:
            return
        try:
            data = _encode(doc.data)
        except _NotKept:
            return
        lines = [[list(p), n] for p, n in all_lines(doc).items()]
        self.store.put(rel, {"sha": self.digest(text), "data": data, "lines": lines})

    def save(self) -> None:
        self.store.save()
