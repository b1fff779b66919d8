"""Property: whatever happens to a declarative file, `validate` answers with exit 0 or 2 and FILE:LINE lines.

Hypothesis mutates the repo's real files — deletes, duplicates, renames and retypes keys, swaps values,
corrupts the YAML text, writes random bytes — and runs the real CLI entry point in-process
(`governance.cli.main`), then a handful of mutations through the installed console script.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from governance.cli import main

LINE = re.compile(r"^[^:]+:\d+: \S")
SUMMARY = re.compile(r"^\d+ problem\(s\); nothing was changed$")

FOLDERS = ("glossary", "classifications", "expectations", "manifests", "alerts", "policies", "domains")
ALL_FILES = sorted(
    p.relative_to(REPO).as_posix() for folder in FOLDERS for p in (REPO / folder).rglob("*.yaml")
) + ["smartflow.yaml"]
# a small but complete project around the mutated file keeps each example fast (ruamel is pure Python)
BASE_FILES = [
    "smartflow.yaml",
    "classifications/labels_and_rules.yaml",
    "classifications/assignments/silver.yaml",
    "expectations/silver/silver_transactions.yaml",
    "alerts/action_groups.yaml",
    "alerts/quality.yaml",
    "policies/access.yaml",
]
BASE_FILES += sorted(p.relative_to(REPO).as_posix() for p in (REPO / "manifests").glob("*.yaml"))[:1]
BASE_FILES += sorted(
    p.relative_to(REPO).as_posix() for p in (REPO / "glossary").glob("*.yaml")
)  # terms refer to each other
BASE_FILES += sorted(
    p.relative_to(REPO).as_posix() for p in (REPO / "domains").glob("*.yaml")
)  # terms name them

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["PT2H", "P1D", "2 hours", "silver.transactions", "(", "[a-", "PII", "", "~", "*"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096
    return y


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, CommentedMap):
        for k, v in node.items():
            yield (*path, k)
            yield from _paths(v, (*path, k))
    elif isinstance(node, CommentedSeq):
        for i, v in enumerate(node):
            yield (*path, i)
            yield from _paths(v, (*path, i))


def _parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        tree = tree[key]
    return tree


def _plainify(value: Any) -> Any:
    if isinstance(value, dict):
        return CommentedMap((k, _plainify(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_plainify(v) for v in value)
    return value


def mutate_tree(text: str, op: str, pick: int, pick2: int, value: Any) -> str | None:
    """A structural mutation of the YAML document; None when the document offers nothing to mutate."""
    tree = _yaml().load(text)
    paths = list(_paths(tree))
    if not paths:
        return None
    path = paths[pick % len(paths)]
    parent, key = _parent(tree, path), path[-1]
    if op == "delete":
        del parent[key]
    elif op == "retype":
        parent[key] = _plainify(value)
    elif op == "rename" and isinstance(parent, CommentedMap):
        parent.insert(list(parent).index(key), str(value)[:20] or "x", parent.pop(key))
    elif op == "swap":
        other = paths[pick2 % len(paths)]
        oparent, okey = _parent(tree, other), other[-1]
        if other[: len(path)] == path or path[: len(other)] == other:
            return None  # one contains the other
        parent[key], oparent[okey] = oparent[okey], parent[key]
    else:
        return None
    out = io.StringIO()
    _yaml().dump(tree, out)
    return out.getvalue()


def mutate_text(raw: bytes, op: str, pick: int, blob: bytes) -> bytes:
    lines = raw.splitlines(keepends=True) or [b""]
    i = pick % len(lines)
    if op == "duplicate_line":  # usually a duplicate key
        return b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if op == "insert_bytes":
        at = pick % (len(raw) + 1)
        return raw[:at] + blob + raw[at:]
    if op == "delete_span":
        at = pick % (len(raw) + 1)
        return raw[:at] + raw[at + len(blob) * 7 :]
    if op == "truncate":
        return raw[: pick % (len(raw) + 1)]
    if op == "random_bytes":
        return blob
    if op == "indent":
        return b"".join([*lines[:i], b"  " + lines[i], *lines[i + 1 :]])
    return raw


def run_validate(config: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--config", str(config), "validate"])
        except SystemExit as exc:
            code = exc.code
    return int(code or 0), out.getvalue(), err.getvalue()


def assert_contract(code: int, stdout: str, stderr: str) -> None:
    assert "Traceback" not in stderr + stdout
    assert code in (0, 2), (code, stderr)
    lines = stderr.splitlines()
    if code == 0:
        assert stdout.startswith("ok: "), stdout
        assert not lines, stderr
        return
    assert lines and SUMMARY.match(lines[-1]), stderr
    bad = [line for line in lines[:-1] if not LINE.match(line)]
    assert not bad, stderr
    assert int(lines[-1].split()[0]) == len(lines) - 1


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _project(workdir: Path, target: str, content: bytes) -> Path:
    """The small project in `workdir/project` with `target` holding `content` (restored between examples)."""
    root = workdir / "project"
    marker = root / ".mutated"
    if marker.exists():  # undo the previous example's mutation
        previous = marker.read_text()
        (root / previous).unlink(missing_ok=True)
        if previous in BASE_FILES:
            shutil.copy(REPO / previous, root / previous)
    else:
        for rel in BASE_FILES:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / rel, root / rel)
    (root / target).parent.mkdir(parents=True, exist_ok=True)
    (root / target).write_bytes(content)
    marker.write_text(target)
    return root / "smartflow.yaml"


TREE_OPS = st.sampled_from(["delete", "retype", "rename", "swap"])
TEXT_OPS = st.sampled_from(
    ["duplicate_line", "insert_bytes", "delete_span", "truncate", "random_bytes", "indent"]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(
    target=st.sampled_from(ALL_FILES),
    structural=st.booleans(),
    tree_op=TREE_OPS,
    text_op=TEXT_OPS,
    pick=st.integers(min_value=0, max_value=10**6),
    pick2=st.integers(min_value=0, max_value=10**6),
    value=VALUES,
    blob=st.binary(min_size=1, max_size=40),
)
def test_any_mutation_gives_exit_0_or_2_and_file_line_messages(
    workdir: Path,
    target: str,
    structural: bool,
    tree_op: str,
    text_op: str,
    pick: int,
    pick2: int,
    value: Any,
    blob: bytes,
) -> None:
    raw = (REPO / target).read_bytes()
    content: bytes | None = None
    if structural:
        mutated = mutate_tree(raw.decode(), tree_op, pick, pick2, value)
        content = mutated.encode("utf-8", "surrogatepass") if mutated is not None else None
    if content is None:
        content = mutate_text(raw, text_op, pick, blob)
    config = _project(workdir, target, content)
    assert_contract(*run_validate(config))


def test_unmutated_small_project_is_valid(workdir: Path) -> None:
    config = _project(workdir, "smartflow.yaml", (REPO / "smartflow.yaml").read_bytes())
    code, stdout, stderr = run_validate(config)
    assert (code, stderr) == (0, "")


@pytest.mark.parametrize(
    ("target", "mutate"),
    [
        ("glossary/customer_metrics.yaml", lambda b: bytes(range(256)) * 4),
        ("smartflow.yaml", lambda b: b.replace(b"  silver.customers:", b"  silver.transactions:", 1)),
        ("expectations/silver/silver_transactions.yaml", lambda b: b.replace(b"kwargs: {", b"kwargs: [{", 1)),
        ("classifications/labels_and_rules.yaml", lambda b: b"- " + b.replace(b"\n", b"\n  ")),
        (
            "alerts/quality.yaml",
            lambda b: (
                b"a: &a [1,1,1,1,1,1,1,1,1,1]\n"
                + b"".join(
                    f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 10)}]\n".encode() for c in "bcdefgh"
                )
            ),
        ),
    ],
    ids=["random-bytes", "duplicate-dataset", "list-for-mapping", "top-level-list", "alias-bomb"],
)
def test_console_script_never_shows_a_traceback(tmp_path: Path, target: str, mutate: Any) -> None:
    dst = tmp_path / "p"
    for rel in {*BASE_FILES, target}:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, dst / rel)
    (dst / target).write_bytes(mutate((REPO / target).read_bytes()))
    proc = run_cli("--config", str(dst / "smartflow.yaml"), "validate", check=2)
    assert_contract(proc.returncode, proc.stdout, proc.stderr)
    assert any(line.startswith(target + ":") for line in proc.stderr.splitlines())
