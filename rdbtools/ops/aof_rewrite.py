"""``aof_rewrite``: offline AOF compaction — replay an AOF and write the smallest
equivalent, as ``BGREWRITEAOF`` would (FORMAT.md §8.4, §8.5, §8.7), for the server that
wrote it.

Target: ``to_version``, by default the server that wrote the AOF
(``rdbtools.aof.origin``: the RDB preamble or base and its ``redis-ver`` /
``valkey-ver``, else the layout, ``#TS:`` annotations and the commands); the report says
which one and why. Formats: ``aof`` — RESP commands (``rdbtools.aof.writer.AofWriter``,
the commands of ``rewriteAppendOnlyFileRio`` in that server's forms); ``preamble`` — an
RDB as ``aof-use-rdb-preamble yes`` writes it (AUX ``aof-preamble`` 1 in a single file,
``aof-base`` 1 in a multi-part base); ``rdb`` — a plain RDB file. By default what that
server's own rewrite writes: ``preamble`` when the input has an RDB part, else ``aof``.

Where it goes: ``output`` is a file written beside itself and renamed into place (never
a file of the input). Without it a single-file AOF is replaced the same way and its
original is kept beside it as ``<name>.bak.<UTC time>`` (a hard link made once the new
file is complete and fsync-ed, just before the rename), and a multi-part AOF gets a new
base, a new empty incr file and a new manifest exactly as the server does after a
rewrite (see ``rdbtools.aof.swap``); the old files stay until the new manifest is in
place, then are removed, or kept as history with ``keep_history``. The input is
replayed completely before anything is written, so a damaged input fails with the
reader's error and writes nothing; with ``strict`` so does anything the target cannot
hold. Temporary files that a killed earlier run left are removed first.

Memory: replay holds the whole keyspace (inherent: a key's final value is known only at
the end of the log); the writers stream the output.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from rdbtools.aof import swap
from rdbtools.aof.manifest import names_a_part
from rdbtools.aof.origin import OriginWatch
from rdbtools.aof.reader import AofLayout, iter_aof, open_aof, opened_once
from rdbtools.aof.writer import REWRITE_FORMATS, AofWriter
from rdbtools.atomic import sweep_temps
from rdbtools.errors import ParseError, WriteError
from rdbtools.events import Command, Event, StreamGroup, StreamMeta
from rdbtools.ops.aof_fix import _backup as keep_original
from rdbtools.rdb.targets import Target
from rdbtools.rdb.writer import Loss, LossReport, RdbWriter
from rdbtools.replay import NOT_REPLAYED, Replayer, base_events, not_replayed, rewrite_commands
from rdbtools.sources import open_binary

FORMATS = REWRITE_FORMATS


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
    server: str = ""
    """The server the output is for (``Redis 6.2.14``, ``Redis 7.0`` ...)."""
    reason: str = ""
    """Why that server: the evidence, or ``--to-version``."""
    format_reason: str = ""
    backup: str | None = None
    """Where the original single file was kept."""
    losses: tuple[str, ...] = ()
    dropped_keys: int = 0
    removed: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    leftovers: tuple[str, ...] = ()
    """Files of an interrupted earlier rewrite that were removed."""
    replay_errors: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    carried: dict[str, int] = field(default_factory=dict)
    """Commands replay did not model, by name: written back as they were."""

    @property
    def size_before(self) -> int:
        return sum(n for _, n in self.before)

    @property
    def size_after(self) -> int:
        return sum(n for _, n in self.after)

    @property
    def original(self) -> str:
        """Where the original AOF is now, in words."""
        if self.output != self.path and self.layout == "single" and self.backup is None:
            return f"{self.path} (not touched)"
        if self.backup is not None:
            return self.backup
        if self.history:
            return "kept as history in the manifest: " + ", ".join(self.history)
        if self.removed:
            return "removed once the new manifest was in place, as the server does " \
                "(--keep-history keeps it)"
        return f"{self.path} (not touched)"


def _carried_tail(replayer: Replayer, fp: BinaryIO, version: int | str, fmt: str,
                  strict: bool, report: LossReport) -> None:
    """The commands replay did not model, after the RDB of a preamble (the server reads
    the commands after an RDB preamble, in a base file too); a plain RDB loses them."""
    if fmt == "preamble":
        tail = AofWriter(fp, version)
        for cmd in replayer.carried:
            tail.write(cmd)
        tail.close()
        report.keys += sum(1 for _, _, o in replayer.items()
                           if o.type == NOT_REPLAYED and o.value.base is None)
        return
    loss = Loss(f"{len(replayer.carried)} commands replay did not model dropped: "
                "an RDB file holds no commands", None, None)
    if strict:
        raise WriteError(f"an RDB file cannot hold this: {loss}")
    report.losses.append(loss)


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
        if obj.type == NOT_REPLAYED:  # what it held; its commands follow all keys
            obj = obj.value.base
            if obj is None:
                writer.report.keys += 1
                continue
        if obj.type == "module":
            for args in rewrite_commands(key, obj, version):
                writer.write(Command(db, args))
            writer.report.keys += 1
            continue
        value = plain(obj)
        if value is not None:
            writer.write_plain(db, key, obj.type, value, obj.expire)
        else:
            for ev in replayer.key_events(db, key, obj):
                writer.write(ev)
    for cmd in replayer.carried:
        writer.write(cmd)
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


def _without_counters(events: Iterable[Event]) -> Iterator[Event]:
    """Streams without the 7.0 counters (entries added, max deleted id, entries read):
    for the AOF of a server before 7.0 they are replay's reckoning, not data of the
    AOF, and a target before 7.0 would only report them lost."""
    for ev in events:
        tp = type(ev)
        if tp is StreamMeta:
            assert isinstance(ev, StreamMeta)
            ev = replace(ev, entries_added=None, max_deleted_id=None)
        elif tp is StreamGroup:
            assert isinstance(ev, StreamGroup)
            ev = replace(ev, entries_read=None)
        yield ev


def _has_field_ttls(replayer: Replayer) -> bool:
    return any(o.type == "hash" and any(ttl is not None for _, ttl in o.value.values())
               for d in replayer.dbs.values() for o in d.values())


def _sizes(layout: AofLayout) -> tuple[tuple[str, int], ...]:
    if layout.files and (layout.files[0].path == "-" or layout.files[0].source is not None):
        return ()  # a pipe: its size is not known before it is read
    return tuple((os.path.basename(f.path), os.path.getsize(f.path)) for f in layout.files)


class OutputIsInput(ValueError):
    """The output named is a file of the AOF being rewritten."""


def check_output(layout: AofLayout, output: str) -> None:
    """Raise ``OutputIsInput`` when ``output`` is a file of the AOF ``layout`` (a part, its
    manifest, a history file) or, in a multi-part directory, named like one of its
    part files or manifests: writing there would change the input, or add a file that
    the next read takes for a part."""
    if layout.files and layout.files[0].path == "-":
        return
    out = os.path.realpath(output)
    mine = {os.path.realpath(f.path) for f in layout.files}
    m = layout.manifest
    if m is not None:
        mine.add(os.path.realpath(m.path))
        mine.update(os.path.realpath(os.path.join(m.directory, e.name)) for e in m.history)
        name = os.path.basename(out)
        if os.path.dirname(out) == os.path.realpath(m.directory) and (
                names_a_part(m, name) or name.endswith(".manifest")):
            mine.add(out)
    if out in mine:
        hint = "omit -o to rewrite it in place" if m is None else \
            "write OUT outside the AOF directory, or omit -o to rewrite it in place"
        raise OutputIsInput(f"the output {output} is a file of the AOF {layout.path} "
                         f"(or named like one): {hint}")


def _looks_pre_70(layout: AofLayout) -> bool:
    """What the start of the AOF says before it is replayed: a single file without an RDB
    preamble or with one of RDB 9 or older is a pre-7.0 server's (replay then follows
    that server where 7.0 differs)."""
    if layout.kind != "single":
        return False
    f = layout.files[0]
    if f.path == "-":
        return True
    if f.source is not None:  # a pipe, opened once: its head stays unread
        head = f.source.peek(9)
    else:
        with open_binary(f.path) as src:  # what it holds, decompressed
            head = src.peek(9)
    if head.startswith(b"VALKEY"):
        return False
    if head.startswith(b"REDIS"):
        return not head[5:9].isdigit() or int(head[5:9]) < 10
    return True


def _replay(layout: AofLayout, verify: bool, skip_unknown: bool, strict: bool, pre_70: bool
            ) -> tuple[Replayer, OriginWatch]:
    watch = OriginWatch()
    replayer = Replayer(skip_unknown=skip_unknown, strict=strict, pel_keeps_deleted=pre_70)
    try:
        replayer.apply(watch.watch(iter_aof(layout, verify_checksum=verify)))
    except ParseError as err:
        raise err.located(watch.part, None, None) from None
    return replayer, watch


def _format(format: str | None, watch: OriginWatch) -> tuple[str, str]:
    if format is not None:
        return format, "given with --format"
    if watch.rdb_kind is not None:
        return "preamble", f"the input has an RDB {watch.rdb_kind}, as the server's " \
            "rewrite writes with aof-use-rdb-preamble yes"
    return "aof", "the input has no RDB part, as the server's rewrite writes with " \
        "aof-use-rdb-preamble no"


def aof_rewrite(path: str, *, output: str | None = None, format: str | None = None,
                to_version: int | str | None = None, keep_history: bool = False,
                skip_unknown: bool = False, verify_checksum: bool = True,
                strict: bool = False, now: float | None = None) -> AofRewriteReport:
    """Rewrite the AOF at ``path`` (a single file, a multi-part directory or its
    manifest; ``-``: standard input, with ``output``) in ``format`` for ``to_version``
    (both by default those of the server that wrote it: see the module docstring).
    Raises ``ValueError`` for bad arguments (an unknown format, standard input without
    an output, an output that is a file of the input), the reader's errors for damaged
    input (nothing is written), ``UnsupportedType`` for a command replay does not know
    (unless ``skip_unknown``), ``WriteError`` for a bad ``to_version`` or, with
    ``strict``, the first loss (nothing is written). ``now`` (unix seconds) names the
    backup of a single file."""
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if path == "-" and output is None:
        raise ValueError("standard input cannot be rewritten in place: name an output")
    if output == "-":
        raise ValueError("the output must be a file")
    if to_version is not None:
        Target.of(to_version)  # a bad version fails before the input is read
    layout = open_aof(path)
    if output is not None:
        check_output(layout, output)
    layout = opened_once(layout)
    manifest = layout.manifest if output is None else None
    before = _sizes(layout)

    pre_70 = _looks_pre_70(layout)
    replayer, watch = _replay(layout, verify_checksum, skip_unknown, strict, pre_70)
    if pre_70 and watch.origin(False).target.level >= 10 and path != "-" \
            and layout.files[0].source is None:
        # a single file with 7.0's evidence (a 7.0+ incr file): replay it as 7.0 does
        replayer, watch = _replay(layout, verify_checksum, skip_unknown, strict, False)
    swap.crash_point("replayed")
    if to_version is None and _has_field_ttls(replayer):
        watch.need(12, "a hash with field TTLs")
    origin = watch.origin(layout.kind == "multi", to_version)
    pre_70 = origin.target.level < 10 and watch.origin(layout.kind == "multi").target.level < 10
    fmt, format_reason = _format(format, watch)
    target = origin.target
    if target.level >= 10:
        # a 7.0+ server loading the AOF stores -0 in a small (listpack) sorted set as 0
        replayer.listpack_zero = True
    version = origin.version
    # #TS: annotations are 7.0's: an older server would not read them
    timestamp = watch.timestamp if target.level >= 10 else None
    report = LossReport()

    def fill(fp: BinaryIO) -> None:
        nonlocal report
        if fmt == "aof":
            report = _write_aof(replayer, fp, version, timestamp, strict)
            return
        # no AUX fields: the input's RDB part's are the old base's, not the new one's;
        # a not-replayed key as what it held (its commands follow the RDB)
        events: Iterable[Event] = base_events(replayer)
        aux = {b"aof-base": b"1"} if fmt == "preamble" and manifest is not None else \
            {b"aof-preamble": b"1"} if fmt == "preamble" else {}
        if pre_70:
            events = _without_counters(events)
        writer = RdbWriter(fp, version, aux=aux, strict=strict, ctime=int(time.time()))
        report = writer.write_all(_known_active_times(events))
        if replayer.carried:
            _carried_tail(replayer, fp, version, fmt, strict, report)

    removed: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    backup: str | None = None
    if manifest is not None:
        plan = swap.plan_swap(manifest, "aof" if fmt == "aof" else "rdb")
        stale = sweep_temps(plan.directory, swap.swap_temp_prefix(plan))
        result = swap.swap(plan, fill, keep_history=keep_history)
        out_name = plan.manifest_path
        after = result.written
        removed, history = result.removed, result.history
        stale += result.leftovers
    else:
        target_path = output if output is not None else layout.files[0].path
        final = os.path.realpath(target_path)
        stale = sweep_temps(os.path.dirname(final), swap.temp_prefix(final))

        def keep() -> None:
            nonlocal backup
            if output is None:
                kept = keep_original(final, now)
                # named as the user named the AOF (its directory, relative or not)
                backup = os.path.join(os.path.dirname(target_path), os.path.basename(kept)) \
                    if os.path.dirname(final) == os.path.realpath(
                        os.path.dirname(target_path) or ".") else kept

        with swap.atomic_file(target_path, before_replace=keep) as fp:
            fill(fp)
            counted = fp.tell()
        out_name = target_path
        after = ((os.path.basename(target_path), counted),)
    swap.crash_point("done")
    return AofRewriteReport(
        path=path, layout=layout.kind, format=fmt, version=version, output=out_name,
        before=before, after=after, keys=report.keys, server=origin.server,
        reason=origin.reason, format_reason=format_reason, backup=backup,
        losses=tuple(report.lines()), dropped_keys=report.dropped_keys, removed=removed,
        history=history, leftovers=tuple(stale), replay_errors=dict(replayer.errors),
        skipped=dict(replayer.skipped), carried=not_replayed(replayer))
