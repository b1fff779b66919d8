"""The shape of the code: no import cycles, the CLI layer on top, no oversized module without a reason.

Imports are read with `ast` from every module of `governance/`, function-local and `TYPE_CHECKING`
imports included: a cycle hidden inside a function is still a cycle between two modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "governance"
MAX_LINES = 600
SIZE_REASON = "# size:"  # within the first lines of a module over MAX_LINES: why it stays whole
CLI_LAYER = ("governance.cli", "governance.commands")

# Cycles that are truly needed, as sorted tuples of module names, each with its reason. None today.
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {}


def module_files(package: Path) -> dict[str, Path]:
    """{dotted module name: file} of every module under `package` (a package is its __init__)."""
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph(package: Path) -> dict[str, set[str]]:
    """{module: modules of the same package it imports}, counting imports anywhere in the file."""
    modules = module_files(package)
    top = package.name

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                deps.update(known(a.name) for a in node.names if a.name.split(".")[0] == top)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != top:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"  # `from pkg import module` imports the module
                    deps.add(sub if sub in modules else known(target))
        graph[name] = {d for d in deps if d is not None and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    found.append(tuple(sorted(comp)))
    return found


def _in_cli_layer(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in CLI_LAYER)


# --------------------------------------------------------------------------------------------------
def test_no_import_cycle_between_governance_modules() -> None:
    found = [c for c in cycles(import_graph(PACKAGE)) if c not in ALLOWED_CYCLES]
    assert not found, "import cycles (function-local imports count): " + "; ".join(
        " <-> ".join(c) for c in found
    )


def test_allowed_cycles_still_exist() -> None:
    present = set(cycles(import_graph(PACKAGE)))
    stale = [c for c in ALLOWED_CYCLES if c not in present]
    assert not stale, f"allow-listed cycles that are gone, remove them: {stale}"


def test_only_the_cli_layer_imports_the_cli_layer() -> None:
    graph = import_graph(PACKAGE)
    offenders = sorted(
        f"{mod} imports {dep}"
        for mod, deps in graph.items()
        if not _in_cli_layer(mod)
        for dep in deps
        if _in_cli_layer(dep)
    )
    assert not offenders, offenders


def test_large_modules_say_why_near_their_top() -> None:
    offenders = []
    for path in module_files(PACKAGE).values():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(SIZE_REASON in line for line in lines[:40]):
            offenders.append(f"{path.relative_to(ROOT)}: {len(lines)} lines, no '{SIZE_REASON}' reason")
    assert not offenders, offenders


ENGINE_CLASSES = {"DuckDBEngine", "SQLEngine", "SparkEngine"}


def engine_class_checks(path: Path) -> list[int]:
    """Lines of `isinstance(x, <engine class>)` in a file: per-engine behaviour belongs to the class."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
        ):
            continue
        named = {
            n.id if isinstance(n, ast.Name) else n.attr
            for arg in node.args[1:]
            for n in ast.walk(arg)
            if isinstance(n, ast.Name | ast.Attribute)
        }
        if named & ENGINE_CLASSES:
            lines.append(node.lineno)
    return lines


def test_capabilities_do_not_branch_on_the_engine_class() -> None:
    lake = PACKAGE / "lake"
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in module_files(PACKAGE).values()
        if lake not in path.parents
        for line in engine_class_checks(path)
    ]
    assert not offenders, f"isinstance on an engine class outside governance/lake/: {offenders}"


def _names_a_dialect(node: ast.expr) -> bool:
    """`dialect`, `ctx.dialect`, `SPARK_DIALECTS`, `engine.dialect.name` …"""
    if isinstance(node, ast.Name):
        return "dialect" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "dialect" in node.attr.lower() or (node.attr == "name" and _names_a_dialect(node.value))
    return False


def _is_name_literal(node: ast.expr) -> bool:
    """A string, a tuple/list/set of strings, or a module constant (`_DUCKDB_ONLY`)."""
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return bool(node.elts) and all(_is_name_literal(e) for e in node.elts)
    return False


def dialect_name_comparisons(path: Path) -> list[int]:
    """Lines comparing a dialect's name (`ctx.dialect == "spark"`, `dialect in SPARK_DIALECTS`,
    `engine.dialect.name != "sqlite"`): what differs per engine is a class in governance/lake/dialects.py."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        if not all(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops):
            continue
        operands = [node.left, *node.comparators]
        named = [o for o in operands if _names_a_dialect(o)]
        others = [o for o in operands if not _names_a_dialect(o)]
        if len(named) > 1 or (named and any(_is_name_literal(o) for o in others)):
            lines.append(node.lineno)
    return lines


def test_capabilities_do_not_compare_dialect_names() -> None:
    lake = PACKAGE / "lake"
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in module_files(PACKAGE).values()
        if lake not in path.parents
        for line in dialect_name_comparisons(path)
    ]
    assert not offenders, (
        f"dialect names compared outside governance/lake/ (ask governance.lake.dialects): {offenders}"
    )


# the checks themselves, on a small package written for the purpose ---------------------------------
def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_cycle_through_a_function_local_import_is_found(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/runs.py": "from pkg.sub import report\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/report.py": "def latest():\n    from ..runs import x\n    return x\n",
            "pkg/leaf.py": "import pkg.runs\n",
        },
    )
    assert cycles(import_graph(pkg)) == [("pkg.runs", "pkg.sub.report")]


def test_relative_and_package_imports_resolve_to_modules(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from . import b\nfrom .c import name\nimport os\n",
            "pkg/b.py": "",
            "pkg/c/__init__.py": "from pkg.c.d import name\n",
            "pkg/c/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n",
        },
    )
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b", "pkg.c"}
    assert graph["pkg.c"] == {"pkg.c.d"}
    assert cycles(graph) == [("pkg.a", "pkg.c", "pkg.c.d")]


def test_an_engine_class_check_is_found(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "from governance.lake import engines\n"
        "def f(e):\n"
        "    if isinstance(e, int):\n"
        "        return 0\n"
        "    return isinstance(e, (engines.SparkEngine, str))\n",
        encoding="utf-8",
    )
    assert engine_class_checks(path) == [5]


def test_a_dialect_name_comparison_is_found(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "SPARK_DIALECTS = ('spark', 'databricks')\n"
        "def f(ctx, engine, dialect, name):\n"
        "    a = ctx.dialect == 'duckdb'\n"
        "    b = dialect in SPARK_DIALECTS\n"
        "    c = engine.dialect.name != 'sqlite'\n"
        "    d = self.ctx.dialect not in ('duckdb', 'postgres')\n"
        "    e = ctx.dialect not in _DUCKDB_ONLY\n"
        "    f = name == 'duckdb' or ctx.traits.rescans_cheaply or dialect_for(name) is None\n"
        "    return a, b, c, d, e, f, ctx.dialect\n",
        encoding="utf-8",
    )
    assert dialect_name_comparisons(path) == [3, 4, 5, 6, 7]
