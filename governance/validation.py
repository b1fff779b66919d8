"""`smartflow-gov validate`: cross-file checks on a loaded project. No network, no data writes.

Schema-level problems (syntax, unknown keys, wrong types, bad regexes and durations) are found while
loading (`load_project`); this module adds the references between files: datasets, columns, labels,
terms, action groups, expectation types and kwargs, duplicate names and hierarchy cycles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from governance.errors import Location, Problem
from governance.lake.resolve import known_columns
from governance.project import Project
from governance.specs.expectation_types import EXPECTATION_TYPES

METRICS = frozenset(
    {
        "quality_success_percent",
        "quality_unexpected_count",
        "quality_evaluated_expectations",
        "rows_validated",
        "freshness_lag_minutes",
        "missing_partitions",
        "pii_undeclared_columns",
        "lineage_coverage_percent",
        "glossary_coverage_percent",
        "run_duration_seconds",
        "late_partitions",
        "anomalies",
        "pipeline_failures",
        "quality_error",
        "row_count",
    }
)


def validate_project(project: Project, check_data: bool = True) -> list[Problem]:
    """Every cross-reference problem of the project, sorted by file and line."""
    v = _Validator(project, check_data)
    for check in (v.datasets, v.glossary, v.classifications, v.suites, v.manifests, v.alerts, v.policies):
        check()
    return sorted(set(v.problems))


class _Validator:
    def __init__(self, project: Project, check_data: bool) -> None:
        self.p = project
        self.check_data = check_data
        self.problems: list[Problem] = []
        self._columns: dict[str, list[str] | None] = {}

    # --- helpers -------------------------------------------------------------------------------
    def add(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message))

    def at(self, obj: object, *path: str | int) -> Location:
        return self.p.locate(obj, *path)

    def columns(self, dataset: str) -> list[str] | None:
        if dataset not in self._columns:
            if not self.check_data:
                declared = self.p.config.datasets[dataset].columns
                self._columns[dataset] = list(declared) or None
            else:
                self._columns[dataset] = known_columns(self.p, dataset)
        return self._columns[dataset]

    def dataset_ref(self, name: str, where: Location, what: str = "dataset") -> bool:
        if name in self.p.config.datasets:
            return True
        self.add(where, f"unknown {what} '{name}'{_suggest(name, self.p.config.datasets)}")
        return False

    def column_ref(self, dataset: str, column: str, where: Location) -> None:
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
        else:
            self.add(where, f"unknown dataset or column '{target}'{_suggest(target, self.p.config.datasets)}")

    def duplicates(self, items: Iterable[object], key: Callable[[object], str], what: str) -> None:
        seen: dict[str, Location] = {}
        for item in items:
            name = key(item)
            where = getattr(item, "where", Location("<memory>"))
            if name in seen:
                self.add(where, f"duplicate {what} '{name}' (first declared at {seen[name]})")
            else:
                seen[name] = where

    # --- checks ---------------------------------------------------------------------------------
    def datasets(self) -> None:
        for name, ds in self.p.config.datasets.items():
            if ds.connection and ds.connection not in self.p.config.connections:
                self.add(self.at(ds, "connection"), f"dataset {name}: unknown connection '{ds.connection}'")
            for col in ds.partitioning:
                self.column_ref(name, col, self.at(ds, "partitioning"))
            if ds.freshness:
                self.column_ref(name, ds.freshness.column, self.at(ds.freshness, "column"))
                if ds.freshness.partition_column:
                    self.column_ref(
                        name, ds.freshness.partition_column, self.at(ds.freshness, "partition_column")
                    )
            for col in ds.key:
                self.column_ref(name, col, self.at(ds, "key"))

    def glossary(self) -> None:
        terms = self.p.terms
        self.duplicates(terms, lambda t: t.name.lower(), "term")  # type: ignore[attr-defined]
        names = {t.name for t in terms}
        parents = {t.name: t.parent for t in terms}
        for t in terms:
            if t.parent and t.parent not in names:
                self.add(
                    self.at(t, "parent"),
                    f"term '{t.name}': unknown parent term '{t.parent}'{_suggest(t.parent, names)}",
                )
            for i, rel in enumerate(t.related):
                if rel not in names:
                    self.add(
                        self.at(t, "related", i),
                        f"term '{t.name}': unknown related term '{rel}'{_suggest(rel, names)}",
                    )
            for i, target in enumerate(t.assigned_to):
                self.target_ref(target, self.at(t, "assigned_to", i))
        reported: set[str] = set()
        for t in terms:
            chain, cur = [t.name], t.parent
            while cur and cur in parents and cur not in chain:
                chain.append(cur)
                cur = parents[cur]
            if cur == t.name and not reported.intersection(chain):
                reported.update(chain)
                self.add(
                    self.at(t, "parent"), "cycle in the term hierarchy: " + " -> ".join([*chain, t.name])
                )

    def classifications(self) -> None:
        self.duplicates(self.p.labels, lambda x: x.name, "label")  # type: ignore[attr-defined]
        self.duplicates(self.p.rules, lambda x: x.name, "detection rule")  # type: ignore[attr-defined]
        labels = {lb.name for lb in self.p.labels}
        for r in self.p.rules:
            if r.label not in labels:
                self.add(
                    self.at(r, "label"),
                    f"rule {r.name}: unknown label '{r.label}'{_suggest(r.label, labels)}",
                )
        for a in self.p.assignments:
            if not self.dataset_ref(a.dataset, self.at(a, "dataset")):
                continue
            for i, lb in enumerate(a.table):
                if lb not in labels:
                    self.add(self.at(a, "table", i), f"unknown label '{lb}'{_suggest(lb, labels)}")
            for col, col_labels in a.columns.items():
                where = self.at(a, "columns", col)
                self.column_ref(a.dataset, col, where)
                for lb in col_labels:
                    if lb not in labels:
                        self.add(where, f"{a.dataset}.{col}: unknown label '{lb}'{_suggest(lb, labels)}")

    def suites(self) -> None:
        self.duplicates(self.p.suites, lambda s: s.suite, "suite")  # type: ignore[attr-defined]
        for s in self.p.suites:
            if not self.dataset_ref(s.dataset, self.at(s, "dataset")):
                continue
            if s.incremental:
                self.column_ref(s.dataset, s.incremental.partition, self.at(s.incremental, "partition"))
            for e in s.expectations:
                self.expectation(s.dataset, e)

    def expectation(self, dataset: str, e: object) -> None:
        etype = getattr(e, "type", "")
        kwargs: dict[str, object] = getattr(e, "kwargs", {})
        spec = EXPECTATION_TYPES.get(etype)
        if spec is None:
            self.add(
                self.at(e, "type"), f"unknown expectation type '{etype}'{_suggest(etype, EXPECTATION_TYPES)}"
            )
            return
        for key in sorted(spec.required - kwargs.keys()):
            self.add(self.at(e, "kwargs"), f"{etype}: missing kwarg '{key}'")
        for key in kwargs:
            if key not in spec.allowed:
                self.add(
                    self.at(e, "kwargs", key), f"{etype}: unknown kwarg '{key}'{_suggest(key, spec.allowed)}"
                )
        for key in spec.column_kwargs:
            if isinstance(kwargs.get(key), str):
                self.column_ref(dataset, str(kwargs[key]), self.at(e, "kwargs", key))
        for key in spec.column_list_kwargs:
            for col in kwargs.get(key) or []:  # type: ignore[attr-defined]
                self.column_ref(dataset, str(col), self.at(e, "kwargs", key))
        mostly = kwargs.get("mostly")
        if mostly is not None and not (isinstance(mostly, int | float) and 0 <= mostly <= 1):
            self.add(self.at(e, "kwargs", "mostly"), f"{etype}: mostly must be a number between 0 and 1")
        for key in ("regex",):
            if key in kwargs:
                self.regex(str(kwargs[key]), self.at(e, "kwargs", key))
        for rx in kwargs.get("regex_list") or []:  # type: ignore[attr-defined]
            self.regex(str(rx), self.at(e, "kwargs", "regex_list"))
        if etype == "expect_column_values_to_exist_in":
            other = str(kwargs.get("dataset", ""))
            if (
                other
                and self.dataset_ref(other, self.at(e, "kwargs", "dataset"))
                and kwargs.get("other_column")
            ):
                self.column_ref(other, str(kwargs["other_column"]), self.at(e, "kwargs", "other_column"))
        if etype == "expect_column_max_to_be_recent":
            from governance.durations import parse_duration

            try:
                parse_duration(str(kwargs.get("max_lag", "")))
            except ValueError as exc:
                self.add(self.at(e, "kwargs", "max_lag"), str(exc))

    def regex(self, pattern: str, where: Location) -> None:
        try:
            re.compile(pattern)
        except re.error as exc:
            self.add(where, f"invalid regular expression {pattern!r}: {exc}")

    def manifests(self) -> None:
        self.duplicates(self.p.manifests, lambda m: m.job, "job")  # type: ignore[attr-defined]
        for m in self.p.manifests:
            for key in ("inputs", "outputs"):
                for i, name in enumerate(getattr(m, key)):
                    self.dataset_ref(name, self.at(m, key, i))
            for out, sources in m.column_lineage.items():
                where = self.at(m, "column_lineage", out)
                self.target_ref(out, where)
                for src in sources:
                    self.target_ref(src, where)

    def alerts(self) -> None:
        self.duplicates(self.p.action_groups, lambda g: g.name, "action group")  # type: ignore[attr-defined]
        self.duplicates(self.p.alert_rules, lambda r: r.name, "alert rule")  # type: ignore[attr-defined]
        groups = {g.name for g in self.p.action_groups}
        for r in self.p.alert_rules:
            for i, g in enumerate(r.action_groups):
                if g not in groups:
                    self.add(
                        self.at(r, "action_groups", i),
                        f"rule {r.name}: unknown action group '{g}'{_suggest(g, groups)}",
                    )
            if r.metric and r.metric not in METRICS:
                self.add(
                    self.at(r, "metric"),
                    f"rule {r.name}: '{r.metric}' is not a metric smartflow-gov emits{_suggest(r.metric, METRICS)}",
                )
            if r.local and r.local.metric not in METRICS:
                self.add(
                    self.at(r.local, "metric"),
                    f"rule {r.name}: '{r.local.metric}' is not a metric smartflow-gov emits",
                )
            for dims in (r.dimensions, r.local.dimensions if r.local else {}):
                if "dataset" in dims and dims["dataset"] != "*":
                    self.dataset_ref(dims["dataset"], self.at(r, "dimensions"))

    def policies(self) -> None:
        labels = {lb.name for lb in self.p.labels}
        for f in self.p.policy_files:
            if f.connection and f.connection not in self.p.config.connections:
                self.add(self.at(f, "connection"), f"unknown connection '{f.connection}'")
            for pol in f.policies:
                if pol.label not in labels:
                    self.add(
                        self.at(pol, "label"), f"unknown label '{pol.label}'{_suggest(pol.label, labels)}"
                    )


def _suggest(name: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""
