"""Load httpcore without loading trio: cold start.

httpcore imports trio at import time whenever trio is installed (``httpcore._synchronization``),
~100 ms that a sync or asyncio call never uses. ``load_httpcore()`` imports httpcore with trio
hidden, then gives httpcore a stand-in that imports trio on first use: under trio (the only time
httpcore touches it) trio is already loaded, and the stand-in replaces itself with the module.

Called once, before reqbed creates its first httpx transport. If httpcore is already loaded (the
application imported it), nothing changes. Without trio installed, nothing changes either.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["load_httpcore"]

_lock = threading.Lock()


class _LazyTrio(ModuleType):
    """Stands in for ``httpcore._synchronization.trio`` until trio is needed."""

    def __init__(self, owner: ModuleType) -> None:
        super().__init__("trio")
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        import trio

        self._owner.trio = trio  # type: ignore[attr-defined]
        return getattr(trio, name)


def load_httpcore() -> None:
    if "httpcore" in sys.modules or "trio" in sys.modules:
        return
    with _lock:
        if "httpcore" in sys.modules or "trio" in sys.modules:
            return
        if importlib.util.find_spec("trio") is None:
            return
        sys.modules["trio"] = None  # type: ignore[assignment]  # ``import trio`` raises ImportError
        try:
            import httpcore._synchronization as sync
        finally:
            if sys.modules.get("trio", 0) is None:
                del sys.modules["trio"]
        if getattr(sync, "trio", 0) is None:
            sync.trio = _LazyTrio(sync)  # type: ignore[attr-defined]
