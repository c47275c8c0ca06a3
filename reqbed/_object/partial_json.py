"""An incremental parser for streamed JSON: text deltas in, growing snapshots out. No I/O.

``feed(delta)`` advances a state machine over the new characters only (strings and numbers are
scanned with compiled regexes, not character by character), so a whole stream costs O(total
length), never a re-parse of the prefix per chunk. ``snapshot()`` returns the value parsed so far
as a valid JSON value (dicts, lists, strings, numbers, booleans, null):

- a string being streamed appears as its prefix (an unfinished escape is left out);
- a number, ``true``/``false``/``null``, or a key appears only once complete (``12`` might still
  become ``123``), so each snapshot *grows* the previous one: objects gain keys, arrays gain
  items, a partial string gets longer, nothing else changes;
- after the root value closes, the snapshot is that value, equal to ``json.loads`` of the text.

Cost of a snapshot: closed containers are shared between snapshots (never mutated once closed:
treat snapshots as read-only); the open ones (the path from the root to the cursor) are copied
shallowly, plus the partial string. For the usual answer (an object of fields) that is small, and
``changed()`` says yes after every piece that changed the value. When the open part is large (an
array of thousands of records still streaming), ``changed()`` waits until at least 1/16 of that
size in new characters has arrived, so copying stays under 16 elements per character streamed:
O(total) whatever the shape, with fewer, still growing, snapshots for huge values.

Invalid input never raises: ``failed`` turns True and the rest is ignored (the caller's final
validation reports it). ``skip_prose=True`` (``mode="json"``) skips anything before the first
``{`` or ``[`` (a code fence, a sentence); anything after the root value closes is ignored.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

__all__ = ["NOTHING", "PartialJSON"]


class _Nothing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"


#: "no value yet".
NOTHING: Final = _Nothing()

_WS = re.compile(r"[ \t\n\r]*")
_STRING_RUN = re.compile(r'[^"\\]*')
_NUMBER_RUN = re.compile(r"[-+0-9.eE]*")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}

# what comes next
_VALUE, _FIRST_KEY, _KEY, _COLON, _COMMA, _FIRST_VALUE, _DONE = range(7)
#: a snapshot copies at most this many elements per character fed since the last one (amortized)
_COPY_PER_CHAR = 16


class PartialJSON:
    """Feed text deltas; read ``snapshot()`` (see the module docstring)."""

    def __init__(self, *, skip_prose: bool = False) -> None:
        self.failed = False
        self._skip = skip_prose
        self._expect = _VALUE
        #: open containers, root first: [container, key-in-it-for-the-value-being-read]
        self._stack: list[list[Any]] = []
        self._root: Any = NOTHING
        # the token being read
        self._token: str | None = None  # "str", "key", "num", "lit"
        self._pieces: list[str] = []
        self._escape = ""
        self._high = ""  # a high surrogate waiting for its pair
        self._changed = False
        self._fed = 0  # characters fed since the last snapshot
        self._cost = 0  # elements the last snapshot copied

    @property
    def done(self) -> bool:
        """The root value is complete."""
        return self._expect == _DONE

    @property
    def value(self) -> Any:
        """The complete root value (``NOTHING`` until ``done``)."""
        return self._root

    def changed(self) -> bool:
        """Whether to take a snapshot now: it would differ from the last one, and (for a large open
        value) enough has streamed since to pay for copying it. Resets the flag when it says yes."""
        if not self._changed:
            return False
        if self._expect != _DONE and self._fed * _COPY_PER_CHAR < self._cost:
            return False
        self._changed = False
        return True

    # -- snapshots ---------------------------------------------------------------------------------

    def snapshot(self) -> Any:
        """The value parsed so far, or ``NOTHING`` before the root value has started."""
        if self._expect == _DONE:
            return self._root
        child: Any = NOTHING
        cost = 0
        if self._token == "str":
            child = "".join(self._pieces)
            cost = len(child) // 8
        self._fed = 0
        for frame in reversed(self._stack):
            cost += len(frame[0])
            container = frame[0]
            if type(container) is dict:
                copy: Any = dict(container)
                if child is not NOTHING and frame[1] is not None:
                    copy[frame[1]] = child
            else:
                copy = list(container)
                if child is not NOTHING:
                    copy.append(child)
            child = copy
        self._cost = cost
        return child

    # -- parsing -----------------------------------------------------------------------------------

    def feed(self, text: str) -> None:
        """Advance over ``text``. Never raises."""
        if self.failed or self._expect == _DONE or not text:
            return
        self._fed += len(text)
        if self._token == "str" and not self._escape and not self._high and '"' not in text and "\\" not in text:
            self._pieces.append(text)  # the whole piece is inside a string being streamed
            self._changed = True
            return
        try:
            self._feed(text)
        except (ValueError, msgspec.DecodeError):
            self.failed = True

    def close(self) -> None:
        """The text has ended: a number at the very end is complete now. Never raises."""
        if self._token == "num" and not self.failed:
            self._token = None
            try:
                self._deliver(msgspec.json.decode("".join(self._pieces)))
            except msgspec.DecodeError:
                self.failed = True

    def _fail(self) -> None:
        self.failed = True

    def _deliver(self, value: Any, *, fresh: bool = True) -> None:
        # ``fresh``: not visible in a snapshot before (numbers, literals); a closed string or
        # container already was
        self._changed = self._changed or fresh
        if not self._stack:
            self._root = value
            self._expect = _DONE
            return
        frame = self._stack[-1]
        if type(frame[0]) is dict:
            frame[0][frame[1]] = value
            frame[1] = None
        else:
            frame[0].append(value)
        self._expect = _COMMA

    def _feed(self, text: str) -> None:
        i, n = 0, len(text)
        while i < n:
            token = self._token
            if token is not None:
                i = self._continue_token(text, i)
                if self.failed:
                    return
                continue
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            if i >= n:
                return
            c = text[i]
            expect = self._expect
            if expect == _DONE:
                return
            if expect in (_VALUE, _FIRST_VALUE):
                if expect == _FIRST_VALUE and c == "]":
                    i += 1
                    self._close()
                    continue
                if self._skip and self._root is NOTHING and not self._stack and c not in "{[":
                    i += 1
                    continue
                i = self._start_value(text, i)
                if self.failed:
                    return
            elif expect in (_FIRST_KEY, _KEY):
                if c == '"':
                    self._token, self._pieces = "key", []
                    i += 1
                elif c == "}" and expect == _FIRST_KEY:
                    i += 1
                    self._close()
                else:
                    return self._fail()
            elif expect == _COLON:
                if c != ":":
                    return self._fail()
                self._expect = _VALUE
                i += 1
            else:  # _COMMA
                container = self._stack[-1][0]
                is_dict = type(container) is dict
                if c == ",":
                    self._expect = _KEY if is_dict else _VALUE
                elif c == ("}" if is_dict else "]"):
                    self._close()
                else:
                    return self._fail()
                i += 1

    def _close(self) -> None:
        container = self._stack.pop()[0]
        self._deliver(container, fresh=False)

    def _start_value(self, text: str, i: int) -> int:
        c = text[i]
        if c == "{":
            self._stack.append([{}, None])
            self._expect = _FIRST_KEY
            self._changed = True
            return i + 1
        if c == "[":
            self._stack.append([[], None])
            self._expect = _FIRST_VALUE
            self._changed = True
            return i + 1
        if c == '"':
            self._token, self._pieces = "str", []
            self._changed = True
            return i + 1
        if c == "-" or c.isdigit():
            self._token, self._pieces = "num", []
            return i
        if c in _LITERALS:
            self._token, self._pieces = "lit", []
            return i
        self._fail()
        return i

    def _continue_token(self, text: str, i: int) -> int:
        token = self._token
        if token in ("str", "key"):
            return self._continue_string(text, i)
        if token == "num":
            end = _NUMBER_RUN.match(text, i).end()  # type: ignore[union-attr]
            self._pieces.append(text[i:end])
            if end < len(text):  # the number ended here
                self._token = None
                self._deliver(msgspec.json.decode("".join(self._pieces)))
            return end
        # a literal
        word, value = _LITERALS["".join(self._pieces)[:1] or text[i]]
        have = "".join(self._pieces)
        take = text[i : i + len(word) - len(have)]
        have += take
        if not word.startswith(have):
            self._fail()
            return len(text)
        if have == word:
            self._token = None
            self._deliver(value)
        else:
            self._pieces = [have]
        return i + len(take)

    def _continue_string(self, text: str, i: int) -> int:
        n = len(text)
        pieces = self._pieces
        while i < n:
            if self._escape:
                if len(self._escape) == 1:
                    self._escape += text[i]
                    i += 1
                need = 6 if self._escape[1] == "u" else 2
                take = text[i : i + need - len(self._escape)]
                self._escape += take
                i += len(take)
                if len(self._escape) < need:
                    return i
                self._decode_escape()
                if self.failed:
                    return n
                continue
            end = _STRING_RUN.match(text, i).end()  # type: ignore[union-attr]
            if end > i:
                if self._high:
                    pieces.append(self._high)
                    self._high = ""
                pieces.append(text[i:end])
                if self._token == "str":
                    self._changed = True
            if end >= n:
                return n
            if text[end] == "\\":
                self._escape = "\\"
                i = end + 1
                continue
            # the closing quote
            if self._high:
                pieces.append(self._high)
                self._high = ""
            value = "".join(pieces)
            kind, self._token = self._token, None
            if kind == "key":
                self._stack[-1][1] = value
                self._expect = _COLON
            else:
                self._deliver(value, fresh=False)
            return end + 1
        return i

    def _decode_escape(self) -> None:
        esc, self._escape = self._escape, ""
        if esc[1] != "u":
            if esc[1] not in _ESCAPES:
                self._fail()
                return
            char = _ESCAPES[esc[1]]
        else:
            try:
                code = int(esc[2:], 16)
            except ValueError:
                self._fail()
                return
            char = chr(code)
            if 0xD800 <= code < 0xDC00:  # wait for the low half
                if self._high:
                    self._pieces.append(self._high)
                self._high = char
                return
            if 0xDC00 <= code < 0xE000 and self._high:
                char = (self._high + char).encode("utf-16", "surrogatepass").decode("utf-16")
                self._high = ""
        if self._high:
            self._pieces.append(self._high)
            self._high = ""
        self._pieces.append(char)
        if self._token == "str":
            self._changed = True
