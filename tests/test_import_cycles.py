"""No import cycles among the project's own modules.

Every module of ``rag/``, ``ui/``, ``app_pages/`` and ``app.py`` is parsed with
``ast`` (nothing is imported), and every import in it counts: module level,
inside functions, under ``TYPE_CHECKING``, ``from pkg import module`` and
relative forms. An import names the most specific project module it reaches
(``from rag.store import index`` → ``rag.store.index``; ``from rag.errors import
RagError`` → ``rag.errors``); the parent packages it also runs are not edges.
Each strongly connected component of more than one module is a cycle. Third-party
imports are ignored.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("rag", "ui", "app_pages", "app.py")


def module_files(root: Path, sources: tuple[str, ...] = SOURCES) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under ``sources`` (files or folders) in ``root``."""
    out: dict[str, Path] = {}
    for source in sources:
        base = root / source
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Every dotted name ``node`` may import (a module, or a module plus the name taken from it)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([base] if base else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = _imported(node, module, is_package)
            if isinstance(node, ast.ImportFrom):  # `from pkg import mod` reaches mod; else the module itself
                targets = [n for n in names[1:] if n in files] or ([names[0]] if names[0] in files else [])
            else:
                targets = [n for n in names if n in files]
            edges |= {t for t in targets if t != module}
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_no_import_cycles() -> None:
    graph = import_graph(module_files(ROOT))
    assert len(graph) > 50 and "rag.store.index" in graph and "app" in graph  # the scan found the project
    assert sum(map(len, graph.values())) > 100
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join("  " + " <-> ".join(c) for c in found)


def test_detector_finds_function_local_and_relative_cycles(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg.sub import b\n    return b\n")
    (pkg / "sub" / "b.py").write_text("from .. import a\n")
    (pkg / "c.py").write_text("import pkg.a\nfrom . import d\n")
    (pkg / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import x\n")
    (pkg / "e.py").write_text("import os\nfrom pkg.a import f\n")  # imports into a cycle, is not in one
    graph = import_graph(module_files(tmp_path, ("pkg",)))
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"], ["pkg.c", "pkg.d"]]
