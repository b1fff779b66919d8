"""`contract import`: the project files a contract implies, as a plan (diff) or written.

What a contract sets: the dataset's suite (its expectations become exactly the contract's rules, plus a
not-null / unique expectation for a `required` / `unique` property that no rule already covers), the
column and table classification labels and `critical:` columns (added, never removed: a contract that
says nothing about a label does not declassify), links from glossary terms to the dataset and its
columns (added), and in smartflow.yaml the dataset's `key`, `owner` and `freshness`. The dataset must be
declared. Files are edited round-trip: comments and untouched lines stay as they are.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from governance.contracts.mapping import resolve
from governance.contracts.quality_map import NOT_NULL, UNIQUE
from governance.contracts.reading import Reading, read
from governance.contracts.textedit import EditedFile, Workspace
from governance.contracts.yamlout import load_contract
from governance.durations import format_duration, parse_duration
from governance.errors import ExitCode, InputError, Location
from governance.project import Project
from governance.results import StepResult

_SUITE_HEADER = "# yaml-language-server: $schema=../../schemas/expectations.schema.json\n"
_CLASS_HEADER = "# yaml-language-server: $schema=../schemas/classifications.schema.json\n"


def _flow_seq(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _flow_map(items: dict[str, Any]) -> CommentedMap:
    m = CommentedMap(items)
    m.fa.set_flow_style()
    return m


def _append(seq: CommentedSeq, item: Any) -> None:
    """Append after the last item, moving a comment or blank line that trailed it below the new one."""
    last = len(seq) - 1
    seq.append(item)
    if last >= 0 and last in seq.ca.items and not isinstance(seq[last], dict):
        seq.ca.items[last + 1] = seq.ca.items.pop(last)


def _key(e: dict[str, Any]) -> str:
    """What makes two expectations the same (comments and key order do not)."""
    return json.dumps(
        {
            "type": e.get("type"),
            "kwargs": dict(e.get("kwargs") or {}),
            "severity": e.get("severity") or "error",
            "notes": e.get("notes") or None,
            "meta": dict(e.get("meta") or {}) or None,
        },
        sort_keys=True,
        default=str,
    )


def _item(e: dict[str, Any]) -> CommentedMap:
    m = CommentedMap({"type": e["type"], "kwargs": _flow_map(dict(e["kwargs"]))})
    if (e.get("severity") or "error") != "error":
        m["severity"] = e["severity"]
    if e.get("notes"):
        m["notes"] = e["notes"]
    if e.get("meta"):
        m["meta"] = _flow_map(dict(e["meta"]))
    return m


def _node(ef: EditedFile, path: tuple[str | int, ...]) -> Any:
    node = ef.data
    for k in path:
        node = node[k]
    return node


class Importer:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.ws = Workspace(project.root)
        self.changes: list[dict[str, Any]] = []
        self.problems: list[str] = []

    def change(self, action: str, kind: str, ef: EditedFile, name: str, **detail: Any) -> None:
        ef.touched = True
        self.changes.append({"action": action, "kind": kind, "file": ef.rel, "name": name, **detail})

    # ---- one contract ---------------------------------------------------------------------------
    def add(self, path: Path, dataset: str | None) -> str:
        doc = load_contract(path)
        target = resolve(self.project, doc, path, dataset)
        if not target.declared:
            raise InputError(
                f"the contract describes {target.uri}, which is not a declared dataset: declare it in "
                "smartflow.yaml (or pass --dataset NAME)",
                Location(str(path), 1),
            )
        name = target.dataset
        reading = read(doc, name)
        self.problems += [f"{path}: {p}" for p in reading.problems]
        self._suite(path, name, reading)
        self._labels(name, reading)
        self._terms(path, name, reading)
        self._dataset(name, reading)
        return name

    def _desired(self, path: Path, reading: Reading) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for r in reading.rules:
            c = r.compiled
            if c.problem:
                self.problems.append(f"{path}: rule {r.odcs_id}: {c.problem}")
                continue
            if c.check is not None:
                self.problems.append(
                    f"{path}: rule {r.odcs_id}: threshold {c.check.operator} {c.check.threshold} "
                    f"({c.check.measure}) has no suite form; `contract test` still evaluates it"
                )
                continue
            out += c.expectations
        for flag, type_ in (("required", NOT_NULL), ("unique", UNIQUE)):
            for col, prop in reading.columns.items():
                covered = any(e["type"] == type_ and e["kwargs"].get("column") == col for e in out)
                if prop.get(flag) is True and not covered:
                    out.append({"type": type_, "kwargs": {"column": col}, "severity": "error"})
        return out

    def _suite(self, path: Path, dataset: str, reading: Reading) -> None:
        desired = self._desired(path, reading)
        suites = self.project.suites_for(dataset)
        if suites:
            files = [self.ws.open(s.where.file) for s in suites]
        elif desired:
            suite = str(reading.custom.get("suite") or dataset.replace(".", "_"))
            layer = self.project.dataset(dataset).layer
            rel = f"expectations/{layer}/{suite}.yaml"
            data = {"suite": suite, "dataset": dataset, "expectations": []}
            files = [self.ws.open(rel, data, _SUITE_HEADER)]
            self.change("create", "suite", files[0], suite)
        else:
            return
        wanted = Counter(_key(e) for e in desired)
        for ef in files:
            seq = ef.data.get("expectations")
            if seq is None:
                continue
            for i in reversed(range(len(seq))):
                k = _key(seq[i])
                if wanted[k] > 0:
                    wanted[k] -= 1
                    continue
                self.change("delete", "expectation", ef, _label(seq[i]))
                del seq[i]
        first = files[0]
        for e in desired:
            k = _key(e)
            if wanted[k] > 0:
                wanted[k] -= 1
                if first.data.get("expectations") is None:
                    first.data["expectations"] = CommentedSeq()
                first.data["expectations"].append(_item(e))
                self.change("create", "expectation", first, _label(e))
        description = reading.custom.get("suiteDescription")
        if isinstance(description, str) and first.data.get("description") != description:
            first.data["description"] = description
            self.change("update", "suite", first, str(first.data.get("suite")), field="description")
        inc = reading.custom.get("incrementalPartition")
        current = (first.data.get("incremental") or {}).get("partition")
        if isinstance(inc, str) and inc != current:
            first.data["incremental"] = _flow_map({"partition": inc})
            self.change("update", "suite", first, str(first.data.get("suite")), field="incremental")

    def _labels(self, dataset: str, reading: Reading) -> None:
        known = {lb.name.lower(): lb.name for lb in self.project.labels}

        def ours(labels: list[str], what: str) -> list[str]:
            out = []
            for lb in labels:
                if lb.lower() in known:
                    out.append(known[lb.lower()])
                else:
                    self.problems.append(
                        f"{dataset}{what}: classification {lb!r} is not a declared label; not assigned"
                    )
            return out

        current = self.project.column_labels()
        entries = [a for a in self.project.assignments if a.dataset == dataset]
        state: dict[str, Any] = {"ef": None, "node": None}

        def entry() -> tuple[EditedFile, Any]:
            if state["ef"] is None:
                if entries:
                    ef = self.ws.open(entries[0].where.file)
                    state["ef"], state["node"] = ef, _node(ef, entries[0].yaml_path)
                else:
                    layer = self.project.dataset(dataset).layer
                    rel = f"classifications/assignments/{layer}.yaml"
                    if not (self.project.root / rel).exists() and rel not in self.ws.files:
                        rel = "classifications/contracts.yaml"
                    ef = self.ws.open(rel, {"assignments": []}, _CLASS_HEADER)
                    node = CommentedMap({"dataset": dataset})
                    ef.data.setdefault("assignments", CommentedSeq()).append(node)
                    state["ef"], state["node"] = ef, node
            return state["ef"], state["node"]

        added: dict[str, set[str]] = {}
        for col, labels in reading.column_labels.items():
            have = current.get((dataset, col), set())
            missing = [lb for lb in ours(labels, f".{col}") if lb not in have]
            if not missing:
                continue
            ef, node = entry()
            cols = node.setdefault("columns", CommentedMap())
            if col in cols:
                cols[col].extend(missing)
            else:
                cols[col] = _flow_seq(missing)
            added[col] = set(missing)
            self.change("update", "assignment", ef, f"{dataset}.{col}", add=missing)
        have_table = {lb for a in entries for lb in a.table}
        missing_table = [lb for lb in ours(reading.table_labels, "") if lb not in have_table]
        if missing_table:
            ef, node = entry()
            if "table" in node:
                node["table"].extend(missing_table)
            else:
                node["table"] = _flow_seq(missing_table)
            self.change("update", "assignment", ef, dataset, add=missing_table)
        key = reading.key or self.project.dataset(dataset).key
        pii = {c for (ds, c), lbs in current.items() if ds == dataset and "PII" in lbs}
        pii |= {c for c, lbs in added.items() if "PII" in lbs}
        have_critical = {c for a in entries for c in a.critical}
        new_critical = [
            c for c in reading.critical if c not in key and c not in pii and c not in have_critical
        ]
        if new_critical:
            ef, node = entry()
            if "critical" in node:
                node["critical"].extend(new_critical)
            else:
                node["critical"] = _flow_seq(new_critical)
            self.change("update", "critical", ef, dataset, add=new_critical)

    def _terms(self, path: Path, dataset: str, reading: Reading) -> None:
        terms = {t.name: t for t in self.project.terms}
        lower = {n.lower(): t for n, t in terms.items()}
        for name, target in reading.terms:
            term = terms.get(name) or lower.get(name.lower())
            if term is None:
                self.problems.append(f"{path}: {target}: no glossary term {name!r}; not linked")
                continue
            ef = self.ws.open(term.where.file)
            node = _node(ef, term.yaml_path)
            links = node.get("assigned_to")
            if links is not None and target in links:
                continue
            if links is None:
                node["assigned_to"] = _flow_seq([target])
            else:
                _append(links, target)
            self.change("update", "glossary_link", ef, term.name, add=target)

    def _dataset(self, dataset: str, reading: Reading) -> None:
        spec = self.project.dataset(dataset)
        rel = self.project.config_path.relative_to(self.project.root).as_posix()
        ef = self.ws.open(rel)
        node = ef.data["datasets"][dataset]
        if reading.key and reading.key != spec.key:
            node["key"] = _flow_seq(list(reading.key))
            self.change("update", "dataset", ef, dataset, field="key", before=spec.key, after=reading.key)
        if reading.owner and reading.owner != spec.owner:
            node["owner"] = reading.owner
            self.change(
                "update", "dataset", ef, dataset, field="owner", before=spec.owner, after=reading.owner
            )
        f = reading.freshness
        if f is None:
            return
        cur = spec.freshness
        has_late = f.partition_column is not None or f.late_tolerance is not None
        part = f.partition_column if has_late or cur is None else cur.partition_column
        late = (
            f.late_tolerance
            if has_late or cur is None
            else (parse_duration(cur.late_tolerance) if cur.late_tolerance else None)
        )
        same = (
            cur is not None
            and cur.column == f.column
            and parse_duration(cur.max_lag) == f.max_lag
            and cur.partition_column == part
            and (parse_duration(cur.late_tolerance) if cur.late_tolerance else None) == late
        )
        if same:
            return
        after: dict[str, Any] = {"column": f.column, "max_lag": format_duration(f.max_lag)}
        if part:
            after["partition_column"] = part
        if late is not None:
            after["late_tolerance"] = format_duration(late)
        node["freshness"] = _flow_map(after)
        before = cur.model_dump(exclude_none=True) if cur else None
        self.change("update", "dataset", ef, dataset, field="freshness", before=before, after=after)


def _label(e: Any) -> str:
    kw = e.get("kwargs") or {}
    subject = kw.get("column") or kw.get("column_A") or ",".join(kw.get("column_list") or []) or "table"
    return f"{e.get('type')}({subject})"


def run_import(project: Project, files: list[Path], dataset: str | None, write: bool) -> StepResult:
    if dataset and len(files) > 1:
        raise InputError("--dataset applies to one contract; import several contracts without it")
    imp = Importer(project)
    contracts = [{"file": str(f), "dataset": imp.add(f, dataset)} for f in files]
    edited = imp.ws.touched()
    diffs = [{"file": ef.rel, "diff": ef.diff()} for ef in edited]
    if write:
        for ef in edited:
            ef.path.parent.mkdir(parents=True, exist_ok=True)
            ef.path.write_text(ef.result())
    summary = Counter(c["action"] for c in imp.changes)
    payload = {
        "mode": "write" if write else "plan",
        "contracts": contracts,
        "changes": imp.changes if edited else [],
        "summary": {k: summary.get(k, 0) for k in ("create", "update", "delete")}
        if edited
        else {"create": 0, "update": 0, "delete": 0},
        "files": diffs,
        "problems": imp.problems,
    }
    lines = [d["diff"] for d in diffs] or ["no changes: the project already says what the contract says"]
    if write and diffs:
        lines.append(f"wrote {len(diffs)} file(s)")
    lines += [f"warning: {p}" for p in imp.problems]
    return StepResult(payload, ExitCode.OK, "\n".join(lines))
