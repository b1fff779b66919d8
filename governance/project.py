"""A governance project: smartflow.yaml plus every declarative file found beside it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from governance.config import Config, Dataset, expand_config, expand_env, resolve_path
from governance.errors import InputError, Location, Problem
from governance.specs.alerts import ActionGroup, AlertFile, AlertRule
from governance.specs.classifications import Assignment, ClassificationFile, Label, Rule
from governance.specs.domains import DomainFile
from governance.specs.expectations import Suite
from governance.specs.glossary import GlossaryFile, Term
from governance.specs.manifests import Manifest
from governance.specs.policies import Policy, PolicyFile
from governance.specs.posture import PostureFile
from governance.specs.yamlcache import YamlCache
from governance.specs.yamlio import YamlDoc, load_yaml, validate_model

M = TypeVar("M", bound=BaseModel)

FOLDERS: dict[str, type[BaseModel]] = {
    "glossary": GlossaryFile,
    "classifications": ClassificationFile,
    "expectations": Suite,
    "manifests": Manifest,
    "alerts": AlertFile,
    "policies": PolicyFile,
    "domains": DomainFile,
}
# files of a folder that hold another kind: policies/posture.yaml is the storage posture policy
SPECIAL_FILES: dict[tuple[str, str], tuple[str, type[BaseModel]]] = {
    ("policies", "posture"): ("posture", PostureFile)
}


def model_for(folder: str, path: Path) -> tuple[str, type[BaseModel]]:
    """(the project list it loads into, its model) for a file found in `folder`."""
    return SPECIAL_FILES.get((folder, path.stem), (folder, FOLDERS[folder]))


@dataclass
class Project:
    root: Path
    config_path: Path
    config: Config
    docs: dict[str, YamlDoc] = field(default_factory=dict)
    glossaries: list[GlossaryFile] = field(default_factory=list)
    classification_files: list[ClassificationFile] = field(default_factory=list)
    suites: list[Suite] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)
    alert_files: list[AlertFile] = field(default_factory=list)
    policy_files: list[PolicyFile] = field(default_factory=list)
    domain_files: list[DomainFile] = field(default_factory=list)
    posture_files: list[PostureFile] = field(default_factory=list)
    # the parsed files, kept for a state dir made after loading (see keep_parsed)
    parsed: list[YamlCache] = field(default_factory=list, repr=False, compare=False)

    def keep_parsed(self) -> None:
        """Write the parse cache now the state dir exists: a first run on a fresh checkout loads the
        project before a command creates the state dir, and would otherwise leave the cache to the
        second run."""
        for cache in self.parsed:
            cache.save()

    # --- paths -------------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return resolve_path(self.root, self.config.state_dir)

    @property
    def reports_dir(self) -> Path:
        return resolve_path(self.root, self.config.reports_dir)

    @property
    def lake_root(self) -> str:
        """The lake root (`${VAR}` expanded) as a local absolute path, or an abfss:// URL unchanged."""
        root = expand_env(self.config.lake.root, self.config.lake.where)
        if "://" in root:
            return root.rstrip("/")
        return str(resolve_path(self.root, root))

    def path(self, value: str) -> Path:
        return resolve_path(self.root, value)

    # --- lookups -----------------------------------------------------------------------------
    def dataset(self, name: str) -> Dataset:
        try:
            return self.config.datasets[name]
        except KeyError:
            known = ", ".join(sorted(self.config.datasets)) or "none"
            raise InputError(f"unknown dataset '{name}' (declared: {known})") from None

    @property
    def terms(self) -> list[Term]:
        return [t for g in self.glossaries for t in g.terms]

    @property
    def labels(self) -> list[Label]:
        return [lb for f in self.classification_files for lb in f.labels]

    @property
    def rules(self) -> list[Rule]:
        return [r for f in self.classification_files for r in f.rules]

    @property
    def assignments(self) -> list[Assignment]:
        return [a for f in self.classification_files for a in f.assignments]

    @property
    def alert_rules(self) -> list[AlertRule]:
        return [r for f in self.alert_files for r in f.rules]

    @property
    def action_groups(self) -> list[ActionGroup]:
        return [g for f in self.alert_files for g in f.action_groups]

    @property
    def policies(self) -> list[Policy]:
        return [p for f in self.policy_files for p in f.policies]

    def column_labels(self) -> dict[tuple[str, str], set[str]]:
        """(dataset, column) → declared labels, merged over every classification file."""
        out: dict[tuple[str, str], set[str]] = {}
        for a in self.assignments:
            for col, labels in a.columns.items():
                out.setdefault((a.dataset, col), set()).update(labels)
        return out

    def pii_columns(self, dataset: str, label: str = "PII") -> set[str]:
        return {
            col for (ds, col), labels in self.column_labels().items() if ds == dataset and label in labels
        }

    def declarations_by_folder(self) -> dict[str, list[Any]]:
        """The lists that the files of each folder (FOLDERS) load into."""
        return {
            "glossary": self.glossaries,
            "classifications": self.classification_files,
            "expectations": self.suites,
            "manifests": self.manifests,
            "alerts": self.alert_files,
            "policies": self.policy_files,
            "domains": self.domain_files,
            "posture": self.posture_files,
        }

    def locate(self, obj: object, *keys: str | int) -> Location:
        """FILE:LINE of a key inside a declared object (its own line when the key is absent)."""
        where: Location = getattr(obj, "where", Location("<memory>"))
        doc = self.docs.get(where.file)
        if doc is None:
            return where
        return doc.at(tuple(getattr(obj, "yaml_path", ())) + keys)

    def suites_for(self, dataset: str) -> list[Suite]:
        return [s for s in self.suites if s.dataset == dataset]


def find_config(config: str | Path | None) -> Path:
    path = Path(config or "smartflow.yaml").expanduser()
    if path.is_dir():
        path = path / "smartflow.yaml"
    if not path.is_file():
        raise InputError(f"config file {path} not found (use --config PATH)", Location(str(path)))
    return path.resolve()


def iter_files(root: Path, folder: str) -> Iterator[Path]:
    base = root / folder
    if not base.is_dir():
        return
    yield from sorted(p for p in base.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_config_doc(
    config_path: Path, root: Path, cache: YamlCache | None = None
) -> tuple[YamlDoc | None, list[Problem]]:
    """smartflow.yaml read, with `${VAR}` expanded in every string (see `governance.config`); the
    cache keeps the text as parsed, before expansion, so no variable's value is ever stored."""
    doc, problems = load_yaml(config_path, root, cache)
    if doc is not None:
        problems += expand_config(doc)
    return doc, problems


_STATE_DIR = re.compile(r"""^state_dir:[ \t]*["']?([^"'#\n]*?)["']?[ \t]*(?:#.*)?$""", re.M)


def _state_dir_as_written(config_path: Path, root: Path) -> Path:
    """Where the parse cache of smartflow.yaml itself would be, read without parsing it. Only a guess:
    a cached entry is used only when its content hash is this file's, and a wrong guess (a `${VAR}`
    state_dir) only means the file is parsed."""
    try:
        m = _STATE_DIR.search(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        m = None
    value = m.group(1).strip() if m else ""
    return resolve_path(root, value if value and "${" not in value else ".smartflow")


def load_project(config: str | Path | None = None) -> Project:
    """Load and type-check every file. All problems are collected; any problem raises InputError."""
    config_path = find_config(config)
    root = config_path.parent
    problems: list[Problem] = []
    guessed = _state_dir_as_written(config_path, root)
    first = YamlCache.in_state_dir(guessed)
    doc, errs = load_config_doc(config_path, root, first)
    problems += errs
    cfg: Config | None = None
    if doc is not None:
        cfg, errs = validate_model(Config, doc)
        problems += errs
    project = Project(root=root, config_path=config_path, config=cfg or Config())
    if doc is not None:
        project.docs[doc.file] = doc
    targets = project.declarations_by_folder()
    cache = first if project.state_dir == guessed else YamlCache.in_state_dir(project.state_dir)
    for folder in FOLDERS:
        for path in iter_files(root, folder):
            target, model = model_for(folder, path)
            fdoc, errs = load_yaml(path, root, cache)
            problems += errs
            if fdoc is None:
                continue
            project.docs[fdoc.file] = fdoc
            if not isinstance(fdoc.data, dict):
                problems.append(Problem(fdoc.at(), f"expected a mapping at the top of a {folder} file"))
                continue
            obj, errs = validate_model(model, fdoc)
            problems += errs
            if obj is not None:
                targets[target].append(obj)
    cache.save()
    project.parsed = [first] if cache is first else [first, cache]
    if problems:
        raise InputError(problems)
    return project
