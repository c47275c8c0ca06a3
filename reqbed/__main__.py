"""``python -m reqbed ...``: the same as the ``reqbed`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
