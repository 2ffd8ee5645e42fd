"""Parse an RDB file with the old ``rdbtools`` 0.1.15 and do nothing with the events.

Run with the interpreter of ``benchmarks/.venv-oldrdbtools`` (``run.py`` does), never
with the project's own environment: both packages are imported as ``rdbtools``.
Usage: ``.venv-oldrdbtools/bin/python old_rdbtools_noop.py FILE``.
"""

import sys

from rdbtools import RdbCallback, RdbParser


class NoopCallback(RdbCallback):  # type: ignore[misc]
    """Every event method of ``RdbCallback`` in 0.1.15 is already a no-op; keep them."""

    def __init__(self) -> None:
        super().__init__(string_escape=None)


def main() -> None:
    RdbParser(NoopCallback()).parse(sys.argv[1])


if __name__ == "__main__":
    main()
