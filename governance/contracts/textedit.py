"""Edit YAML files the way a person would: load round-trip, change, and keep every untouched line as it was.

ruamel keeps comments, but re-emits some constructs differently (a flow mapping wrapped over several
lines comes back on one). `splice` applies only the lines our change moved onto the original text, so
the diff of an import shows the change and nothing else.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.contracts.yamlout import dump, roundtrip


def splice(original: str, baseline: str, modified: str) -> str:
    """`modified` (a re-emission of `baseline` with a change) applied to `original` (what `baseline` was
    loaded from); falls back to `modified` when a changed line has no counterpart in `original`."""
    orig, base, mod = original.splitlines(True), baseline.splitlines(True), modified.splitlines(True)
    to_orig: dict[int, int] = {}
    for tag, i1, i2, j1, _ in difflib.SequenceMatcher(None, orig, base, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                to_orig[j1 + k] = i1 + k
    out = list(orig)
    ops = [
        op
        for op in difflib.SequenceMatcher(None, base, mod, autojunk=False).get_opcodes()
        if op[0] != "equal"
    ]
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "insert":
            if i1 in to_orig:
                at = to_orig[i1]
            elif i1 == len(base):
                at = len(orig)
            elif i1 - 1 in to_orig:
                at = to_orig[i1 - 1] + 1
            else:
                return modified
            out[at:at] = mod[j1:j2]
            continue
        if any(k not in to_orig for k in range(i1, i2)):
            return modified
        span = [to_orig[k] for k in range(i1, i2)]
        if span != list(range(span[0], span[0] + len(span))):
            return modified
        out[span[0] : span[0] + len(span)] = mod[j1:j2]
    text = "".join(out)
    return text if text.endswith("\n") or not text else text + "\n"


@dataclass
class EditedFile:
    path: Path
    rel: str
    original: str
    data: Any
    baseline: str
    touched: bool = False
    new: bool = False

    def result(self) -> str:
        modified = dump(self.data, roundtrip())
        return modified if self.new else splice(self.original, self.baseline, modified)

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(True),
                self.result().splitlines(True),
                fromfile=f"a/{self.rel}" if not self.new else "/dev/null",
                tofile=f"b/{self.rel}",
            )
        )


@dataclass
class Workspace:
    """The project files an import edits, loaded once so several contracts can edit the same file."""

    root: Path
    files: dict[str, EditedFile] = field(default_factory=dict)

    def open(self, rel: str, new_data: Any = None, header: str = "") -> EditedFile:
        if rel in self.files:
            return self.files[rel]
        path = self.root / rel
        if path.exists():
            text = path.read_text()
            data = roundtrip().load(text)
            ef = EditedFile(path, rel, text, data, dump(data, roundtrip()))
        else:
            data = roundtrip().load(header + dump(new_data, roundtrip()))
            ef = EditedFile(path, rel, "", data, "", new=True)
        self.files[rel] = ef
        return ef

    def touched(self) -> list[EditedFile]:
        return [f for f in self.files.values() if f.touched and f.result() != f.original]
