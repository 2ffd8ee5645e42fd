"""The console entry points of ``rdbtool`` and ``aoftool``.

They live outside the ``rdbtools`` package because importing it takes a tenth of a
second or more, and Ctrl-C in that time would end in a ``KeyboardInterrupt`` traceback:
here the SIGINT handler that exits quietly with 130 is installed before anything of
``rdbtools`` is imported. Once the command's module is loaded the usual handler is back,
and the commands' own error wrapper turns Ctrl-C into ``interrupted`` and exit 130
(removing any half-written output).
"""

from __future__ import annotations

import importlib
import signal
import sys
from types import FrameType

EXIT_INTERRUPTED = 130
"""128 + SIGINT, what a shell reports for a command ended by Ctrl-C."""


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(EXIT_INTERRUPTED)


def _run(module: str) -> None:
    """Import ``module`` with Ctrl-C ending the process quietly, then run its ``main``.
    A SIGINT that the parent set to be ignored stays ignored."""
    installed = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if installed:
        signal.signal(signal.SIGINT, _exit_quietly)
    main = importlib.import_module(module).main
    if installed:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())


def rdbtool() -> None:
    """``rdbtool``: ``rdbtools.cli.rdbtool.main``."""
    _run("rdbtools.cli.rdbtool")


def aoftool() -> None:
    """``aoftool``: ``rdbtools.cli.aoftool.main``."""
    _run("rdbtools.cli.aoftool")
