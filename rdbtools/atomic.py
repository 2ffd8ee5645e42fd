"""Writing a file so that it is either untouched or complete: the one atomic-write
helper of the package (the command-line ``-o OUT``, ``convert`` to a path, the AOF
rewrite and repair).

The new content goes to a temporary file beside the target (beside the file a symlink
points to, so the link stays a link), which is flushed, given the mode a new file would
get, fsync-ed and renamed over the target; the directory is then fsync-ed so that the
rename is durable. On any failure, Ctrl-C included, the temporary file is removed and
the target is as it was. A target that exists and is not a regular file (``/dev/null``,
a FIFO, a terminal) is written in place: it cannot be replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

__all__ = ["atomic_file", "fsync_dir"]


def fsync_dir(directory: str) -> None:
    """fsync a directory so that renames and new names in it are durable."""
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _named(err: OSError, path: str | os.PathLike[str]) -> OSError:
    """``err`` naming ``path`` (the name the user gave, not the temporary file)."""
    return OSError(err.errno, err.strerror, os.fspath(path))


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, prefix: str | None = None,
                step: Callable[[str], None] | None = None) -> Iterator[BinaryIO]:
    """A binary file to write that replaces ``path`` when the block succeeds (see the
    module). ``prefix``: the temporary file's name prefix (default ``.<name>.``);
    ``step``: called with ``"temp-written"``, ``"temp-synced"`` and ``"renamed"`` as
    those points are passed (the crash tests hook in there)."""
    final = os.path.realpath(path)
    try:
        special = not stat.S_ISREG(os.stat(final).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(final, "wb") as fp:
            yield fp
        return
    directory = os.path.dirname(final)
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix or f".{os.path.basename(final)}.",
                                   suffix=".tmp", dir=directory)
    except OSError as err:
        raise _named(err, path) from None
    try:
        with os.fdopen(fd, "wb") as fp:
            yield fp
            fp.flush()
            if step is not None:
                step("temp-written")
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(fp.fileno(), 0o666 & ~mask)
            os.fsync(fp.fileno())
        if step is not None:
            step("temp-synced")
        try:
            os.replace(tmp, final)
        except OSError as err:
            raise _named(err, path) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if step is not None:
        step("renamed")
    with contextlib.suppress(OSError):
        fsync_dir(directory)
