"""The ``reqbed`` command line (``reqbed ...`` or ``python -m reqbed ...``): argparse, no extra dependency.

- ``_main.py``     the parser and the dispatch; errors become one line with the fix and a non-zero exit
- ``_output.py``   colour (off under ``NO_COLOR`` or when not a terminal), tables, JSON, the error line
- ``_models.py``   ``reqbed models list|find|show`` (the catalog only: no HTTP stack is imported)
- ``_calls.py``    ``chat``, ``object``, ``embed``, ``count-tokens``, ``key``, ``emulator``

It is an application on reqbed's public face: it imports only what ``reqbed`` exports (and
``reqbed.models`` / ``reqbed.testing``), each when its subcommand runs, so ``reqbed models list``
starts fast.
"""

from ._main import main

__all__ = ["main"]
