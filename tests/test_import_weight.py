"""``import reqbed`` stays light: no httpx, no botocore until they are needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_reqbed_imports_no_http_stack_and_no_botocore() -> None:
    code = (
        "import sys, reqbed\n"
        "heavy = [m for m in ('httpx', 'httpcore', 'botocore', 'aiobotocore', 'boto3') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert 'reqbed._catalog._store' not in sys.modules  # the model catalog loads on first use\n"
        "assert reqbed.Client.__name__ == 'Client' and 'httpx' in sys.modules  # loaded on first use\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
