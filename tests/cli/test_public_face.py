"""The command line is an application on reqbed's public face: it imports only what reqbed exports."""

from __future__ import annotations

import ast

from tests.support import REPO

CLI = REPO / "reqbed" / "_cli"
PUBLIC_MODULES = {"reqbed", "reqbed.models", "reqbed.testing", "reqbed.telemetry"}


def test_cli_imports_only_public_reqbed() -> None:
    seen = set()
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1:  # the CLI's own modules
                    continue
                assert node.level == 0, f"{path.name}: relative import out of the CLI"
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "reqbed":
                    seen.add(name)
                    assert name in PUBLIC_MODULES, f"{path.name} imports {name}"
    assert "reqbed" in seen
