"""Crash-safe replacement of AOF files: one file in place, or the base of a multi-part
AOF with its manifest, as the server does after ``BGREWRITEAOF`` (FORMAT.md §8.5; Redis
``aof.c``: ``backgroundRewriteDoneHandler``, ``writeAofManifestFile``,
``aofDelHistoryFiles``).

Multi-part, in this order (a crash at any point leaves a manifest whose files are all
complete and fsync-ed: the old set until step 4, the new one from then on):

1. the new base ``<prefix>.<base seq + 1>.base.rdb|aof`` and a new empty incr file
   ``<prefix>.<last incr seq + 1>.incr.aof`` (the file the server opens for the writes
   that follow a rewrite) are written under ``temp-`` names, flushed and fsync-ed;
2. they are renamed to their names and the directory is fsync-ed (the server ignores
   files its manifest does not list);
3. the new manifest — the new base, the old base and incr files as history (``type h``,
   in the server's order), the new incr — is written to ``temp-<prefix>.manifest.tmp``
   and fsync-ed;
4. it is renamed over ``<prefix>.manifest`` and the directory is fsync-ed;
5. unless history is kept, the history files are removed and the manifest is written
   again without them (steps 3-4), as ``aofDelHistoryFiles`` does.

Files named like step 1's that the manifest does not list are the leftovers of an
interrupted rewrite (the server would overwrite them too): they are removed once the
new files are complete, before the renames of step 2.

Temporary files (``temp-<name>.*.tmp`` here, ``.<name>.rewrite-*.tmp`` beside a single
file) are held under an exclusive ``flock`` while they are written; one that nobody holds
is the leftover of a killed writer, and ``sweep_temps`` (the next run) removes it.

``RDBTOOLS_AOF_REWRITE_CRASH_AT=<step>`` kills the process with SIGKILL at that step
(the names in ``CRASH_POINTS``): the crash-safety tests use it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from rdbtools.aof.manifest import Manifest
from rdbtools.atomic import atomic_file as _atomic_file
from rdbtools.atomic import fsync_dir, write_temp
from rdbtools.quoting import quote_key

CRASH_ENV = "RDBTOOLS_AOF_REWRITE_CRASH_AT"
CRASH_POINTS = ("replayed", "temp-written", "temp-synced", "renamed", "manifest-written",
                "manifest-renamed", "history-removed", "done")


def crash_point(step: str) -> None:
    """Die here (SIGKILL, no clean-up) when ``$RDBTOOLS_AOF_REWRITE_CRASH_AT`` names
    ``step``."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def temp_prefix(path: str) -> str:
    """The name prefix of ``atomic_file``'s temporary files for ``path``."""
    return f".{os.path.basename(os.path.realpath(path))}.rewrite-"


@contextlib.contextmanager
def atomic_file(path: str, *, prefix: str | None = None,
                before_replace: Callable[[], None] | None = None) -> Iterator[BinaryIO]:
    """``rdbtools.atomic.atomic_file`` with the crash points of this module and the
    temporary name ``temp_prefix(path)`` unless ``prefix`` says otherwise;
    ``before_replace()`` runs once the temporary file is complete and fsync-ed, just
    before the rename (to keep the original)."""
    with _atomic_file(path, prefix=prefix or temp_prefix(path), step=crash_point,
                      before_replace=before_replace and (lambda _tmp: before_replace())
                      ) as fp:
        yield fp


# --------------------------------------------------------------------------- manifest


def _needs_repr(name: bytes) -> bool:
    """``sdsneedsrepr``: a backslash, a quote, a space or a byte that is not printable."""
    return any(b in b'\\"' or not 0x21 <= b <= 0x7E for b in name)


def manifest_line(name: str, seq: int, kind: str) -> bytes:
    """``aofInfoFormat``: ``file <name> seq <n> type <b|h|i>\\n``, the name quoted only
    when it needs it."""
    raw = os.fsencode(name)
    shown = quote_key(raw) if _needs_repr(raw) else raw  # sdscatrepr
    return b"file %s seq %d type %s\n" % (shown, seq, kind[0].encode())


@dataclass(frozen=True, slots=True)
class Entry:
    """A manifest record: file ``name``, ``seq``, ``kind`` (base / history / incr)."""

    name: str
    seq: int
    kind: str


def manifest_bytes(entries: list[Entry]) -> bytes:
    """``getAofManifestAsString``: the base first, then history, then incr files."""
    order = {"base": 0, "history": 1, "incr": 2}
    ranked = sorted(enumerate(entries), key=lambda p: (order[p[1].kind], p[0]))
    return b"".join(manifest_line(e.name, e.seq, e.kind) for _, e in ranked)


# --------------------------------------------------------------------------- swap


@dataclass(frozen=True, slots=True)
class SwapPlan:
    """What a multi-part rewrite will write and retire."""

    directory: str
    manifest_path: str
    new_base: Entry
    new_incr: Entry
    old: tuple[Entry, ...]
    """The old base and incr files, in the order the server lists them as history."""
    history: tuple[Entry, ...]
    """History files the manifest listed already."""


def plan_swap(manifest: Manifest, base_suffix: str) -> SwapPlan:
    """The names the server would use (``getNewBaseFileNameAndMarkPreAsHistory``,
    ``getNewIncrAofName``): base seq + 1 (1 with no base), last incr seq + 1; the old
    incr files (ascending) then the old base become history, before older history."""
    path = manifest.path
    prefix = manifest.prefix
    base_seq = (manifest.base.seq if manifest.base else 0) + 1
    incr_seq = (manifest.incrs[-1].seq if manifest.incrs else 0) + 1
    new_base = Entry(f"{prefix}.{base_seq}.base.{base_suffix}", base_seq, "base")
    new_incr = Entry(f"{prefix}.{incr_seq}.incr.aof", incr_seq, "incr")
    listed = manifest.names
    other = f"{prefix}.{base_seq}.base.{'aof' if base_suffix == 'rdb' else 'rdb'}"
    for e in (new_base, new_incr, Entry(other, base_seq, "base")):
        if e.name in listed:
            raise FileExistsError(0, f"{e.name} is already listed in the manifest", path)
    old = [Entry(e.name, e.seq, "history") for e in manifest.incrs]
    if manifest.base is not None:
        old.append(Entry(manifest.base.name, manifest.base.seq, "history"))
    history = tuple(Entry(e.name, e.seq, "history") for e in manifest.history)
    return SwapPlan(manifest.directory, path, new_base, new_incr, tuple(old), history)


def leftovers(plan: SwapPlan) -> list[str]:
    """Files with the new names, the base in either format (the manifest does not list
    them): an interrupted rewrite's."""
    stem = plan.new_base.name.rsplit(".", 1)[0]
    names = [f"{stem}.aof", f"{stem}.rdb", plan.new_incr.name]
    return [n for n in names if os.path.lexists(os.path.join(plan.directory, n))]


def remove_leftovers(plan: SwapPlan) -> list[str]:
    """Remove ``leftovers(plan)``; return their names."""
    gone = leftovers(plan)
    for name in gone:
        os.unlink(os.path.join(plan.directory, name))
    if gone:
        fsync_dir(plan.directory)
    return gone


def swap_temp_prefix(plan: SwapPlan) -> str:
    """The name prefix of the temporary files of a multi-part rewrite (``sweep_temps``)."""
    return f"temp-{os.path.basename(plan.manifest_path)[: -len('manifest')]}"


_MANIFEST_POINTS = {"temp-synced": "manifest-written", "renamed": "manifest-renamed"}
"""``atomic_file``'s steps as the crash points of the manifest write."""


def write_manifest(plan: SwapPlan, entries: list[Entry]) -> None:
    """``writeAofManifestFile``: a temporary file written and fsync-ed, renamed over the
    manifest, the directory fsync-ed. The server's temporary name is
    ``temp-<name>.manifest``; here it is ``temp-<name>.manifest.tmp``, so that a
    leftover is not taken for a second manifest."""
    name = os.path.basename(plan.manifest_path)
    data = manifest_bytes(entries)

    def step(point: str) -> None:
        if point in _MANIFEST_POINTS:
            crash_point(_MANIFEST_POINTS[point])

    with _atomic_file(plan.manifest_path, prefix=f"temp-{name}.", mode=0o644,
                      step=step) as fp:
        fp.write(data)


@dataclass(frozen=True, slots=True)
class SwapResult:
    """Files written (name, size), files removed, files kept as history, and the files
    of an interrupted earlier rewrite that were removed."""

    written: tuple[tuple[str, int], ...]
    removed: tuple[str, ...]
    history: tuple[str, ...]
    leftovers: tuple[str, ...] = ()


def swap(plan: SwapPlan, fill_base: Callable[[BinaryIO], None], *,
         keep_history: bool = False) -> SwapResult:
    """Carry out ``plan`` (the module docstring's steps); ``fill_base(fp)`` writes the
    new base. When ``fill_base`` fails nothing in the directory has changed."""
    d = plan.directory
    temps: list[tuple[str, BinaryIO, str]] = []
    try:
        for name, fill in ((plan.new_base.name, fill_base),
                           (plan.new_incr.name, lambda fp: None)):
            tmp, fp = write_temp(d, f"temp-{name}.", fill, mode=0o644, step=crash_point)
            temps.append((tmp, fp, name))
        crash_point("temp-synced")
        gone = remove_leftovers(plan)
        for tmp, _, name in temps:
            os.replace(tmp, os.path.join(d, name))
    except BaseException:
        for tmp, _, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    finally:
        for _, fp, _ in temps:
            fp.close()
    fsync_dir(d)
    crash_point("renamed")
    written = tuple((e.name, os.path.getsize(os.path.join(d, e.name)))
                    for e in (plan.new_base, plan.new_incr))
    history = [*plan.old, *plan.history]
    write_manifest(plan, [plan.new_base, *history, plan.new_incr])
    if keep_history:
        return SwapResult(written, (), tuple(e.name for e in history), tuple(gone))
    removed = []
    for e in history:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(d, e.name))
        removed.append(e.name)
    crash_point("history-removed")
    write_manifest(plan, [plan.new_base, plan.new_incr])
    return SwapResult(written, tuple(removed), (), tuple(gone))
