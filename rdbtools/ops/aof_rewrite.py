"""``aof_rewrite``: offline AOF compaction — replay an AOF and write the smallest
equivalent, as ``BGREWRITEAOF`` would (FORMAT.md §8.4, §8.5, §8.7).

Formats: ``aof`` — RESP commands (``rdbtools.aof.writer.AofWriter``, the commands of
``rewriteAppendOnlyFileRio``); ``preamble`` — an RDB as ``aof-use-rdb-preamble yes``
writes it (AUX ``aof-preamble`` 1 in a single file, ``aof-base`` 1 in a multi-part
base); ``rdb`` — a plain RDB file. The RDB version (and, for ``aof``, the command forms)
is ``to_version``, by default the version of the input's own RDB preamble or base, else
12 when a hash has field TTLs (only 7.4+ writes the commands that set them), else 10
(what Redis 7.0 writes).

Where it goes: ``output`` is a file written beside itself and renamed into place. Without
it a single-file AOF is replaced the same way, and a multi-part AOF gets a new base, a new
empty incr file and a new manifest exactly as the server does after a rewrite (see
``rdbtools.aof._swap``); the old files are removed, or kept as history with
``keep_history``. The input is replayed completely before anything is written, so a
damaged input fails with the reader's error and writes nothing.

Memory: replay holds the whole keyspace (inherent: a key's final value is known only at
the end of the log); the writers stream the output.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from rdbtools.aof import _swap
from rdbtools.aof.manifest import Manifest, load_manifest
from rdbtools.aof.reader import (
    AofFile,
    AofItem,
    AofLayout,
    iter_aof,
    manifest_names,
    open_aof,
)
from rdbtools.aof.resp import Batch
from rdbtools.aof.writer import AofWriter
from rdbtools.errors import CorruptInput, ParseError
from rdbtools.events import AofPart, Aux, Command, Event, Header, StreamGroup
from rdbtools.rdb._targets import VALKEY_VERSION, WRITABLE_VERSIONS, Target
from rdbtools.rdb.writer import LossReport, RdbWriter
from rdbtools.replay import Replayer

FORMATS = ("aof", "preamble", "rdb")
DEFAULT_VERSION = 10
"""What Redis 7.0 writes, when the input has no RDB part to say otherwise."""


@dataclass(frozen=True, slots=True)
class AofRewriteReport:
    """What ``aof_rewrite`` did. Sizes in bytes; ``before`` / ``after`` list the files
    that make up the AOF before and after (name, size)."""

    path: str
    layout: str
    """``single`` or ``multi``."""
    format: str
    version: str
    output: str
    """The file written, or the manifest of a multi-part AOF rewritten in place."""
    before: tuple[tuple[str, int], ...]
    after: tuple[tuple[str, int], ...]
    keys: int
    losses: tuple[str, ...] = ()
    dropped_keys: int = 0
    removed: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    leftovers: tuple[str, ...] = ()
    """Files of an interrupted earlier rewrite that were removed."""
    replay_errors: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def size_before(self) -> int:
        return sum(n for _, n in self.before)

    @property
    def size_after(self) -> int:
        return sum(n for _, n in self.after)


@dataclass(slots=True)
class _Seen:
    """What the replayed input said about itself."""

    rdb_version: int | None = None
    valkey: bool = False
    timestamp: int | None = None
    part: str | None = None
    """The file being read (for errors that replay raises without one)."""


def _watch(events: Iterable[AofItem], seen: _Seen) -> Iterator[AofItem]:
    for ev in events:
        tp = type(ev)
        if tp is Batch or tp is Command:
            ts = ev.timestamp  # type: ignore[union-attr]
            if ts is not None:
                seen.timestamp = ts
        elif tp is AofPart:
            seen.part = ev.path  # type: ignore[union-attr]
        elif tp is Header:
            assert isinstance(ev, Header)
            if seen.rdb_version is None or ev.version > seen.rdb_version:
                seen.rdb_version = ev.version
            seen.valkey = seen.valkey or ev.magic.upper() == "VALKEY"
        yield ev


def _write_aof(replayer: Replayer, fp: BinaryIO, version: int | str,
               timestamp: int | None, strict: bool) -> LossReport:
    """The keyspace as rewrite commands: plain keys straight from the keyspace (no
    events: most of the time of a rewrite goes there), streams, modules and hashes with
    field TTLs through their events."""
    writer = AofWriter(fp, version, timestamp=timestamp, strict=strict)
    for fn in replayer.function_list():
        writer.write(fn)
    plain = replayer.plain_value
    for db, key, obj in replayer.items():
        value = plain(obj)
        if value is not None:
            writer.write_plain(db, key, obj.type, value, obj.expire)
        else:
            for ev in replayer.key_events(db, key, obj):
                writer.write(ev)
    writer.close()
    return writer.report


def _known_active_times(events: Iterable[Event]) -> Iterator[Event]:
    """Replay marks a consumer active time it does not know (a consumer made by a
    command, not loaded from an RDB) as -1; for the RDB writer that is ``None``
    (unknown: RDB 11+ then stores the seen time, as a 7.2 server loading an older stream
    does), not a value that RDB 10 would lose."""
    for ev in events:
        if type(ev) is StreamGroup and any(c.active_time_ms == -1 for c in ev.consumers):
            assert isinstance(ev, StreamGroup)
            ev = replace(ev, consumers=tuple(
                replace(c, active_time_ms=None) if c.active_time_ms == -1 else c
                for c in ev.consumers))
        yield ev


def _has_field_ttls(replayer: Replayer) -> bool:
    return any(o.type == "hash" and any(ttl is not None for _, ttl in o.value.values())
               for d in replayer.dbs.values() for o in d.values())


def _version(to_version: int | str | None, seen: _Seen, replayer: Replayer) -> Target:
    """``to_version``; else the input's own RDB version (the newest this writer writes
    at most); else 12 when a hash has field TTLs (only a 7.4+ server wrote the commands
    that set them); else 10."""
    if to_version is not None:
        return Target.of(to_version)
    if seen.valkey:
        return Target.of(VALKEY_VERSION)
    if seen.rdb_version is not None:
        usable = [v for v in WRITABLE_VERSIONS if v <= seen.rdb_version]
        return Target.of(usable[-1] if usable else WRITABLE_VERSIONS[0])
    if _has_field_ttls(replayer):
        return Target.of(12)
    return Target.of(DEFAULT_VERSION)


def _manifest_of(path: str) -> Manifest | None:
    """The manifest of a multi-part AOF path (a directory or a manifest), else ``None``."""
    if os.path.isdir(path):
        names = manifest_names(path)
        if len(names) == 1:
            return load_manifest(os.path.join(path, names[0]))
        return None
    if path != "-" and path.endswith(".manifest") and os.path.isfile(path):
        return load_manifest(path)
    return None


def _layout_without_leftovers(manifest: Manifest, path: str) -> AofLayout:
    """The layout of ``manifest`` when files of an interrupted rewrite lie in its
    directory (``open_aof`` would refuse them): they are not part of it."""
    files = []
    for e in manifest.parts:
        p = os.path.join(manifest.directory, e.name)
        if not os.path.isfile(p):
            raise CorruptInput(f"line {e.line}: {e.kind} file {e.name!r} is listed but "
                               "missing", source=manifest.path, offset=e.offset)
        files.append(AofFile(p, e.kind, e))
    return AofLayout(path, "multi", manifest, tuple(files))


def _sizes(layout: AofLayout) -> tuple[tuple[str, int], ...]:
    if layout.files and layout.files[0].path == "-":
        return ()
    return tuple((os.path.basename(f.path), os.path.getsize(f.path)) for f in layout.files)


def aof_rewrite(path: str, *, output: str | None = None, format: str = "aof",
                to_version: int | str | None = None, keep_history: bool = False,
                skip_unknown: bool = False, verify_checksum: bool = True,
                strict: bool = False) -> AofRewriteReport:
    """Rewrite the AOF at ``path`` (a single file, a multi-part directory or its
    manifest; ``-``: standard input, with ``output``) in ``format`` (see the module
    docstring). Raises the reader's errors for damaged input (nothing is written),
    ``UnsupportedType`` for a command replay does not know (unless ``skip_unknown``),
    ``WriteError`` for a bad ``to_version`` or, with ``strict``, the first loss."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if path == "-" and output is None:
        raise ValueError("standard input cannot be rewritten in place: name an output")
    if to_version is not None:
        Target.of(to_version)  # a bad version fails before the input is read
    manifest = _manifest_of(path)
    plan = None
    stale: list[str] = []
    if manifest is not None:
        plan = _swap.plan_swap(manifest, "aof" if format == "aof" else "rdb")
        stale = _swap.leftovers(plan)
    layout = _layout_without_leftovers(manifest, path) if manifest is not None and stale \
        else open_aof(path)
    if output is not None:
        plan, stale = None, []
    before = _sizes(layout)

    seen = _Seen()
    replayer = Replayer(skip_unknown=skip_unknown)
    try:
        replayer.apply(_watch(iter_aof(layout, verify_checksum=verify_checksum), seen))
    except ParseError as err:
        raise err.located(seen.part, None, None) from None
    _swap.crash_point("replayed")
    target = _version(to_version, seen, replayer)
    if target.level >= 10:
        # a 7.0+ server loading the AOF stores -0 in a small (listpack) sorted set as 0
        replayer.listpack_zero = True
    version = "valkey" if target.valkey else str(target.version)
    multi = layout.kind == "multi"
    report = LossReport()

    def fill(fp: BinaryIO) -> None:
        nonlocal report
        if format == "aof":
            report = _write_aof(replayer, fp, version, seen.timestamp, strict)
            return
        # the AUX fields of the input's RDB part are the old base's, not the new one's
        events = (ev for ev in replayer.events() if type(ev) is not Aux)
        aux: dict[bytes, bytes] = {}
        if format == "preamble":
            aux = {b"aof-base": b"1"} if multi and output is None else {b"aof-preamble": b"1"}
        writer = RdbWriter(fp, version, aux=aux, strict=strict, ctime=int(time.time()))
        report = writer.write_all(_known_active_times(events))

    removed: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    if plan is not None:
        gone = _swap.remove_leftovers(plan)
        result = _swap.swap(plan, fill, keep_history=keep_history)
        out_name = plan.manifest_path
        after = result.written
        removed, history = result.removed, result.history
        stale = gone
    else:
        target_path = output if output is not None else layout.files[0].path
        if target_path == "-":
            raise ValueError("the output must be a file")
        with _swap.atomic_file(target_path) as fp:
            fill(fp)
            counted = fp.tell()
        out_name = target_path
        after = ((os.path.basename(target_path), counted),)
    _swap.crash_point("done")
    return AofRewriteReport(
        path=path, layout=layout.kind, format=format, version=version, output=out_name,
        before=before, after=after, keys=report.keys,
        losses=tuple(report.lines()), dropped_keys=report.dropped_keys, removed=removed,
        history=history, leftovers=tuple(stale), replay_errors=dict(replayer.errors),
        skipped=dict(replayer.skipped))


# --------------------------------------------------------------------------- reports


def _pct(before: int, after: int) -> str:
    return f"{after / before * 100:.1f} %" if before else "-"


def rewrite_text(r: AofRewriteReport) -> str:
    """The report as ``aoftool rewrite`` prints it."""
    lines = [f"{r.path}: rewritten as {r.format} (RDB version {r.version}), {r.keys} keys "
             f"-> {r.output}"]
    for name, size in r.before:
        lines.append(f"  before  {name:<32} {size:>12} bytes")
    for name, size in r.after:
        lines.append(f"  after   {name:<32} {size:>12} bytes")
    lines.append(f"  size    {r.size_before} -> {r.size_after} bytes "
                 f"({_pct(r.size_before, r.size_after)} of before)")
    for name in r.leftovers:
        lines.append(f"  removed {name} (left by an interrupted rewrite)")
    for name in r.removed:
        lines.append(f"  removed {name}")
    for name in r.history:
        lines.append(f"  history {name}")
    if r.replay_errors:
        failed = ", ".join(f"{n} x{c}" for n, c in sorted(r.replay_errors.items()))
        lines.append(f"  commands that failed on replay as on the server (no effect): {failed}")
    if r.skipped:
        skipped = ", ".join(f"{n} x{c}" for n, c in sorted(r.skipped.items()))
        lines.append(f"  unknown commands skipped: {skipped}")
    for loss in r.losses:
        lines.append(f"  lost    {loss}")
    return "\n".join(lines) + "\n"


def rewrite_json(r: AofRewriteReport) -> str:
    """The report as one JSON document (``aoftool rewrite --json``)."""
    doc = {
        "path": r.path,
        "layout": r.layout,
        "format": r.format,
        "version": r.version,
        "output": r.output,
        "keys": r.keys,
        "dropped_keys": r.dropped_keys,
        "size_before": r.size_before,
        "size_after": r.size_after,
        "before": [{"file": n, "bytes": s} for n, s in r.before],
        "after": [{"file": n, "bytes": s} for n, s in r.after],
        "removed": list(r.removed),
        "history": list(r.history),
        "leftovers_removed": list(r.leftovers),
        "replay_errors": dict(sorted(r.replay_errors.items())),
        "skipped": dict(sorted(r.skipped.items())),
        "losses": list(r.losses),
    }
    return json.dumps(doc, indent=2) + "\n"
