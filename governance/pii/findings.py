"""From measured evidence and declared classifications to findings (SPEC §4 `pii scan` JSON).

A rule *detects* a column when
- the share of sampled non-null values that are this kind of data as a whole (pattern and validator)
  reaches the rule's `minimum_match_percent`, and the validator's column-level check agrees (or the
  column name matches the rule's `column_pattern`, which is evidence enough for, say, birth dates); or
- for `free_text` rules, confirmed matches sit inside prose in at least `pii.free_text_minimum_percent`
  of the values (default 1%) and FREE_TEXT_MINIMUM_ROWS rows: an e-mail in a ticket body is PII however
  rare; or
- the rule has no data pattern and the column name matches its `column_pattern`.

Statuses: `undeclared` (detected, the column carries no assignment of the rule's label, neither on the
column nor on its table), `confirmed` (detected and assigned), `not_detected` (the column itself is
assigned a label that rules can detect, and no rule of that label detected it in the sample).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from governance.pii.rules import DetectionRule
from governance.pii.scan import DatasetScan, Evidence

FREE_TEXT_MINIMUM_ROWS = 2
BLOCKING_LAYERS = ("silver", "gold")


@dataclass
class Finding:
    dataset: str
    column: str
    label: str
    rule: str | None
    match_percent: float | None
    sample_size: int
    status: str  # undeclared | confirmed | not_detected
    layer: str
    distinct_matches: int | None = None
    in_text: bool = False
    evidence: str | None = None  # data | text | column_name
    minimum_match_percent: float | None = None
    estimated: bool = False

    @property
    def blocking(self) -> bool:
        return self.status == "undeclared" and self.layer in BLOCKING_LAYERS

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Detection:
    column: str
    rule: DetectionRule
    match_percent: float | None
    distinct: int | None
    in_text: bool
    evidence: str
    estimated: bool


def detect(ev: Evidence, free_text_minimum_percent: float = 1.0) -> Detection | None:
    rule = ev.rule
    minimum = rule.rule.minimum_match_percent
    value_pct = ev.percent(ev.value_rows)
    if ev.value_rows and value_pct >= minimum and (ev.column_evidence or rule.name_matches(ev.column)):
        return Detection(ev.column, rule, value_pct, ev.value_distinct, False, "data", ev.estimated)
    text_pct = ev.percent(ev.text_rows)
    if (
        rule.text_regex is not None
        and ev.text_rows >= FREE_TEXT_MINIMUM_ROWS
        and text_pct >= free_text_minimum_percent
    ):
        return Detection(ev.column, rule, text_pct, ev.text_distinct, True, "text", ev.estimated)
    return None


def dataset_findings(
    scan: DatasetScan,
    free_text_minimum_percent: float,
    rules: list[DetectionRule],
    declared: dict[str, set[str]],
    all_columns: list[str],
    column_declared: dict[str, set[str]] | None = None,
) -> list[Finding]:
    """Findings of one scanned dataset. `declared`: column → labels that cover it (its own and its
    table's); `column_declared`: the labels assigned to the column itself, which alone can be
    `not_detected` (a table label says the table holds such data, not that every column does)."""
    own = declared if column_declared is None else column_declared
    n = scan.sample_size
    found = (detect(ev, free_text_minimum_percent) for ev in scan.evidence)
    detections = [d for d in found if d is not None]
    for rule in rules:
        if rule.data_regex is None and rule.column_regex is not None:
            detections += [
                Detection(c, rule, None, None, False, "column_name", False)
                for c in all_columns
                if rule.name_matches(c)
            ]
    out: list[Finding] = []
    detected_labels: dict[str, set[str]] = {}
    for d in detections:
        labels = declared.get(d.column, set())
        status = "confirmed" if d.rule.label in labels else "undeclared"
        detected_labels.setdefault(d.column, set()).add(d.rule.label)
        out.append(
            Finding(
                dataset=scan.dataset,
                column=d.column,
                label=d.rule.label,
                rule=d.rule.name,
                match_percent=d.match_percent,
                sample_size=n,
                status=status,
                layer=scan.layer,
                distinct_matches=d.distinct,
                in_text=d.in_text,
                evidence=d.evidence,
                minimum_match_percent=d.rule.rule.minimum_match_percent,
                estimated=d.estimated,
            )
        )
    detectable = {r.label for r in rules}
    for column in all_columns:
        for label in sorted(own.get(column, set()) & detectable):
            if label in detected_labels.get(column, set()):
                continue
            best = _closest(scan.evidence, column, label)
            out.append(
                Finding(
                    dataset=scan.dataset,
                    column=column,
                    label=label,
                    rule=best.rule.name if best else None,
                    match_percent=best.percent(max(best.value_rows, best.text_rows)) if best else None,
                    sample_size=n,
                    status="not_detected",
                    layer=scan.layer,
                    distinct_matches=max(best.value_distinct, best.text_distinct) if best else None,
                    minimum_match_percent=best.rule.rule.minimum_match_percent if best else None,
                    estimated=best.estimated if best else False,
                )
            )
    order = {"undeclared": 0, "confirmed": 1, "not_detected": 2}
    out.sort(key=lambda f: (order[f.status], f.column, f.rule or ""))
    return out


def _closest(evidence: list[Evidence], column: str, label: str) -> Evidence | None:
    """The rule of `label` that came nearest to detecting `column` (by its name, else by its share)."""
    mine = [ev for ev in evidence if ev.column == column and ev.rule.label == label]
    if not mine:
        return None
    return max(mine, key=lambda ev: (ev.rule.name_matches(column), max(ev.value_rows, ev.text_rows)))
