"""``python -m physdl``: the CLI, plus ``--cmake-dir`` / ``--include-dir`` for C++ builds."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
