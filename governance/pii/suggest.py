"""`--suggest FILE`: the missing assignments as a classifications file, ready for review and a pull request.

The file is a valid `classifications/*.yaml` (assignments only); each column carries a comment with the
evidence (rule, share of the sample, in text or as whole values) — counts, never values.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from governance.pii.findings import Finding


def render(findings: list[Finding]) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    wanted: dict[str, dict[str, dict[str, list[Finding]]]] = {}
    for f in findings:
        if f.status == "undeclared":
            wanted.setdefault(f.dataset, {}).setdefault(f.column, {}).setdefault(f.label, []).append(f)
    assignments = CommentedSeq()
    for dataset in sorted(wanted):
        columns = CommentedMap()
        for column in sorted(wanted[dataset]):
            labels = wanted[dataset][column]
            seq = CommentedSeq(sorted(labels))
            seq.fa.set_flow_style()
            columns[column] = seq
            why = "; ".join(_evidence(f) for label in sorted(labels) for f in labels[label])
            columns.yaml_add_eol_comment(why, column)
        entry = CommentedMap(dataset=dataset, columns=columns)
        assignments.append(entry)
    doc = CommentedMap(assignments=assignments)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc.yaml_set_start_comment(
        f"Suggested by `smartflow-gov pii scan` at {stamp}: columns where PII was detected but not declared.\n"
        "Review each entry, then merge it into classifications/ (evidence is in the comments; no values)."
    )
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


def _evidence(f: Finding) -> str:
    where = "inside text" if f.in_text else "as whole values"
    pct = f"{f.match_percent:g}%" if f.match_percent is not None else "column name"
    return f"{f.rule}: {pct} of {f.sample_size} sampled rows {where}"


def write(path: Path, findings: list[Finding]) -> int:
    """Write the suggestion file; returns how many column assignments it proposes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(findings), encoding="utf-8")
    return len({(f.dataset, f.column) for f in findings if f.status == "undeclared"})
