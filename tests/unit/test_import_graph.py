"""Every arrow points one way (STYLE.md items 11 and 14): the modules of the lti_badger package,
with every import they hold (top level, inside functions, under TYPE_CHECKING), form no cycle.
A package's own `__init__` is not an arrow from its submodules: Python loads it first anyway."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lti_badger"


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The package modules one import statement loads: the longest known prefix of each name."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")[: len(module.split(".")) - node.level + (path.name == "__init__.py")]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix for alias in node.names]
    targets = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            targets.add(name)
    return targets


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(root)
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= _imported(module, path, node, modules)
        graph[module] = targets - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert "lti_badger.cli_context" in graph["lti_badger.credentials.cli"]
    assert "lti_badger.devtools.lms_sim.core" in graph["lti_badger.devtools.lms_sim.server"]
    rings = [{m: sorted(graph[m] & set(ring)) for m in ring} for ring in cycles(graph)]
    assert rings == []


def test_the_cli_context_is_a_leaf_below_every_command():
    graph = import_graph()
    assert not {m for m in graph["lti_badger.cli_context"] if m.endswith(".cli") or m == "lti_badger.cli"}


@pytest.mark.parametrize("source, ring", [
    ({"a.py": "from . import b\n", "b.py": "def f():\n    from .a import x\n"}, ["pkg.a", "pkg.b"]),
    ({"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
      "b.py": "from .c import C\n", "c.py": "import pkg.a\n"}, ["pkg.a", "pkg.b", "pkg.c"]),
    ({"__init__.py": "from .a import x\n", "a.py": "from . import b\n", "b.py": "x = 1\n"}, []),
    ({"sub/__init__.py": "", "sub/a.py": "from ..b import y\n", "b.py": "from .sub import a\n"},
     ["pkg.b", "pkg.sub.a"]),
])
def test_the_detector_finds_function_level_and_type_only_rings(tmp_path, source, ring):
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **source}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    assert cycles(import_graph(root)) == ([ring] if ring else [])
