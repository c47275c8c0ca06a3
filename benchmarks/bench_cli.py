"""Benchmark: the ``reqbed`` command's start-up against the AWS CLI's (or boto3's import).

Run from the repository root with the project's virtualenv::

    python benchmarks/bench_cli.py [--repeat 15] [--aws PATH-TO-aws]

Times, as wall-clock medians over ``--repeat`` runs (the commands interleaved so they see the
same machine load), each a fresh process:

- ``reqbed models list`` (the console script): reads the bundled catalog, prints the table;
- ``python -m reqbed models list``;
- ``aws bedrock list-foundation-models`` against the bundled emulator (local, no network), when an
  AWS CLI is found (``--aws``, else ``aws`` on PATH): the AWS CLI's way to list Bedrock's models;
- ``python -c "import boto3"``: the floor of any boto3-based command line;
- ``python -c pass``: the interpreter's own start-up.

Target: ``reqbed models list`` under 150 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--aws", default=shutil.which("aws"), help="the AWS CLI executable")
    args = parser.parse_args()

    from reqbed.testing import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, Emulator

    script = shutil.which("reqbed", path=str(Path(sys.executable).parent))
    if script is None:
        sys.exit("the reqbed console script is not installed: pip install -e .")
    env = {**os.environ, "NO_COLOR": "1"}
    with Emulator() as emu:
        aws_env = {
            **env,
            "AWS_ACCESS_KEY_ID": EXAMPLE_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": EXAMPLE_SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "reqbed models list": ([script, "models", "list"], env),
            "python -m reqbed models list": ([sys.executable, "-m", "reqbed", "models", "list"], env),
            'python -c "import boto3"': ([sys.executable, "-c", "import boto3"], env),
            "python -c pass": ([sys.executable, "-c", "pass"], env),
        }
        if args.aws:
            aws = [args.aws, "bedrock", "list-foundation-models", "--endpoint-url", emu.endpoint_url]
            commands["aws bedrock list-foundation-models (emulator)"] = (aws, aws_env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for cmd, e in commands.values():  # warm the file cache
            _time(cmd, e)
        for _ in range(args.repeat):
            for name, (cmd, e) in commands.items():
                times[name].append(_time(cmd, e))

    ours = statistics.median(times["reqbed models list"])
    print(f"{'command':<50} {'median':>9} {'min':>9}  vs reqbed")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<50} {med * 1000:7.1f} ms {min(ts) * 1000:6.1f} ms  {med / ours:5.2f}x")
    print(f"\nreqbed models list: {ours * 1000:.0f} ms median (target < 150 ms)")


if __name__ == "__main__":
    main()
