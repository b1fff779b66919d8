"""`smartflow-gov validate`: every problem of every declarative file, one `FILE:LINE: message` each.

Two layers. Loading (`load_lenient`) finds schema problems — YAML syntax, unknown keys, wrong types,
bad regexes and durations — and, unlike `load_project`, keeps every item that is valid on its own, so
one broken term does not hide the rest of its file. The cross-file checks (`validate_project`) then
follow the references between files: datasets, columns (the lake's real schema when the lake is on
this machine, else the declared columns), labels, terms, action groups, connections, expectation
types and kwargs, duplicate names and hierarchy cycles. A reference to something that is declared but
broken (or in a file that could not be read) is not reported again: one mistake, one line.
No network, no data written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.config import Config
from governance.durations import parse_duration
from governance.errors import Location, Problem
from governance.project import FOLDERS, Project, find_config, load_config_doc, model_for
from governance.specs.yamlio import load_yaml, printable, validate_lenient

# each capability's own rules: a module with `rules(v: Validator) -> None`, run after the checks of
# smartflow.yaml (they find datasets, columns and names through the Validator's helpers)
RULE_MODULES = (
    "governance.catalog.validate",
    "governance.pii.validate",
    "governance.quality.validate",
    "governance.lineage.validate",
    "governance.monitor.alerts.validate",
    "governance.access.validate",
    "governance.catalog.unified.validate",
)

# what a name in one file may refer to, and the file kind that declares it
_KIND_OF_FOLDER = {"glossary": "terms", "classifications": "labels", "alerts": "action_groups"}


@dataclass
class Loaded:
    """A project loaded leniently: what is valid, every schema problem, and what is known but broken."""

    project: Project
    problems: list[Problem] = field(default_factory=list)
    known: dict[str, set[str]] = field(default_factory=dict)  # names declared by items that failed
    unreadable: set[str] = field(default_factory=set)  # kinds with a file that could not be read at all


def check(config: str | Path | None, check_data: bool = True) -> tuple[Project, list[Problem]]:
    """Every problem of the project at `config` (schema and cross-file, sorted by file and line), and the
    project as far as it could be loaded."""
    loaded = load_lenient(config)
    v = Validator(loaded.project, check_data, loaded.known, loaded.unreadable)
    return loaded.project, _printable(loaded.problems + v.run())


def validate_project(project: Project, check_data: bool = True) -> list[Problem]:
    """Every cross-reference problem of a project loaded by `load_project`, sorted by file and line."""
    memo = _REMEMBERED.get()
    key = (id(project), check_data)
    if memo is not None and key in memo:
        return list(memo[key][1])
    if (
        memo is not None
        and not check_data
        and (id(project), True) in memo
        and not memo[(id(project), True)][1]
    ):
        return []  # valid against its lake's own schemas: the file-level checks already passed
    problems = _printable(Validator(project, check_data).run())
    if memo is not None:
        memo[key] = (project, problems)  # (the project is kept so its id is not reused)
    return list(problems)


_REMEMBERED: ContextVar[dict[tuple[int, bool], tuple[Project, list[Problem]]] | None] = ContextVar(
    "validated", default=None
)


@contextmanager
def remembered() -> Iterator[None]:
    """Inside this block a project validated once is not validated again (same answer). For a job whose
    steps each check one project that nothing edits meanwhile: the nightly's validate and catalog steps."""
    token = _REMEMBERED.set({})
    try:
        yield
    finally:
        _REMEMBERED.reset(token)


def _printable(problems: list[Problem]) -> list[Problem]:
    """Sorted, unique, and each one line whatever characters the files hold."""
    return sorted(
        {
            Problem(Location(printable(p.where.file), p.where.line or 1), printable(p.message))
            for p in problems
        }
    )


def iter_files(root: Path, folder: str) -> Iterator[Path]:
    """Every *.yaml/*.yml under `folder` — including a directory so named, which is then reported."""
    base = root / folder
    if not base.is_dir():
        return
    try:
        found = sorted(p for p in base.rglob("*") if p.suffix in (".yaml", ".yml"))
    except OSError:
        return
    yield from found


def load_lenient(config: str | Path | None) -> Loaded:
    """Load every file like `load_project`, but keep going: collect all schema problems, keep the valid
    items, and remember the names of broken ones so references to them are not reported again."""
    config_path = find_config(config)
    root = config_path.parent
    loaded = Loaded(Project(root=root, config_path=config_path, config=Config()))
    project = loaded.project

    doc, errs = load_config_doc(config_path, root)
    loaded.problems += errs
    if doc is None or not isinstance(doc.data, dict):
        if doc is not None:
            loaded.problems.append(
                Problem(doc.at(), "expected a mapping (key: value) at the top of smartflow.yaml")
            )
        loaded.unreadable.update({"datasets", "connections"})
    else:
        project.docs[doc.file] = doc
        cfg, errs, dropped = validate_lenient(Config, doc)
        loaded.problems += errs
        if cfg is None:
            loaded.unreadable.update({"datasets", "connections"})
        else:
            project.config = cfg
        for key in ("datasets", "connections"):
            loaded.known.setdefault(key, set()).update(_names(dropped.get(key, [])))
            if key in doc.data and not isinstance(doc.data[key], dict):
                loaded.unreadable.add(key)

    targets = project.declarations_by_folder()
    for folder in FOLDERS:
        kind = _KIND_OF_FOLDER.get(folder)
        for path in iter_files(root, folder):
            target, model = model_for(folder, path)
            fdoc, errs = load_yaml(path, root)
            loaded.problems += errs
            if fdoc is None:
                if kind:
                    loaded.unreadable.add(kind)
                continue
            project.docs[fdoc.file] = fdoc
            if not isinstance(fdoc.data, dict):
                got = "a list" if isinstance(fdoc.data, list) else "a single value"
                loaded.problems.append(
                    Problem(
                        fdoc.at(), f"expected a mapping (key: value) at the top of a {folder} file, got {got}"
                    )
                )
                if kind:
                    loaded.unreadable.add(kind)
                continue
            obj, errs, dropped = validate_lenient(model, fdoc)
            loaded.problems += errs
            if obj is None:
                if kind:
                    loaded.unreadable.add(kind)
                continue
            targets[target].append(obj)
            for key, items in dropped.items():
                if key in _KIND_OF_FOLDER.values():  # terms, labels, action_groups
                    loaded.known.setdefault(key, set()).update(_names(items))
            if kind and kind in fdoc.data and not isinstance(fdoc.data.get(kind), list):
                loaded.unreadable.add(kind)
    return loaded


def _names(items: Iterable[Any]) -> set[str]:
    return {str(item["name"]) for item in items if isinstance(item, dict) and "name" in item}


class Validator:
    """The cross-file checks: helpers every rule uses, and the run over every capability's rules."""

    def __init__(
        self,
        project: Project,
        check_data: bool,
        known: dict[str, set[str]] | None = None,
        unreadable: set[str] | None = None,
    ) -> None:
        self.p = project
        self.check_data = check_data
        self.known = known or {}
        self.unreadable = unreadable or set()
        self.problems: list[Problem] = []
        self._columns: dict[str, list[str] | None] = {}
        self._types: dict[str, dict[str, str] | None] = {}

    def run(self) -> list[Problem]:
        import importlib

        self.datasets()
        for module in RULE_MODULES:
            importlib.import_module(module).rules(self)
        return self.problems

    # --- helpers -------------------------------------------------------------------------------
    def add(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where if where.line else Location(where.file, 1), message))

    def at(self, obj: object, *path: str | int) -> Location:
        return self.p.locate(obj, *path)

    def excused(self, kind: str, name: str) -> bool:
        """A name declared by a broken item, or of a kind whose file could not be read: not reported."""
        return kind in self.unreadable or name in self.known.get(kind, set())

    def columns(self, dataset: str) -> list[str] | None:
        if dataset not in self._columns:
            spec = self.p.config.datasets.get(dataset)
            declared = list(spec.columns) if spec and spec.columns else None
            self._columns[dataset] = self._lake_columns(dataset) if spec else None
            if self._columns[dataset] is None:
                self._columns[dataset] = declared
        return self._columns[dataset]

    def column_types(self, dataset: str) -> dict[str, str] | None:
        """Column -> type name (the lake's when it is on this machine, else the declared ones), or None."""
        if dataset not in self._types:
            spec = self.p.config.datasets.get(dataset)
            types: dict[str, str] | None = None
            if spec is not None and self.check_data and "://" not in self.p.lake_root:
                try:
                    from governance.lake.resolve import arrow_schema

                    schema = arrow_schema(self.p, dataset)
                    types = {f.name: str(f.type) for f in schema} if schema is not None else None
                except Exception:
                    types = None
            if types is None and spec is not None and spec.columns:
                types = dict(spec.columns)
            self._types[dataset] = types
        return self._types[dataset]

    @staticmethod
    def suggest(name: str, choices: Iterable[str]) -> str:
        return _suggest(name, choices)

    @staticmethod
    def kind(value: object) -> str:
        """A YAML value described for a message: "a string ('lots')", "a list", …"""
        return _type(value)

    def _lake_columns(self, dataset: str) -> list[str] | None:
        """The real schema of a dataset in a lake on this machine (never over the network)."""
        if not self.check_data:
            return None
        try:
            spec = self.p.config.datasets.get(dataset)
            if "://" in self.p.lake_root or (spec is not None and "://" in (spec.path or "")):
                return None
            from governance.lake.resolve import arrow_schema

            schema = arrow_schema(self.p, dataset)
        except Exception:  # an unreadable table is the quality run's finding, not validate's
            return None
        return list(schema.names) if schema is not None else None

    def dataset_ref(self, name: object, where: Location, what: str = "dataset") -> bool:
        if not isinstance(name, str):
            self.add(where, f"expected a {what} name, got {_type(name)}")
            return False
        if name in self.p.config.datasets:
            return True
        if not self.excused("datasets", name):
            self.add(where, f"unknown {what} '{name}'{_suggest(name, self.p.config.datasets)}")
        return False

    def connection_ref(self, name: str, where: Location, prefix: str = "") -> None:
        if name not in self.p.config.connections and not self.excused("connections", name):
            self.add(where, f"{prefix}unknown connection '{name}'{_suggest(name, self.p.config.connections)}")

    def column_ref(self, dataset: str, column: object, where: Location) -> None:
        if not isinstance(column, str):
            self.add(where, f"expected a column name, got {_type(column)}")
            return
        cols = self.columns(dataset)
        if cols is not None and column not in cols:
            self.add(where, f"dataset {dataset} has no column '{column}'{_suggest(column, cols)}")

    def target_ref(self, target: str, where: Location) -> None:
        """`dataset` or `dataset.column`: the longest declared dataset prefix wins."""
        if target in self.p.config.datasets:
            return
        ds, _, col = target.rpartition(".")
        if ds in self.p.config.datasets:
            self.column_ref(ds, col, where)
        elif not (self.excused("datasets", ds) or self.excused("datasets", target)):
            self.add(where, f"unknown dataset or column '{target}'{_suggest(target, self.p.config.datasets)}")

    def column_target_ref(self, target: str, where: Location, what: str) -> None:
        """`dataset.column` where a column is required: a bare dataset name is refused."""
        if target in self.p.config.datasets:
            self.add(where, f"{what}: '{target}' is a dataset, expected dataset.column")
        else:
            self.target_ref(target, where)

    def duplicates(self, items: Iterable[Any], key: Callable[[Any], str], what: str) -> None:
        seen: dict[str, Location] = {}
        for item in items:
            name = key(item)
            where = getattr(item, "where", Location("<memory>"))
            if name in seen:
                self.add(where, f"duplicate {what} '{name}' (first declared at {seen[name]})")
            else:
                seen[name] = where

    def regex(self, pattern: object, where: Location, what: str = "regex") -> None:
        if not isinstance(pattern, str):
            self.add(where, f"{what}: expected a regular expression (a string), got {_type(pattern)}")
            return
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            self.add(where, f"invalid regular expression {pattern!r}: {exc}")

    def duration(self, value: object, where: Location, what: str) -> None:
        try:
            parse_duration(value)  # type: ignore[arg-type]
        except (ValueError, OverflowError) as exc:
            self.add(where, f"{what}: {exc}")

    # --- smartflow.yaml -----------------------------------------------------------------------
    def datasets(self) -> None:
        for name, ds in self.p.config.datasets.items():
            if ds.connection:
                self.connection_ref(ds.connection, self.at(ds, "connection"), f"dataset {name}: ")
            for i, col in enumerate(ds.partitioning):
                self.column_ref(name, col, self.at(ds, "partitioning", i))
            for i, col in enumerate(ds.key):
                self.column_ref(name, col, self.at(ds, "key", i))
            if ds.freshness:
                self.column_ref(name, ds.freshness.column, self.at(ds.freshness, "column"))
                if ds.freshness.partition_column:
                    self.column_ref(
                        name, ds.freshness.partition_column, self.at(ds.freshness, "partition_column")
                    )
            lake = self._lake_columns(name)
            if lake is not None and ds.columns:
                for col in ds.columns:
                    if col not in lake:
                        self.add(
                            self.at(ds, "columns", col),
                            f"dataset {name}: declared column '{col}' is not in the lake table{_suggest(col, lake)}",
                        )

    def label_ref(self, label: str, where: Location, context: str = "") -> None:
        labels = {lb.name for lb in self.p.labels}
        if label not in labels and not self.excused("labels", label):
            self.add(where, f"{context}unknown label '{label}'{_suggest(label, labels)}")


def _type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _suggest(name: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, [str(c) for c in choices], n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""
