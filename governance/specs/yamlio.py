"""YAML loading with line numbers, and pydantic validation errors mapped back to lines.

ruamel.yaml keeps the line of every mapping key and sequence item; we keep the loaded node tree next
to the plain data so that any error path (from pydantic or from a cross-reference check) can be turned
into `FILE:LINE`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from governance.errors import Location, Problem

M = TypeVar("M", bound=BaseModel)
PathKey = tuple[str | int, ...]


class YamlDoc:
    """A loaded YAML document: its plain data and a way to find the line of any path in it."""

    def __init__(self, file: str, node: Any) -> None:
        self.file = file
        self.node = node
        self.data = _plain(node)

    def line(self, path: Iterable[str | int] = ()) -> int:
        """1-based line of the deepest node on `path` that exists (the key's line for a mapping entry)."""
        node, line = self.node, 1
        for key in path:
            if isinstance(node, CommentedMap) and key in node:
                line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                line = node.lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        else:
            if isinstance(node, CommentedMap | CommentedSeq) and not path:
                line = node.lc.line + 1
        return line

    def at(self, path: Iterable[str | int] = ()) -> Location:
        return Location(self.file, self.line(path))


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def load_yaml(path: Path, root: Path) -> tuple[YamlDoc | None, list[Problem]]:
    """Load one YAML file. A syntax error becomes a Problem at its line, never an exception."""
    rel = _rel(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(Location(rel, 1), f"not UTF-8 text ({exc.reason})")]
    except OSError as exc:
        return None, [Problem(Location(rel), f"cannot read file: {exc.strerror}")]
    return load_yaml_text(text, rel)


def load_yaml_text(text: str, rel: str) -> tuple[YamlDoc | None, list[Problem]]:
    try:
        node = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return None, [Problem(Location(rel, line), f"YAML syntax error: {what}")]
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        return None, [Problem(Location(rel, 1), f"YAML syntax error: {exc}".splitlines()[0])]
    if node is None:
        node = CommentedMap()
    return YamlDoc(rel, node), []


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def describe_path(path: Iterable[str | int]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def validate_model(model: type[M], doc: YamlDoc, path: PathKey = ()) -> tuple[M | None, list[Problem]]:
    """Validate `doc` (or the node at `path`) as `model`; every pydantic error becomes a FILE:LINE Problem."""
    data: Any = doc.data
    for key in path:
        data = data[key]
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        return None, [_problem(doc, path, err, model) for err in exc.errors()]
    attach_locations(obj, doc, path)
    return obj, []


def _problem(doc: YamlDoc, base: PathKey, err: Any, model: type[BaseModel]) -> Problem:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
    full = base + loc
    where = doc.at(full)
    name = describe_path(full) or "document"
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return Problem(where, f"unknown key '{loc[-1]}' at {describe_path(full[:-1]) or 'top level'}{hint}")
    if kind == "missing":
        return Problem(
            where,
            f"missing required key '{loc[-1]}'" + (f" in {describe_path(full[:-1])}" if full[:-1] else ""),
        )
    msg = str(err["msg"]).removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    return Problem(where, f"{name}: {msg}{shown}")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a model accepts at `loc` (best effort: follows nested models and lists of models)."""
    current: Any = model
    for key in loc:
        if isinstance(key, int):
            continue
        field = getattr(current, "model_fields", {}).get(key)
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    if not fields:
        return []
    return [f.alias or name for name, f in fields.items()]


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def attach_locations(obj: Any, doc: YamlDoc, path: PathKey) -> None:
    """Record on every nested Spec model where it was declared (`obj.where`)."""
    if isinstance(obj, BaseModel):
        locate = getattr(obj, "locate", None)
        if callable(locate):
            locate(doc.at(path), path)
        for name, field in type(obj).model_fields.items():
            attach_locations(getattr(obj, name), doc, path + (field.alias or name,))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            attach_locations(item, doc, path + (i,))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            if isinstance(item, BaseModel | list | dict):
                attach_locations(item, doc, path + (key,))
