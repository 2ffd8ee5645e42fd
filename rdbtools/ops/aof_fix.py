"""``aof_fix``: repair the damaged tail of an AOF like ``redis-check-aof --fix``, but never
in place (FORMAT.md §8.6).

* Default: cut the damaged file at ``ok_up_to`` (the end of the last complete command
  outside an open MULTI), as ``redis-check-aof --fix`` does.
* ``salvage``: also keep the commands after damage in the middle (``rdbtools.aof.salvage``),
  reporting each dropped byte range.
* ``truncate_to_timestamp``: cut the last file at the first ``#TS:`` annotation later
  than the limit (``redis-check-aof --truncate-to-timestamp``).

Only the last file of an AOF can be cut (the only one the server itself would repair);
damage anywhere else, or in an RDB preamble or base, is reported and nothing is written.

Writing: when ``NAME`` is a symbolic link, the file it points to is repaired (and backed
up beside it); the link stays. The repaired file is written beside the original (a
temporary ``.NAME.fix-*.tmp`` file, removed by the next run if this one is
killed), flushed, ``fsync``-ed and read back by the AOF reader; then the original is kept as
``NAME.bak.<UTC time>`` (a hard link when the file system allows, else a copy) and the
repaired file is renamed onto ``NAME``, and the directory is ``fsync``-ed. At every
moment ``NAME`` is either the original or the complete repaired file. In a multi-part
AOF the manifest is not touched (the file keeps its name).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import time
from dataclasses import dataclass, field

from rdbtools.aof.reader import AofFile, AofLayout, iter_aof
from rdbtools.aof.salvage import Dropped, salvage
from rdbtools.atomic import atomic_file
from rdbtools.errors import AofCorrupt, AofFixError, AofFramingError, ParseError
from rdbtools.ops.aof_check import aof_check
from rdbtools.sources import open_binary


@dataclass
class AofFixReport:
    """What ``aof_fix`` did. ``file`` is ``None`` when there was nothing to repair."""

    path: str
    file: str | None = None
    problem: str | None = None
    original_size: int = 0
    new_size: int = 0
    backup: str | None = None
    kept: list[tuple[int, int]] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def aof_fix(path: str, *, salvage_commands: bool = False,
            truncate_to_timestamp: int | None = None, dry_run: bool = False,
            now: float | None = None) -> AofFixReport:
    """Repair the AOF at ``path`` (see the module docstring); ``dry_run``: only say what
    would be done. ``now`` names the backup (default: the clock). Raises ``AofFixError``
    (or the reader's error) when it cannot."""
    if path == "-":
        raise AofFixError("aoftool fix works on files, not on standard input")
    check = aof_check(path, truncate_to_timestamp=truncate_to_timestamp)
    report = AofFixReport(path)
    problem = check.problem
    if truncate_to_timestamp is not None:
        if problem is not None:
            raise problem
        if check.cut is None:
            return report
        target, size = check.cut.path, os.path.getsize(check.cut.path)
        _refuse_compressed(target)
        report.kept = [(0, check.cut.offset)]
        report.dropped = [Dropped(check.cut.offset, size, f"after timestamp "
                                  f"{truncate_to_timestamp} (#TS: annotation at "
                                  f"{check.cut.offset})")]
    else:
        if problem is None:
            return report
        if not isinstance(problem, AofFramingError):
            raise AofFixError(f"cannot be repaired by truncation: {problem}")
        if not problem.last_file:
            raise AofFixError(f"cannot be repaired: the damage is not in the last file of "
                              f"the AOF (redis-check-aof refuses too): {problem}")
        assert problem.source is not None
        target = problem.source
        _refuse_compressed(target)
        size = os.path.getsize(target)
        report.problem = check.problem_line()
        if salvage_commands:
            with open(target, "rb") as fp:
                plan = salvage(fp, target, size, problem)
            report.kept, report.dropped, report.warnings = plan.kept, plan.dropped, \
                plan.warnings
        else:
            ok = problem.ok_up_to
            report.kept = [(0, ok)] if ok else []
            report.dropped = [Dropped(ok, size, f"{problem.message} (at {problem.offset})")]
            if size - ok > 64 and isinstance(problem, AofCorrupt):
                report.warnings.append(f"{size - ok} bytes after the damage are dropped; "
                                       "--salvage keeps the commands among them")
    if os.path.islink(target):  # repair (and back up) the file the link names
        target = os.path.realpath(target)
    report.file = target
    report.original_size = size
    report.new_size = sum(b - a for a, b in report.kept)
    if not dry_run:
        report.backup = _replace(target, report.kept, now)
    return report


def _refuse_compressed(target: str) -> None:
    """Offsets found in a compressed file are offsets in what it holds: cutting the file
    itself there would destroy it."""
    with open_binary(target) as src:
        if src.compression is not None:
            raise AofFixError(f"{target} is {src.compression}-compressed: decompress it, "
                              "then fix the plain file")


def _replace(target: str, kept: list[tuple[int, int]], now: float | None) -> str:
    """Write ``kept`` ranges of ``target`` beside it, verify, back up, rename; return the
    backup's path."""
    mode = stat.S_IMODE(os.stat(target).st_mode) | stat.S_IRUSR
    backup: list[str] = []

    def verify_and_keep(tmp: str) -> None:
        _verify(tmp)
        backup.append(_backup(target, now))

    with atomic_file(target, prefix=f".{os.path.basename(target)}.fix-", mode=mode,
                     before_replace=verify_and_keep) as out, open(target, "rb") as src:
        for a, b in kept:
            src.seek(a)
            left = b - a
            while left > 0:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    raise AofFixError(f"{target} changed while it was being repaired")
                out.write(chunk)
                left -= len(chunk)
    return backup[0]


def _verify(path: str) -> None:
    """Read the repaired file back as a single AOF file; it must be sound."""
    layout = AofLayout(path, "single", None, (AofFile(path, "single"),))
    try:
        for _ in iter_aof(layout, framing_only=True):
            pass
    except ParseError as err:  # pragma: no cover - a bug in the repair
        raise AofFixError(f"the repaired file does not read back: {err}") from None


def _backup(target: str, now: float | None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    base = f"{target}.bak.{stamp}"
    name, n = base, 0
    while os.path.lexists(name):
        n += 1
        name = f"{base}.{n}"
    try:
        os.link(target, name)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK,
                             errno.EACCES):
            raise
        shutil.copy2(target, name)
        with open(name, "rb+") as fp:
            os.fsync(fp.fileno())
    return name

