"""``python -m gristmill``: the same entry point as the ``gristmill`` console script."""

from gristmill.cli import program

if __name__ == "__main__":
    program()
