"""Developer sessions: ``nox -s tests lint typecheck`` (and bench, soak, fuzz, record)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
@nox.parametrize("backend", ["asyncio", "trio"])
def tests(session: nox.Session, backend: str) -> None:
    """The suite, with the async tests on one anyio backend (plain ``pytest`` runs both)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs, env={"REQBED_ANYIO_BACKENDS": backend})


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "reqbed", "tests", "benchmarks")
    session.run("ruff", "format", "--check", "reqbed")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "reqbed")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against botocore/boto3 in the same run (prints ratios); the last one, against every peer."""
    session.install("-e", ".[dev]")
    session.install("aiobotocore", "anthropic[bedrock]", "litellm", "pydantic-ai-slim[bedrock]")
    scripts = (
        "bench_sigv4.py",
        "bench_eventstream.py",
        "bench_stream_path.py",
        "bench_client.py",
        "bench_peers.py",
        "bench_map.py",
    )
    for script in scripts:
        session.run("python", f"benchmarks/{script}")


@nox.session
def peers(session: nox.Session) -> None:
    """reqbed against every Python peer on the same emulator (benchmarks/bench_peers.py). The peers are
    installed only in this session's venv, never as reqbed's dependencies."""
    session.install("-e", ".")
    session.install("boto3", "aiobotocore", "anthropic[bedrock]", "litellm", "pydantic-ai-slim[bedrock]")
    session.run("python", "benchmarks/bench_peers.py", *session.posargs)


@nox.session
def record(session: nox.Session) -> None:
    """Record reqbed's own fixtures (fixtures/<family>/<scenario>.json) through reqbed's record mode.

    nox -s record -- [NAME ...]                 real Amazon Bedrock (needs AWS credentials; costs money)
    nox -s record -- --emulator [NAME ...]      the local emulator (no account); no NAME: regenerate all
    nox -s record -- --list                     the catalog

    A NAME is family/scenario (anthropic-converse/basic), a family, a scenario or a glob.
    ``nox -s record --no-venv -- ...`` uses the current environment.
    """
    if session.venv_backend != "none":
        session.install("-e", ".[dev]")
    session.run("python", "-m", "fixtures._record", *session.posargs, env={"REQBED_FIXTURES": "record"})


@nox.session
def soak(session: nox.Session) -> None:
    """Load and soak against the local emulator (loopback only, bounded): 1,000 concurrent streams,
    then 10,000 calls with 5 % injected faults (typed outcomes, no leaked connection, RSS growth < 10 %).
    ``nox -s soak -- --matrix`` prints the fault matrix of docs/reliability.md instead."""
    session.install("-e", ".[dev]")
    session.run("python", "benchmarks/soak.py", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Bad input at scale: 1,000,000 mutated event streams through the decoder and 2,000 hypothesis
    examples per parser test (the default suite runs a small version of the same tests)."""
    session.install("-e", ".[dev]")
    session.run(
        "pytest",
        "tests/families/test_parser_fuzz.py",
        "-q",
        "-s",
        *session.posargs,
        env={"REQBED_FUZZ_INPUTS": "1000000", "REQBED_FUZZ_EXAMPLES": "2000"},
    )


@nox.session
def bulk(session: nox.Session) -> None:
    """``reqbed.map`` at full size against the local emulator: 10,000 prompts, 5 % throttled, concurrency
    64 (the default suite runs the same test with 1,000)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", "tests/bulk", *session.posargs, env={"REQBED_BULK_ROWS": "10000"})
