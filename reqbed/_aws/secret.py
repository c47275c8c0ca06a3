"""Holders for secret strings whose ``repr`` never shows them, and a safe echo of user input.

Tracebacks rendered with their locals (``traceback.TracebackException(capture_locals=True)``,
rich and pretty tracebacks, error trackers such as Sentry) call ``repr`` on every local variable
of every frame. reqbed's signing code therefore never holds a signed header (``Authorization:
Bearer <key>``, ``X-Amz-Security-Token``) in a plain ``str`` or ``dict`` local: ``sign_for``
returns ``SignedHeaders``, whose values are ``Secret`` objects until the moment they are written
into the outgoing request.

``Secret`` is deliberately *not* a ``str`` subclass: slicing a ``str`` subclass gives a plain
``str``, and rich shortens long locals by slicing them.

``shown(value)`` is how an error message may echo a value the caller gave where a secret could
have been pasted by mistake (a region, a key name): short lowercase names are shown as given,
anything else only as its length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

__all__ = ["Secret", "SignedHeaders", "shown"]


class Secret:
    """A secret string. ``repr``/``str`` show only its length; ``reveal()`` returns the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"<redacted:{len(self._value)}>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a reqbed Secret cannot be pickled")


class SignedHeaders(Mapping[str, str]):
    """The auth headers of one signed attempt. Reads as a plain ``Mapping[str, str]`` (the values
    revealed); its ``repr`` shows the header names only, and ``secrets()`` iterates without
    revealing."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._items = {name: Secret(value) for name, value in headers.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name].reveal()

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def secrets(self) -> Iterator[tuple[str, Secret]]:
        """``(name, Secret)`` pairs: values stay wrapped in the caller's locals."""
        return iter(self._items.items())

    def __repr__(self) -> str:
        return f"SignedHeaders({', '.join(f'{n}=<redacted>' for n in self._items)})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("reqbed SignedHeaders cannot be pickled")


_NAME_LIKE = re.compile(r"[a-z0-9_-]{0,32}")


def shown(value: object) -> str:
    """``value`` for an error message: a short lowercase name (``'us-eest-1'``) as its ``repr``,
    anything that might be a pasted secret as ``<redacted: 40 characters>``."""
    if isinstance(value, str) and _NAME_LIKE.fullmatch(value):
        return repr(value)
    if isinstance(value, str):
        return f"<redacted: {len(value)} characters>"
    return f"<a {type(value).__name__}>"
