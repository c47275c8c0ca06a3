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
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall-clock, CPU user + system) seconds of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for cmd, e in commands.values():  # warm the file cache
            _time(cmd, e)
        for _ in range(args.repeat):
            for name, (cmd, e) in commands.items():
                times[name].append(_time(cmd, e))

    def med(name: str, i: int) -> float:
        return statistics.median(t[i] for t in times[name])

    ours, ours_cpu = med("reqbed models list", 0), med("reqbed models list", 1)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.repeat} runs")
    print(f"{'command':<48} {'wall':>9} {'min wall':>9} {'CPU':>9}  wall ratio  CPU ratio")
    for name, ts in times.items():
        wall, cpu, low = med(name, 0), med(name, 1), min(t[0] for t in ts)
        print(
            f"{name:<48} {wall * 1000:6.0f} ms {low * 1000:6.0f} ms {cpu * 1000:6.0f} ms"
            f"  {wall / ours:9.2f}x  {cpu / ours_cpu:8.2f}x"
        )
    print(f"\nreqbed models list: {ours * 1000:.0f} ms wall, {ours_cpu * 1000:.0f} ms CPU (target < 150 ms)")


if __name__ == "__main__":
    main()
