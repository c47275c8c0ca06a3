"""No import cycles in ``reqbed/``, counting every import: module level, inside functions, and under
``TYPE_CHECKING``.

Each module of the package is parsed with ``ast`` (never imported). An edge ``a -> b`` is drawn for
``import b`` and ``from b import x`` anywhere in ``a``; for ``from p import n`` the edge goes to the
submodule ``p.n`` when ``n`` is one, else to ``p``. Relative imports are resolved against ``a``'s
package. A cycle is printed as ``a -> b -> ... -> a``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO

PACKAGE = REPO / "reqbed"

#: Cycles that other branches of this change remove (the lead empties this set after merging
#: them). Each entry is ONE edge (importer, imported) that closes a cycle; an edge listed here is
#: dropped from the graph before the search. Do not add to it: remove the cycle instead.
KNOWN_CYCLES_BEING_REMOVED: set[tuple[str, str]] = set()  # empty: the package has no import cycle


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every ``reqbed`` module ``name`` imports, wherever the import statement sits."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            # ``import reqbed.x.y`` names reqbed.x.y; keep the longest known prefix
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (iterative depth-first search, three colours)."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in sorted(graph):
        if colour[root] != white:
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        path = [root]
        colour[root] = grey
        while stack:
            node, todo = stack[-1]
            if not todo:
                colour[node] = black
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop(0)
            if colour.get(nxt, black) == grey:
                return [*path[path.index(nxt) :], nxt]
            if colour.get(nxt) == white:
                colour[nxt] = grey
                path.append(nxt)
                stack.append((nxt, sorted(graph[nxt])))
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    for importer, imported in KNOWN_CYCLES_BEING_REMOVED:
        graph.get(importer, set()).discard(imported)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def reaches(graph: dict[str, set[str]], src: str, dst: str) -> bool:
    seen, todo = {src}, [src]
    while todo:
        for nxt in graph.get(todo.pop(), set()):
            if nxt == dst:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def test_the_allow_list_names_only_live_cycles() -> None:
    """An allowed edge must exist and close a cycle; once its cycle is gone it is stale: drop it."""
    graph = import_graph()
    stale = {
        (importer, imported)
        for importer, imported in KNOWN_CYCLES_BEING_REMOVED
        if imported not in graph.get(importer, set()) or not reaches(graph, imported, importer)
    }
    assert not stale, f"remove these from KNOWN_CYCLES_BEING_REMOVED: {sorted(stale)}"


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Module level, in a function, under TYPE_CHECKING, relative and absolute: all are edges."""
    pkg = tmp_path / "reqbed"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import X\n"
        "def f():\n    import reqbed.c\n    from .sub import d\n"
    )
    for name in ("b.py", "c.py", "sub/__init__.py", "sub/d.py"):
        (pkg / name).write_text("")
    (pkg / "sub" / "e.py").write_text("from .. import a\nfrom ..b import Y\n")
    known = {"reqbed", "reqbed.a", "reqbed.b", "reqbed.c", "reqbed.sub", "reqbed.sub.d", "reqbed.sub.e"}
    assert imports_of("reqbed.a", pkg / "a.py", known) == {"reqbed.b", "reqbed.c", "reqbed.sub.d"}
    assert imports_of("reqbed.sub.e", pkg / "sub" / "e.py", known) == {"reqbed.a", "reqbed.b"}


def test_a_cycle_is_found_and_printed() -> None:
    graph = {"m.a": {"m.b"}, "m.b": {"m.c"}, "m.c": {"m.a"}, "m.d": set()}
    assert find_cycle(graph) == ["m.a", "m.b", "m.c", "m.a"]
    assert find_cycle({"m.a": {"m.b"}, "m.b": set()}) is None
