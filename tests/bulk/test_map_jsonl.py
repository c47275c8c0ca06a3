"""``reqbed.map_jsonl``: file to file, each row written as it completes, resumable; a killed run
resumed loses nothing and repeats only the rows that were in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import reqbed
from reqbed.testing import Emulator
from tests.bulk.conftest import connections_closed

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
ROOT = Path(__file__).resolve().parents[2]


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def write_input(path: Path, n: int) -> None:
    path.write_text("".join(json.dumps({"id": f"r{i}", "prompt": f"row {i}"}) + "\n" for i in range(n)))


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def requested_rows(emu: Emulator) -> list[str]:
    out = []
    for r in emu.requests:
        text = r["body"].decode()
        start = text.index('"row ') + 5
        out.append("r" + text[start : text.index('"', start)])
    return out


def test_writes_every_row_with_its_id(emu: Emulator, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(src, 40)
    emu.inject("access_denied", 1, match='row 9"')
    with reqbed.Client() as client:
        stats = client.map_jsonl(MODEL, str(src), str(dst), concurrency=8, provider_options=po(emu))
    got = {r["id"]: r for r in rows(dst)}
    assert len(rows(dst)) == 40
    assert sorted(got) == sorted(f"r{i}" for i in range(40))
    assert got["r3"]["ok"] is True
    assert got["r3"]["text"] == "You said: row 3"
    assert got["r3"]["usage"]["input_tokens"] > 0
    assert got["r9"] == {
        "id": "r9",
        "ok": False,
        "error": {"type": "AccessDeniedError", "message": got["r9"]["error"]["message"], "status": 403},
    }
    assert (stats.succeeded, stats.failed, stats.skipped) == (39, 1, 0)
    assert connections_closed(emu)


def test_rerun_skips_the_ids_done(emu: Emulator, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(src, 20)
    emu.inject("access_denied", 1, match='row 4"')
    reqbed.map_jsonl(MODEL, str(src), str(dst), provider_options=po(emu))
    emu.reset()
    stats = reqbed.map_jsonl(MODEL, str(src), str(dst), provider_options=po(emu))
    assert (stats.total, stats.skipped) == (0, 20)
    assert emu.requests == []
    assert len(rows(dst)) == 20
    # retry_failed: the failed id runs again and its new row is appended (the last row wins)
    stats = reqbed.map_jsonl(MODEL, str(src), str(dst), retry_failed=True, provider_options=po(emu))
    assert (stats.total, stats.succeeded, stats.skipped) == (1, 1, 19)
    assert requested_rows(emu) == ["r4"]
    assert [r["ok"] for r in rows(dst) if r["id"] == "r4"] == [False, True]


def test_a_cut_off_last_line_is_dropped_and_run_again(emu: Emulator, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(src, 3)
    dst.write_text('{"id": "r0", "ok": true, "text": "You said: row 0"}\n{"id": "r1", "ok": tr')
    reqbed.map_jsonl(MODEL, str(src), str(dst), provider_options=po(emu))
    assert sorted(requested_rows(emu)) == ["r1", "r2"]
    assert sorted(r["id"] for r in rows(dst)) == ["r0", "r1", "r2"]


@pytest.mark.anyio
async def test_amap_jsonl_with_int_ids_and_other_fields(emu: Emulator, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(
        "".join(json.dumps({"n": i, "q": [{"role": "user", "content": f"row {i}"}]}) + "\n" for i in range(6))
    )
    stats = await reqbed.amap_jsonl(MODEL, src, dst, id_field="n", prompt_field="q", provider_options=po(emu))
    assert stats.succeeded == 6
    assert sorted((r["id"], r["text"]) for r in rows(dst)) == [(i, f"You said: row {i}") for i in range(6)]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "prompt": "x"}', '{"id": "a", "prompt": "y"}'], "line 2: duplicate id 'a'"),
        (['{"id": "a", "prompt": "x"}', "not json"], "line 2: not JSON"),
        (['{"prompt": "x"}'], "line 1: 'id' must be a string or an int"),
        (['{"id": 1.5, "prompt": "x"}'], "line 1: 'id' must be"),
        (['{"id": "a"}'], "line 1: no 'prompt'"),
        (["[1, 2]"], "line 1: expected a JSON object"),
    ],
)
def test_bad_input_raises_before_any_request(emu: Emulator, tmp_path: Path, lines: list[str], message: str) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(lines) + "\n")
    with pytest.raises(reqbed.ValidationError, match=message):
        reqbed.map_jsonl(MODEL, str(src), str(dst), provider_options=po(emu))
    assert emu.requests == []
    assert not dst.exists() or dst.read_text() == ""


_CHILD = f"""
import json, sys
import reqbed
src, dst, opts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
reqbed.map_jsonl("{MODEL}", src, dst, concurrency=8, provider_options=opts)
"""


def test_kill_and_resume_loses_nothing_and_repeats_only_rows_in_flight(emu: Emulator, tmp_path: Path) -> None:
    n = 3000
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(src, n)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(src), str(dst), json.dumps(po(emu))],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and child.poll() is None:
            if dst.exists() and dst.stat().st_size > 0 and len(dst.read_bytes().splitlines()) >= 200:
                break
            time.sleep(0.01)
        assert child.poll() is None, "the child finished before it could be killed: raise n"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    data = dst.read_bytes()
    kept = data[: data.rfind(b"\n") + 1]  # a line the kill cut short is not a finished row
    before = {json.loads(line)["id"] for line in kept.splitlines()}
    assert 200 <= len(before) < n
    sent_before = requested_rows(emu)

    stats = reqbed.map_jsonl(MODEL, str(src), str(dst), concurrency=8, provider_options=po(emu))

    final = rows(dst)
    ids = [r["id"] for r in final]
    assert sorted(ids) == sorted(f"r{i}" for i in range(n))  # every row, once
    assert all(r["ok"] for r in final)
    assert stats.skipped == len(before)
    sent_after = requested_rows(emu)[len(sent_before) :]
    assert not set(sent_after) & before  # no finished row was sent again
    repeated = set(sent_before) & set(sent_after)  # sent before the kill and again: those in flight
    assert len(repeated) <= 8
    assert set(sent_before) | set(sent_after) == {f"r{i}" for i in range(n)}
    # (a row may be sent twice within one run: a retry after a dropped keep-alive connection is reqbed's own)
