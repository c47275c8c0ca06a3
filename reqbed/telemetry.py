"""OpenTelemetry for reqbed: a span and metrics per call, following the GenAI semantic conventions.

    pip install 'reqbed[otel]'          # opentelemetry-api; bring your own SDK and exporter

    import reqbed.telemetry
    reqbed.telemetry.enable()           # or set REQBED_OTEL=1 before `import reqbed`

Off by default. While off, reqbed never imports ``opentelemetry`` and a call pays one empty-list
check. ``enable()`` registers reqbed's observer with the core's call and attempt hooks
(``reqbed._hooks``); spans and metrics go to the global tracer and meter providers unless others
are given. Prompts and answers are recorded only with ``capture_content=True`` (or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``); credentials never. docs/observability.md
lists every attribute, event and metric.
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["CAPTURE_CONTENT_ENV", "ENABLE_ENV", "disable", "enable", "enabled"]

#: ``REQBED_OTEL=1`` (or ``true``) at ``import reqbed`` calls ``enable()`` with the global providers.
ENABLE_ENV = "REQBED_OTEL"
#: The GenAI instrumentations' switch for recording message content; ``capture_content`` overrides it.
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

_lock = threading.Lock()
_active: Any = None  # the _otel.Instrumentation while enabled


def enable(*, tracer_provider: Any = None, meter_provider: Any = None, capture_content: bool | None = None) -> None:
    """Record a span and metrics for every reqbed call from now on (again: replaces the settings).

    ``tracer_provider`` / ``meter_provider``: OpenTelemetry providers (default: the global ones, looked
    up at each call, so they may be set after this). ``capture_content``: record prompts and answers
    as ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (default: the
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` environment variable, else False).
    Raises ``ImportError`` naming the extra when ``opentelemetry-api`` is not installed."""
    global _active
    try:
        from . import _otel
    except ImportError as e:  # opentelemetry-api missing
        raise ImportError(f"reqbed.telemetry needs the OpenTelemetry API: pip install 'reqbed[otel]' ({e})") from None
    if capture_content is None:
        capture_content = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in ("1", "true", "yes")
    with _lock:
        if _active is not None:
            _active.uninstall()
        _active = _otel.Instrumentation(tracer_provider, meter_provider, capture_content=capture_content)
        _active.install()


def disable() -> None:
    """Stop recording (calls in flight finish their spans)."""
    global _active
    with _lock:
        if _active is not None:
            _active.uninstall()
            _active = None


def enabled() -> bool:
    return _active is not None


def _enable_from_env() -> None:
    """``REQBED_OTEL`` at import: enable, or warn (not fail) when the extra is missing."""
    try:
        enable()
    except ImportError as e:
        import warnings

        warnings.warn(f"{ENABLE_ENV} is set but {e}", RuntimeWarning, stacklevel=3)
