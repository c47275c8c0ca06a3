"""The ``reqbed`` logger: DEBUG per attempt, WARNING per retry and fallback; no secret, no prompt text."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import reqbed
from reqbed._retry import RetryPolicy
from reqbed.testing import Emulator

MODEL = "bedrock:anthropic.claude-3-7-sonnet-20250219-v1:0"
OTHER = "bedrock:amazon.nova-lite-v1:0"
PROMPT = "a private prompt 4711"


def po(emu: Emulator) -> dict[str, Any]:
    return {**emu.provider_options(), "use_converse": True}


def _texts(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "reqbed"]


def test_a_successful_call_logs_its_attempt_at_debug(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="reqbed")
    reqbed.generate_text(MODEL, PROMPT, provider_options=po(emulator))  # type: ignore[arg-type]
    texts = _texts(caplog)
    assert (logging.DEBUG, f"reqbed: attempt 1: POST {MODEL}") in texts
    ok = [t for lvl, t in texts if t.startswith(f"reqbed: attempt 1 of {MODEL}: ok in ")]
    assert len(ok) == 1
    assert float(ok[0].split(" in ")[1].split()[0]) > 0


def test_retries_and_fallbacks_warn_without_secrets_or_prompt(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="reqbed")
    emulator.inject("throttling", 10, match=PROMPT)
    options = po(emulator)
    with reqbed.Client(retry_policy=RetryPolicy(base=0.0, cap=0.0)) as client, pytest.raises(reqbed.ThrottlingError):
        client.generate_text(MODEL, PROMPT, max_retries=1, fallbacks=[{"model": OTHER}], provider_options=options)  # type: ignore[arg-type]
    texts = _texts(caplog)
    warnings = [t for lvl, t in texts if lvl == logging.WARNING]
    assert any(w.startswith(f"reqbed: retry 1 of {MODEL} in 0.000 s after ThrottlingError: ") for w in warnings)
    assert f"reqbed: {MODEL} failed (ThrottlingError); falling back to {OTHER}" in warnings
    assert any(t.startswith(f"reqbed: attempt 1 of {MODEL}: ThrottlingError (status 429)") for _, t in texts)
    assert (logging.DEBUG, f"reqbed: giving up on {OTHER} after 2 attempt(s)") in texts
    everything = " ".join(t for _, t in texts)
    assert PROMPT not in everything
    assert options["secret_access_key"] not in everything
    assert options["access_key_id"] not in everything


def test_the_logger_has_a_null_handler() -> None:
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("reqbed").handlers)
