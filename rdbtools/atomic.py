"""Writing a file so that it is either untouched or complete: the one atomic-write
helper of the package (the command-line ``-o OUT``, ``convert`` to a path, the AOF
rewrite and repair).

The new content goes to a temporary file beside the target (beside the file a symlink
points to, so the link stays a link), which is flushed, given the mode a new file would
get, fsync-ed and renamed over the target; the directory is then fsync-ed so that the
rename is durable. On any failure, Ctrl-C included, the temporary file is removed and
the target is as it was. A target that exists and is not a regular file (``/dev/null``,
a FIFO, a terminal) is written in place: it cannot be replaced.

The temporary file (``<prefix><random>.tmp``, ``make_temp``) is held under an exclusive
``flock`` while it is written. A writer killed outright (SIGKILL, a power cut) cannot
remove its own, but its lock dies with it: before a new one is made, the files of the
same prefix that nobody holds are removed (``sweep_temps``); one being written (another
writer of the same target) is left alone. A write
that fails for want of space (ENOSPC, EDQUOT, EFBIG), which names no file, is reported
naming the target.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

__all__ = ["atomic_file", "fsync_dir", "hold", "make_temp", "name_write_error", "new_file_mode",
           "seal", "sweep_temps", "write_temp"]

_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""A write that failed for want of room: the message must say where."""


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


def name_write_error(err: OSError, path: str | os.PathLike[str]) -> OSError:
    """``err`` naming ``path`` when it is a failure for want of space that names no file
    (a buffered write or an ``fsync`` does not say which file it was); any other error
    as it is."""
    if err.errno in _NO_SPACE and err.filename is None:
        return OSError(err.errno, err.strerror or os.strerror(err.errno), os.fspath(path))
    return err


def hold(fd: int) -> None:
    """Mark the temporary file open on ``fd`` as being written: an exclusive ``flock``,
    which ``sweep_temps`` respects and which dies with the process."""
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def sweep_temps(directory: str, prefix: str) -> list[str]:
    """Remove the files of ``directory`` named ``<prefix>*.tmp`` whose writer is gone
    (nobody holds their ``flock``: the lock dies with the process that held it); return
    their names."""
    try:
        names = sorted(n for n in os.listdir(directory or ".")
                       if n.startswith(prefix) and n.endswith(".tmp"))
    except OSError:
        return []
    gone = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if not os.path.samestat(os.fstat(fd), os.lstat(path)):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a writer is at work
            os.unlink(path)
            gone.append(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    if gone:
        with contextlib.suppress(OSError):
            fsync_dir(directory)
    return gone


def make_temp(directory: str, prefix: str) -> tuple[int, str]:
    """A new temporary file ``<prefix><random>.tmp`` in ``directory``, held (``hold``),
    as ``tempfile.mkstemp`` returns it ``(fd, path)``, after ``sweep_temps`` removed
    the ones of killed writers."""
    sweep_temps(directory, prefix)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory or None)
    hold(fd)
    return fd, tmp


def new_file_mode(mode: int = 0o666) -> int:
    """``mode`` as ``open(2)`` would create a file with it: less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def seal(fp: BinaryIO, mode: int, step: Callable[[str], None] | None = None) -> None:
    """Make the temporary file ``fp`` complete: flushed, (``step("temp-written")``),
    given ``mode``, fsync-ed."""
    fp.flush()
    if step is not None:
        step("temp-written")
    os.fchmod(fp.fileno(), mode)
    os.fsync(fp.fileno())


def write_temp(directory: str, prefix: str, fill: Callable[[BinaryIO], None], *,
               mode: int, step: Callable[[str], None] | None = None
               ) -> tuple[str, BinaryIO]:
    """A complete temporary file (``make_temp``, ``fill(fp)``, ``seal``) left open, and
    so still held against ``sweep_temps``, for the caller to rename and close (several
    files renamed together); removed when anything fails."""
    fd, tmp = make_temp(directory, prefix)
    fp = os.fdopen(fd, "wb")
    try:
        fill(fp)
        seal(fp, mode, step)
    except BaseException:
        fp.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp, fp


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, prefix: str | None = None,
                mode: int | None = None, step: Callable[[str], None] | None = None,
                before_replace: Callable[[str], None] | None = None) -> Iterator[BinaryIO]:
    """A binary file to write that replaces ``path`` when the block succeeds (see the
    module). ``prefix``: the temporary file's name prefix (default ``.<name>.``);
    ``mode``: the file's permission bits (default: a new file's, ``new_file_mode()``);
    ``step``: called with ``"temp-written"``, ``"temp-synced"`` and ``"renamed"`` as
    those points are passed (the crash tests hook in there); ``before_replace(temp)``:
    called with the complete, fsync-ed temporary file's path just before the rename (to
    read it back, to keep the original); an exception there leaves ``path`` as it was."""
    final = os.path.realpath(path)
    try:
        special = not stat.S_ISREG(os.stat(final).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        try:
            with open(final, "wb") as fp:
                yield fp
        except OSError as err:
            raise name_write_error(err, path) from None
        return
    directory = os.path.dirname(final)
    try:
        fd, tmp = make_temp(directory, prefix or f".{os.path.basename(final)}.")
    except OSError as err:
        raise _named(err, path) from None
    try:
        with os.fdopen(fd, "wb") as fp:
            yield fp
            seal(fp, new_file_mode() if mode is None else mode, step)
        if step is not None:
            step("temp-synced")
        if before_replace is not None:
            before_replace(tmp)
        try:
            os.replace(tmp, final)
        except OSError as err:
            raise _named(err, path) from None
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise name_write_error(exc, path) from None
        raise
    if step is not None:
        step("renamed")
    with contextlib.suppress(OSError):
        fsync_dir(directory)
