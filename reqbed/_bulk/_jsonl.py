"""``map_jsonl``: ``map`` from a JSONL file to a JSONL file, resumable.

Input: one JSON object a line, with an id (``id_field``, a string or an int, unique) and a prompt
(``prompt_field``: a string or a list of messages). The whole input is checked before any call.

Output: one line per finished call, written as it completes (completion order, not input order):
``{"id": ..., "ok": true, "text": ..., "finish_reason": ..., "usage": {...}, "cost": "0.0012", ...}``
or ``{"id": ..., "ok": false, "error": {"type": "ThrottlingError", "message": ..., "status": 429}}``.

Resuming: a rerun reads the output first and skips every id it already holds (with
``retry_failed=True``, ids whose rows are all errors run again, and a new row is appended: the last
row for an id wins). A line cut short by a crash (no final newline) is dropped before appending.

Durability: each line is handed to the OS (``write`` + ``flush``) as its call completes, so a crash
of the process (an exception, ``kill -9``) loses at most the calls in flight; the file is
``fsync``-ed every ``fsync_interval`` seconds and at the end, so a crash of the machine loses at
most that interval's rows. Lost rows are simply run again by the next resume.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO, Any

import msgspec

from .._errors import ReqbedError, ValidationError
from .._types import Response
from ._map import Caller, Progress, check, run, run_threads, verb
from ._result import MapStats

__all__ = ["amap_jsonl", "map_jsonl_sync", "read_done", "read_input", "row_of"]

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder(decimal_format="string")


def read_input(path: Path, id_field: str, prompt_field: str) -> list[tuple[Any, Any]]:
    """Every ``(id, prompt)`` of the input file, checked: bad lines raise ``ValidationError`` naming them."""
    items: list[tuple[Any, Any]] = []
    seen: set[Any] = set()
    with path.open("rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path.name} line {n}"
            try:
                row = _decoder.decode(line)
            except msgspec.DecodeError as e:
                raise ValidationError(f"{where}: not JSON ({e})") from None
            if not isinstance(row, dict):
                raise ValidationError(f"{where}: expected a JSON object")
            key = row.get(id_field)
            if type(key) not in (str, int):
                raise ValidationError(f"{where}: {id_field!r} must be a string or an int, got {key!r}")
            if key in seen:
                raise ValidationError(f"{where}: duplicate {id_field} {key!r}")
            if prompt_field not in row:
                raise ValidationError(f"{where}: no {prompt_field!r}")
            seen.add(key)
            items.append((key, row[prompt_field]))
    return items


def read_done(path: Path, retry_failed: bool) -> set[Any]:
    """The ids the output already holds (ok ones only with ``retry_failed``); drops a cut-off last line."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):  # a line cut short by a crash
        with path.open("r+b") as f:
            f.truncate(end)
    ok: set[Any] = set()
    failed: set[Any] = set()
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            row = _decoder.decode(line)
        except msgspec.DecodeError:
            continue
        if isinstance(row, dict) and "id" in row:
            (ok if row.get("ok") else failed).add(row["id"])
    return ok if retry_failed else ok | failed


def row_of(key: Any, result: Any) -> dict[str, Any]:
    """The output row of one finished call."""
    if isinstance(result, ReqbedError):
        error = {"type": type(result).__name__, "message": str(result), "status": getattr(result, "status", None)}
        return {"id": key, "ok": False, "error": error}
    row: dict[str, Any] = {"id": key, "ok": True}
    response = result if isinstance(result, Response) else getattr(result, "response", None)
    if hasattr(result, "object"):
        row["object"] = msgspec.to_builtins(result.object)
    if hasattr(result, "vectors"):
        row["vectors"] = result.vectors
    if isinstance(response, Response):
        row["text"] = response.text
        if response.tool_calls:
            row["tool_calls"] = msgspec.to_builtins(response.tool_calls)
        row["finish_reason"] = response.finish_reason
        row["served_by"] = response.served_by
        row["cost"] = response.cost.total
    usage = getattr(result, "usage", None)
    if usage is not None:
        row["usage"] = msgspec.to_builtins(usage)
    return row


class _Writer:
    def __init__(self, f: IO[bytes], fsync_interval: float) -> None:
        self.f = f
        self.interval = fsync_interval
        self.synced = time.monotonic()

    def __call__(self, key: Any, result: Any) -> None:
        self.f.write(_encoder.encode(row_of(key, result)) + b"\n")
        self.f.flush()
        if time.monotonic() - self.synced >= self.interval:
            self.sync()

    def sync(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.synced = time.monotonic()


class _Job:
    """One ``map_jsonl`` checked and planned (before any call): the rows still to do, and the output."""

    def __init__(
        self,
        in_path: str | os.PathLike[str],
        out_path: str | os.PathLike[str],
        *,
        id_field: str = "id",
        prompt_field: str = "prompt",
        concurrency: int = 16,
        retry_failed: bool = False,
        fsync_interval: float = 1.0,
        operation: str = "text",
        on_progress: Progress | None = None,
    ) -> None:
        check(concurrency, True, operation)
        if type(fsync_interval) not in (int, float) or fsync_interval < 0:
            raise ValidationError(f"fsync_interval must be a number of seconds >= 0, got {fsync_interval!r}")
        if type(retry_failed) is not bool:
            raise ValidationError(f"retry_failed must be a bool, got {retry_failed!r}")
        self.operation = operation
        self.concurrency = concurrency
        self.on_progress = on_progress
        self.fsync_interval = float(fsync_interval)
        self.target = Path(out_path)
        items = read_input(Path(in_path), id_field, prompt_field)
        done = read_done(self.target, retry_failed)
        self.todo = [item for item in items if item[0] not in done]
        self.skipped = len(items) - len(self.todo)

    def kwargs(self) -> dict[str, Any]:
        return {
            "total": len(self.todo),
            "concurrency": self.concurrency,
            "return_exceptions": True,
            "on_progress": self.on_progress,
        }


_JOB_OPTIONS = (
    "id_field",
    "prompt_field",
    "concurrency",
    "retry_failed",
    "fsync_interval",
    "operation",
    "on_progress",
)


def _split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    job = {k: kwargs.pop(k) for k in _JOB_OPTIONS if k in kwargs}
    return job, kwargs


async def amap_jsonl(
    client: Caller, model: str, in_path: str | os.PathLike[str], out_path: str | os.PathLike[str], **kwargs: Any
) -> MapStats:
    """``Client.amap_jsonl``: see ``reqbed.map_jsonl``."""
    options, opts = _split(dict(kwargs))
    job = _Job(in_path, out_path, **options)
    call = verb(client, model, job.operation, opts, sync=False)
    with job.target.open("ab") as f:
        writer = _Writer(f, job.fsync_interval)
        try:
            stats = await run(call, iter(job.todo), writer, **job.kwargs())
        finally:
            writer.sync()
    stats.skipped = job.skipped
    return stats


def map_jsonl_sync(
    client: Caller, model: str, in_path: str | os.PathLike[str], out_path: str | os.PathLike[str], **kwargs: Any
) -> MapStats:
    """``Client.map_jsonl``: see ``reqbed.map_jsonl`` (threads, as the sync ``map``)."""
    options, opts = _split(dict(kwargs))
    job = _Job(in_path, out_path, **options)
    call = verb(client, model, job.operation, opts, sync=True)
    with job.target.open("ab") as f:
        writer = _Writer(f, job.fsync_interval)
        try:
            stats = run_threads(call, iter(job.todo), writer, **job.kwargs())
        finally:
            writer.sync()
    stats.skipped = job.skipped
    return stats
