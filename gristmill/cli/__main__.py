"""``python -m gristmill.cli``: the same entry point as ``gristmill`` and ``python -m gristmill``."""

import sys

from gristmill.cli import main

if __name__ == "__main__":
    sys.exit(main())
