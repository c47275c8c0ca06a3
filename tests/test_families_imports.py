"""The family modules never import the registry (``reqbed._families``) back: the registry imports them,
so data flows down only. Every import counts, also those inside functions and under ``TYPE_CHECKING``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reqbed._families

PACKAGE = Path(reqbed._families.__file__).parent
MEMBERS = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")


def imported_modules(path: Path) -> set[str]:
    """Absolute names of what ``path`` imports (``from . import x`` is the submodule ``x`` when it is one)."""
    here = "reqbed._families"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(x for x in (base, node.module or "") if x)
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                is_submodule = module == here and (PACKAGE / f"{alias.name}.py").exists()
                out.add(sub if is_submodule else module)
    return out


@pytest.mark.parametrize("path", MEMBERS, ids=lambda p: p.name)
def test_no_family_module_imports_the_registry(path: Path) -> None:
    assert "reqbed._families" not in imported_modules(path)


def test_the_check_sees_a_lazy_import_of_the_registry(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from . import family_for\n    from ._common import bad_body\n")
    assert imported_modules(bad) == {"reqbed._families", "reqbed._families._common"}
