"""YAML loading with line numbers, and pydantic validation errors mapped back to lines.

ruamel.yaml keeps the line of every mapping key and sequence item; we keep the loaded node tree next
to the plain data so that any error path (from pydantic or from a cross-reference check) can be turned
into `FILE:LINE`. Whatever the bytes of a file are, loading returns problems and never raises: the
loader bounds file size, nesting and alias expansion (a "billion laughs" document), and reports
duplicate keys, non-string keys and unknown tags at their line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from governance.errors import Location, Problem

M = TypeVar("M", bound=BaseModel)
PathKey = tuple[str | int, ...]

MAX_BYTES = 2_000_000  # a declarative file is a few KB; anything this big is a mistake
MAX_NODES = 200_000  # after alias expansion
MAX_DEPTH = 64


class YamlDoc:
    """A loaded YAML document: its plain data and a way to find the line of any path in it."""

    def __init__(
        self, file: str, node: Any, data: Any = None, lines: dict[PathKey, int] | None = None
    ) -> None:
        self.file = file
        self.node = node  # None when loaded from the cache: `lines` then holds every line
        self.data = _plain(node) if data is None else data
        self.lines = lines
        # path -> the text as written, for values that `${VAR}` expansion changed: messages show this,
        # never the expanded value (which may be a secret)
        self.written: dict[tuple[str | int, ...], str] = {}

    def line(self, path: Iterable[str | int] = ()) -> int:
        """1-based line of the deepest node on `path` that exists (the key's line for a mapping entry)."""
        path = tuple(path)
        if self.node is None and self.lines is not None:
            return self._line_from_lines(path)
        node, line = self.node, 1
        for key in path:
            if isinstance(node, CommentedMap) and _has_key(node, key):
                key = _real_key(node, key)
                line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                line = node.lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        else:
            if isinstance(node, CommentedMap | CommentedSeq) and not path and node.lc.line is not None:
                line = node.lc.line + 1
        return max(line, 1)

    def _line_from_lines(self, path: PathKey) -> int:
        assert self.lines is not None
        if not path:
            return max(self.lines.get((), 1), 1)
        here: PathKey = ()
        line = 1
        for key in path:
            found = next((k for k in ((*here, key), (*here, str(key))) if k in self.lines), None)
            if found is None:
                break
            here, line = found, self.lines[found]
        return max(line, 1)

    def at(self, path: Iterable[str | int] = ()) -> Location:
        return Location(self.file, self.line(path))


def _has_key(node: CommentedMap, key: str | int) -> bool:
    try:
        return key in node or any(str(k) == key for k in node)
    except TypeError:
        return False


def _real_key(node: CommentedMap, key: str | int) -> Any:
    if key in node:
        return key
    return next(k for k in node if str(k) == key)


_NO_KEY = object()


class _Converter:
    """ruamel node tree → plain dicts/lists/scalars, collecting problems instead of raising."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.nodes = 0
        self.problems: list[Problem] = []
        self._active: set[int] = set()

    def where(self, container: Any, key: Any = _NO_KEY) -> Location:
        line = 1
        try:
            if isinstance(container, CommentedMap) and key is not _NO_KEY:
                line = container.lc.key(key)[0] + 1
            elif isinstance(container, CommentedSeq) and key is not _NO_KEY:
                line = container.lc.item(key)[0] + 1
            elif hasattr(container, "lc"):
                line = container.lc.line + 1
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        return Location(self.file, max(line, 1))

    def convert(self, node: Any, depth: int = 0, parent: Any = None, key: Any = _NO_KEY) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig(f"document too large: more than {MAX_NODES} values after expanding aliases")
        if depth > MAX_DEPTH:
            raise _TooBig(f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, CommentedMap | CommentedSeq):
            if id(node) in self._active:
                self.problems.append(
                    Problem(self.where(parent, key), "recursive alias (a value contains itself)")
                )
                return None
            self._active.add(id(node))
            try:
                return self._container(node, depth)
            finally:
                self._active.discard(id(node))
        if isinstance(node, TaggedScalar):
            self.problems.append(
                Problem(self.where(parent, key), f"unsupported YAML tag '{node.tag.value}' (remove it)")
            )
            return node.value
        if isinstance(node, bytes):
            self.problems.append(
                Problem(self.where(parent, key), "binary (!!binary) values are not supported")
            )
            return None
        if isinstance(node, set | frozenset):
            return sorted((str(v) for v in node), key=str)
        return node

    def _container(self, node: CommentedMap | CommentedSeq, depth: int) -> Any:
        tag = getattr(getattr(node, "tag", None), "value", None)
        if tag and not tag.startswith("tag:yaml.org,2002:"):
            self.problems.append(Problem(self.where(node), f"unsupported YAML tag '{tag}' (remove it)"))
        if isinstance(node, CommentedSeq):
            return [self.convert(v, depth + 1, node, i) for i, v in enumerate(node)]
        out: dict[str, Any] = {}
        for k, v in node.items():
            if isinstance(k, str):
                name = k
            elif (
                k is None
                or isinstance(k, tuple | list | dict | CommentedMap | CommentedSeq)
                or hasattr(k, "items")
            ):
                shown = "null" if k is None else "a list or mapping"
                self.problems.append(
                    Problem(self.where(node, k), f"a mapping key must be a name, not {shown}")
                )
                continue
            else:
                name = str(k).lower() if isinstance(k, bool) else str(k)
            out[name] = self.convert(v, depth + 1, node, k)
        return out


class _TooBig(Exception):
    pass


def _plain(node: Any) -> Any:
    return _Converter("<memory>").convert(node)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


class DocCache(Protocol):
    """Parsed documents kept by file and content (governance.specs.yamlcache)."""

    def get(self, rel: str, text: str) -> YamlDoc | None: ...
    def put(self, rel: str, text: str, doc: YamlDoc) -> None: ...


def load_yaml(path: Path, root: Path, cache: DocCache | None = None) -> tuple[YamlDoc | None, list[Problem]]:
    """Load one YAML file. Any fault becomes a Problem at its line, never an exception. With `cache`, a
    file parsed before with the same content is not parsed again."""
    rel = _rel(path, root)
    here = Location(rel, 1)
    try:
        if path.is_dir():
            return None, [Problem(here, "is a directory, expected a YAML file")]
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [Problem(here, f"file too large ({size} bytes; at most {MAX_BYTES})")]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(here, f"cannot read file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(Location(rel, line), f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    if cache is None:
        return load_yaml_text(text, rel)
    kept = cache.get(rel, text)
    if kept is not None:
        return kept, []
    doc, problems = load_yaml_text(text, rel)
    if doc is not None and not problems:
        cache.put(rel, text, doc)
    return doc, problems


_DUP = re.compile(r'found duplicate key "(?P<key>.*)" with value')


def load_yaml_text(text: str, rel: str) -> tuple[YamlDoc | None, list[Problem]]:
    if len(text) > MAX_BYTES:
        return None, [Problem(Location(rel, 1), f"file too large (at most {MAX_BYTES} bytes)")]
    try:
        node = _yaml().load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        first = exc.context_mark.line + 1 if exc.context_mark is not None else None
        m = _DUP.search(str(exc.problem))
        key = m.group("key") if m else "?"
        return None, [
            Problem(
                Location(rel, line),
                f"duplicate key '{key}'" + (f" in the mapping starting at line {first}" if first else ""),
            )
        ]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return None, [Problem(Location(rel, line), f"YAML syntax error: {_one_line(what)}")]
    except ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return None, [
            Problem(
                Location(rel, line), f"unacceptable character {char} (control characters are not allowed)"
            )
        ]
    except RecursionError:
        return None, [Problem(Location(rel, 1), "YAML nesting too deep")]
    except (YAMLError, ValueError, TypeError, AttributeError, IndexError, KeyError, OverflowError) as exc:
        return None, [
            Problem(Location(rel, 1), f"YAML syntax error: {_one_line(str(exc)) or type(exc).__name__}")
        ]
    if node is None:
        node = CommentedMap()
    conv = _Converter(rel)
    try:
        data = conv.convert(node)
    except (_TooBig, RecursionError) as exc:
        msg = str(exc) if isinstance(exc, _TooBig) else "YAML nesting too deep"
        return None, [Problem(Location(rel, 1), msg)]
    return YamlDoc(rel, node, data), conv.problems


def _one_line(text: str) -> str:
    return " ".join(text.split())


def printable(text: str) -> str:
    """A message fit for one terminal line: control and line-breaking characters from the files are
    shown escaped (a key may hold anything), so one problem is always one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
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
    except (ValueError, TypeError, RecursionError) as exc:  # a validator tripping on odd input
        return None, [Problem(doc.at(path), f"invalid value: {_one_line(str(exc))}")]
    attach_locations(obj, doc, path)
    return obj, []


def validate_lenient(
    model: type[M], doc: YamlDoc, path: PathKey = ()
) -> tuple[M | None, list[Problem], dict[str, list[Any]]]:
    """Like `validate_model`, but keeps what is valid: an invalid item of a list (or dict) of models is
    dropped instead of failing the whole file, so cross-file checks still see the rest.

    Returns (object or None, every problem, the raw data of dropped items per field).
    """
    obj, problems = validate_model(model, doc, path)
    if obj is not None:
        return obj, [], {}
    data: Any = doc.data
    for key in path:
        data = data[key]
    if not isinstance(data, dict):
        return None, problems, {}
    fields = {(f.alias or name): name for name, f in model.model_fields.items()}
    collections: dict[str, tuple[type[BaseModel], Any]] = {}
    scalars: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            continue  # unknown key: already reported
        annotation = model.model_fields[fields[key]].annotation
        inner = _inner_model(annotation)
        origin = getattr(annotation, "__origin__", None)
        if inner is not None and origin in (list, dict) and isinstance(value, origin):
            collections[key] = (inner, value)
        else:
            scalars[key] = value
    top = _validate_dropping(
        model, scalars, {k: ([] if isinstance(v[1], list) else {}) for k, v in collections.items()}
    )
    if top is None:
        return None, problems, {}
    if hasattr(top, "locate"):
        top.locate(doc.at(path), path)
    for key in scalars:
        attach_locations(getattr(top, fields[key]), doc, path + (key,))
    dropped: dict[str, list[Any]] = {}
    for key, (inner, value) in collections.items():
        kept: Any
        if isinstance(value, list):
            kept = []
            for i, item in enumerate(value):
                one = _salvage(inner, doc, path + (key, i), item)
                if one is None:
                    dropped.setdefault(key, []).append(item)
                else:
                    kept.append(one)
        else:
            kept = {}
            for name, item in value.items():
                one = _salvage(inner, doc, path + (key, name), item)
                if one is None:
                    dropped.setdefault(key, []).append(
                        {"name": name, **item} if isinstance(item, dict) else name
                    )
                else:
                    kept[name] = one
        setattr(top, fields[key], kept)
    return top, problems, dropped


# keys whose absence other checks would report again: an item failing on one of them is dropped whole
_NEVER_DROP = frozenset({"kwargs", "name", "type", "dataset", "label", "suite", "job"})


def _salvage(model: type[M], doc: YamlDoc, path: PathKey, item: Any) -> M | None:
    """One item of a list (or dict) of models; an invalid optional key is dropped so its default applies
    (its problem is already reported), and the rest of the item is still cross-checked."""
    one, _ = validate_model(model, doc, path)
    if one is not None or not isinstance(item, dict):
        return one
    salvaged = _validate_dropping(model, item, {})
    if salvaged is None:
        return None
    if hasattr(salvaged, "locate"):
        salvaged.locate(doc.at(path), path)
    fields = {(f.alias or name): name for name, f in type(salvaged).model_fields.items()}
    for key in item:
        if key in fields:
            attach_locations(getattr(salvaged, fields[key]), doc, path + (key,))
    return salvaged


def _validate_dropping(model: type[M], scalars: dict[str, Any], empty: dict[str, Any]) -> M | None:
    """Validate the non-collection part of a file, dropping keys that fail (their defaults apply)."""
    current = dict(scalars)
    for _ in range(len(scalars) + 1):
        try:
            return model.model_validate({**current, **empty})
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"] and err["loc"][0] in current}
            if not bad or bad & _NEVER_DROP:
                return None
            for key in bad:
                current.pop(key, None)
        except (ValueError, TypeError):
            return None
    return None


_YAML_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (dict, "a mapping"),
    (list, "a list"),
    ((dt.date, dt.datetime), "a date"),
)

_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "none_required": "expected no value",
}


def _yaml_type(value: Any) -> str:
    if value is None:
        return "null"
    for types, name in _YAML_TYPES:
        if isinstance(value, types):
            return name
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _shown(value: Any) -> str:
    if isinstance(value, dict | list) or value is None:
        return f" (got {_yaml_type(value)})"
    return f" (got {_short(value)})"


def _problem(doc: YamlDoc, base: PathKey, err: Any, model: type[BaseModel]) -> Problem:
    problem = _raw_problem(doc, base, err, model)
    return Problem(problem.where, printable(problem.message))


def _raw_problem(doc: YamlDoc, base: PathKey, err: Any, model: type[BaseModel]) -> Problem:
    data: Any = doc.data
    for key in base:
        data = data[key]
    loc = _data_loc(data, tuple(err["loc"]))
    full = base + loc
    where = doc.at(full)
    name = describe_path(full) or "document"
    kind = err["type"]
    got = doc.written.get(full, err.get("input"))
    if kind == "extra_forbidden" and loc:
        allowed = _allowed_keys(model, loc[:-1])
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return Problem(where, f"unknown key '{loc[-1]}' at {describe_path(full[:-1]) or 'top level'}{hint}")
    if kind == "missing" and loc:
        return Problem(
            where,
            f"missing required key '{loc[-1]}'" + (f" in {describe_path(full[:-1])}" if full[:-1] else ""),
        )
    if kind in _EXPECTED:
        return Problem(where, f"{name}: {_EXPECTED[kind]}, got {_yaml_type(got)}" + _scalar(got))
    if kind == "literal_error":
        expected = (err.get("ctx") or {}).get("expected", "")
        return Problem(where, f"{name}: expected {expected}{_shown(got)}")
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        return Problem(where, f"{name}: must match {pattern}{_shown(got)}")
    msg = str(err["msg"]).removeprefix("Value error, ")
    if full in doc.written and isinstance(err.get("input"), str) and err["input"]:
        msg = msg.replace(err["input"], got)  # a validator quoting the expanded value
    said = isinstance(got, str) and (repr(got) in msg or f"'{got}'" in msg)  # the message quotes it
    plain = said or isinstance(got, dict | list) or got is None
    return Problem(where, f"{name}: {msg}{'' if plain else _shown(got)}")


def _data_loc(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The error location as a path in the data: pydantic adds union and validator tags (`list[str]`,
    `function-after[...]`) that are not keys; a key of the data is kept even if it looks like a tag."""
    out: list[Any] = []
    node = data
    for i, key in enumerate(loc):
        in_dict = isinstance(node, dict) and key in node
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        if in_dict or in_list:
            node = node[key]
        elif i < len(loc) - 1 or not isinstance(node, dict):
            continue  # a tag, or a position the data does not have
        out.append(key)
    return tuple(out)


def _scalar(value: Any) -> str:
    return "" if isinstance(value, dict | list) or value is None else f" ({_short(value)})"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a model accepts at `loc` (follows nested models, lists and dicts of models)."""
    current: Any = model
    skip_next = False
    for key in loc:
        if isinstance(key, int):
            continue
        if skip_next:  # the key of a dict of models (e.g. a dataset name)
            skip_next = False
            continue
        fields = getattr(current, "model_fields", None) or {}
        field = fields.get(key) or next((f for f in fields.values() if f.alias == key), None)
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
        skip_next = _is_dict(field.annotation)
    fields = getattr(current, "model_fields", None)
    if not fields:
        return []
    return [f.alias or name for name, f in fields.items()]


def _is_dict(annotation: Any) -> bool:
    if getattr(annotation, "__origin__", None) is dict:
        return True
    return any(_is_dict(a) for a in getattr(annotation, "__args__", ()) or () if a is not type(None))


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
