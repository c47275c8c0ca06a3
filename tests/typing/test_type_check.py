"""User code type-checks: ``user_app.py`` (written from the docs) has 0 errors under ``mypy --strict`` and
``pyright`` (strict), and the mistakes in ``bad_calls.py`` (a misspelt option, ``temperature="hot"``, a
misspelt provider option, an unknown ``reasoning_effort``, a chunk read without narrowing, a misspelt attribute
of ``generate_object(..., SomeClass).object``, an unknown ``mode``) ARE errors.

Both checkers run on copies in a temporary directory, against the installed ``reqbed`` (its ``py.typed``),
with Python 3.10 as the target (reqbed's lowest). pyright is skipped, with the reason, when it cannot run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FILES = ("user_app.py", "bad_calls.py")

#: line in bad_calls.py -> what each checker must say there
EXPECTED_MYPY = {
    7: 'Unexpected keyword argument "max_token" for "generate_text"',
    8: 'Argument "temperature" to "generate_text" has incompatible type "str"; expected "float"',
    9: 'Extra key "regoin" for TypedDict "ProviderOptions"',
    10: 'Argument "reasoning_effort" to "generate_text" has incompatible type "Literal[\'extreme\']"',
    13: 'Item "UsageChunk" of',
    14: 'Unexpected keyword argument "dimensoins" for "embed"',
    15: 'Argument "estimate" to "count_tokens" has incompatible type "str"; expected "bool"',
    16: '"Usage" has no attribute "input_tokenz"',
    17: 'No overload variant of "generate_object" matches argument types',
}
EXPECTED_PYRIGHT = {
    7: 'No parameter named "max_token"',
    8: '"Literal[\'hot\']" is not assignable to "float"',
    9: '"regoin" is an undefined item in type "ProviderOptions"',
    10: 'cannot be assigned to parameter "reasoning_effort"',
    13: 'Cannot access attribute "text" for class "UsageChunk"',
    14: 'No parameter named "dimensoins"',
    15: '"Literal[\'yes\']" is not assignable to "bool"',
    16: 'Cannot access attribute "input_tokenz" for class "Usage"',
    17: 'cannot be assigned to parameter "mode"',
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("typing")
    for name in FILES:
        shutil.copy(HERE / name, where / name)
    return where


def _by_line(errors: list[tuple[str, int, str]], file: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for f, line, message in errors:
        if f == file:
            out.setdefault(line, []).append(message)
    return out


def _check(errors: list[tuple[str, int, str]], expected: dict[int, str]) -> None:
    assert _by_line(errors, "user_app.py") == {}, "the documented usage must type-check"
    bad = _by_line(errors, "bad_calls.py")
    assert set(bad) == set(expected), bad
    for line, text in expected.items():
        assert any(text in message for message in bad[line]), (line, bad[line])


def test_mypy_strict(workdir: Path) -> None:
    cmd = [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10", "--no-error-summary"]
    cmd += ["--cache-dir", str(workdir / ".mypy_cache"), *FILES]
    run = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode in (0, 1), run.stderr
    errors = [
        (m["file"], int(m["line"]), m["message"])
        for m in (
            re.match(r"^(?P<file>[\w.]+):(?P<line>\d+): error: (?P<message>.*)$", x) for x in run.stdout.splitlines()
        )
        if m
    ]
    _check(errors, EXPECTED_MYPY)


def _pyright() -> list[str] | str:
    """The command to run pyright, or why it cannot run here."""
    cmd = [sys.executable, "-m", "pyright"]
    try:
        probe = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"pyright cannot run: {e}"
    if probe.returncode != 0 or "pyright" not in probe.stdout:
        return f"pyright is not installed or cannot start (it needs node): {(probe.stderr or probe.stdout)[-300:]}"
    return cmd


def test_pyright_strict(workdir: Path) -> None:
    cmd = _pyright()
    if isinstance(cmd, str):
        pytest.skip(cmd)
    (workdir / "pyrightconfig.json").write_text(json.dumps({"typeCheckingMode": "strict", "pythonVersion": "3.10"}))
    run = subprocess.run(
        [*cmd, "--outputjson", "--pythonpath", sys.executable, *FILES],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(run.stdout)
    errors = [
        (Path(d["file"]).name, d["range"]["start"]["line"] + 1, d["message"])
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    _check(errors, EXPECTED_PYRIGHT)
