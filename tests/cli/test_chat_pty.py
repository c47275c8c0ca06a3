"""``reqbed chat MODEL`` without a prompt: an interactive session under a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from reqbed.testing import Emulator
from tests.cli.support import ROOT, cli_env, script

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


class Terminal:
    """The console script on a pty: what it wrote so far, and typing into it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [script(), *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, close_fds=True
        )
        os.close(slave)
        self.seen = b""
        self.pos = 0  # expect() looks only after what it matched last

    def expect(self, text: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        want = text.encode()
        while want not in self.seen[self.pos :]:
            left = end - time.monotonic()
            assert left > 0, f"{text!r} not seen in {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:  # the child closed the pty
                    data = b""
                if not data:
                    break
                self.seen += data
        at = self.seen.find(want, self.pos)
        assert at >= 0, f"{text!r} not seen in {self.seen!r}"
        self.pos = at + len(want)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(30)
        finally:
            os.close(self.master)


def _session(env: dict[str, str]) -> Terminal:
    term = Terminal(["chat", "nova-lite"], env)
    term.expect("you> ")
    term.type("first\n")
    term.expect("You said: first")
    term.expect("you> ")
    term.type("second\n")
    term.expect("You said: second")
    term.expect("you> ")
    term.type("\x04")  # Ctrl-D ends the session
    term.expect("session: ")
    return term


def test_interactive_session_keeps_history_and_totals(emulator: Emulator) -> None:
    term = _session(cli_env(emulator))
    assert term.close() == 0
    out = term.seen.decode()
    assert out.count("amazon.nova-lite-v1:0 · ") == 2  # usage and cost after each turn
    assert "session: " in out
    assert " out · $" in out
    assert "\x1b[1;36myou> " in out  # a terminal: the prompt is coloured
    turns = [json.loads(r["body"]) for r in emulator.requests if r["path"].endswith("/converse-stream")]
    assert len(turns) == 2
    second = turns[1]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]  # the first turn went along
    assert second[0]["content"][0]["text"] == "first"
    assert second[1]["content"][0]["text"] == "You said: first"


def test_no_color_is_honoured(emulator: Emulator) -> None:
    term = _session(cli_env(emulator, NO_COLOR="1"))
    assert term.close() == 0
    out = term.seen.decode()
    assert "you> " in out
    assert "\x1b[1;36m" not in out
    assert "\x1b[2m" not in out
    assert "\x1b[0m" not in out


def test_one_shot_on_a_terminal_streams(emulator: Emulator) -> None:
    term = Terminal(["chat", "nova-pro", "stream me"], cli_env(emulator))
    term.expect("You said: stream me")
    term.expect("$")
    assert term.close() == 0


def test_an_error_ends_the_turn_not_the_session(emulator: Emulator) -> None:
    emulator.inject("validation", 1, match="refuse this turn")
    term = Terminal(["chat", "nova-lite"], cli_env(emulator, NO_COLOR="1"))
    term.expect("you> ")
    term.type("refuse this turn\n")
    term.expect("reqbed: error: ValidationException")
    term.expect("you> ")
    term.type("then this one\n")
    term.expect("You said: then this one")
    term.expect("you> ")
    term.type("\n")  # an empty line ends the session
    term.expect("session: ")
    assert term.close() == 0
    turns = [r for r in emulator.requests if r["path"].endswith("/converse-stream")]
    assert "refuse this turn" not in turns[-1]["body"].decode()  # the failed turn left the history
