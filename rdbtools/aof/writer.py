"""The AOF writer: key events as the RESP commands ``BGREWRITEAOF`` writes (FORMAT.md §8.7).

``AofWriter`` follows ``rewriteAppendOnlyFileRio`` (Redis ``aof.c``):

* a ``#TS:<unix seconds>`` annotation first when asked for (``aof-timestamp-enabled``);
* one ``FUNCTION LOAD <code>`` per function library (7.0+);
* per database that holds keys a ``SELECT <db>``, then per key:

  - string: ``SET key value``;
  - list ``RPUSH``, set ``SADD``, sorted set ``ZADD score member ...``, hash ``HMSET``,
    each with at most ``AOF_REWRITE_ITEMS_PER_CMD`` (64) elements;
  - a hash with field TTLs (7.4+): per field ``HMSET key f v``, followed by
    ``HPEXPIREAT key <ms> FIELDS 1 f`` when the field has a TTL;
  - stream (``rewriteStreamObject``): ``XADD key <id> f v ...`` per entry, or
    ``XADD key MAXLEN 0 0-1 x y`` for an empty stream; ``XSETID key <last-id>`` (7.0+:
    ``ENTRIESADDED n MAXDELETEDID id``); per group ``XGROUP CREATE key group <id>``
    (7.0+: ``ENTRIESREAD n``), then per consumer either ``XGROUP CREATECONSUMER``
    (6.2+, a consumer without pending entries) or one ``XCLAIM key group consumer 0
    <id> TIME <ms> RETRYCOUNT <n> JUSTID FORCE`` per pending entry; groups, consumers
    and pending entries in the server's (rax) order: ascending bytes and ids;
  - a key TTL: ``PEXPIREAT key <ms>`` after the value.

The command forms are those of the server of the target RDB version (``Target.level``:
9 = 6.2, 10 = 7.0, 11 = 7.2, 12 = 7.4; ``valkey`` = Valkey 9). What that server cannot
be told is reported in the ``LossReport`` (``strict=True``: a ``WriteError``): module
values and module aux data, function libraries before 7.0, streams before 5.0, hash
field TTLs before 7.4, consumers without pending entries before 6.2, pending entries no
consumer owns.

Two differences from the server: a pending entry whose stream entry was deleted is kept
(``rdbtools.aof._stream_rewrite``: the server's own rewrite loses it); and, for bounded
memory, a string that arrives in several ``StringValue`` pieces is written as ``SET``
with the first piece and ``APPEND`` with each next one. Everything is written as it
arrives (the writer holds at most one command), except a stream's ``XADD`` commands,
which wait in a spool (memory up to 8 MiB, then a temporary file) until its groups are
known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any, BinaryIO

from rdbtools import _spec as S
from rdbtools.aof._resp_out import ADD_COMMANDS, ITEMS_PER_COMMAND, resp_command
from rdbtools.aof._stream_rewrite import StreamRewrite
from rdbtools.errors import WriteError, key_text
from rdbtools.events import (
    Command,
    Event,
    Function,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleAux,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StreamIdmp,
    StreamMeta,
    StringValue,
    ZSetMembers,
)
from rdbtools.rdb.targets import Target
from rdbtools.rdb.writer import Loss, LossReport
from rdbtools.sinks import BytesSink

_TTL_HASH_TYPES = frozenset({S.TYPE_HASH_METADATA_PRE_GA, S.TYPE_HASH_LISTPACK_EX_PRE_GA,
                             S.TYPE_HASH_METADATA, S.TYPE_HASH_LISTPACK_EX})


def score_text(score: float, level: int) -> bytes:
    """A score as ``rioWriteBulkDouble`` prints it: ``%.17g`` up to 7.0 (RDB 10), the
    shortest text that reads back to the same double from 7.2; ``inf`` / ``-inf``."""
    if math.isnan(score):
        raise WriteError("a sorted-set score is NaN, which no server accepts")
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    if level <= 10:
        return b"%.17g" % score
    return repr(score).encode("ascii")


def _zset_args(key: bytes, members: Iterable[tuple[bytes, float]], level: int) -> list[bytes]:
    """``score member ...`` of ``ZADD`` for ``members`` (``key`` names a NaN score)."""
    try:
        return [x for member, score in members for x in (score_text(score, level), member)]
    except WriteError as err:
        raise WriteError(f"key {key_text(key)}: {err}") from None


class AofWriter:
    """Write key events (``rdbtools.replay`` output, or an RDB reader's) to ``out`` as
    the commands ``BGREWRITEAOF`` writes for ``version``'s server (see the module
    docstring). ``timestamp`` writes ``#TS:<timestamp>`` first. ``keys`` counts the keys
    written; ``report`` holds what could not be written."""

    def __init__(self, out: BinaryIO, version: int | str = 10, *,
                 timestamp: int | None = None, strict: bool = False) -> None:
        self.target = Target.of(version)
        self.level = self.target.level
        self.strict = strict
        self.report = LossReport()
        self._sink = BytesSink(out)
        self._db: int | None = None
        self._want_db: int | None = None
        self._key: KeyStart | None = None
        self._skip = False
        self._args: list[bytes] = []
        self._per_field = False
        self._pieces = 0
        self._created = False
        self._stream: StreamRewrite | None = None
        self._closed = False
        self.bytes = 0
        if timestamp is not None:
            self._emit(b"#TS:%d\r\n" % timestamp)

    @property
    def keys(self) -> int:
        return self.report.keys

    # ------------------------------------------------------------------ output

    def _emit(self, data: bytes) -> None:
        self.bytes += len(data)
        self._sink.emit(data)

    def _select(self) -> None:
        """``SELECT`` the current key's database if it is not the selected one (written
        with the key's first command, so a dropped key selects nothing)."""
        want = self._want_db
        if want is not None and want != self._db:
            self._emit(resp_command(b"SELECT", b"%d" % want))
            self._db = want

    def _cmd(self, *args: bytes) -> None:
        self._select()
        self._emit(resp_command(*args))

    def _lose(self, what: str, ks: KeyStart | None = None) -> None:
        loss = Loss(what, ks.db if ks else None, ks.key if ks else None)
        if self.strict:
            raise WriteError(f"an AOF for RDB {self.target.version} cannot hold this: {loss}")
        self.report.losses.append(loss)

    # ------------------------------------------------------------------ events

    def write(self, ev: Event) -> None:
        """Write the commands of one event (a key's value events come between its
        ``KeyStart`` and ``KeyEnd``)."""
        if self._closed:
            raise WriteError("write after close")
        ks = self._key
        if ks is None:
            if isinstance(ev, KeyStart):
                self._start(ev)
            elif isinstance(ev, Function):
                self._function(ev)
            elif isinstance(ev, Command):  # written as it is
                self._want_db = ev.db
                self._cmd(*ev.args)
            elif isinstance(ev, ModuleAux):
                self._lose(f"module aux data of {ev.module_name!r} dropped: an AOF holds "
                           "only what the module's own rewrite writes")
            elif isinstance(ev, KeyEnd):
                raise WriteError(f"KeyEnd for {key_text(ev.key)} outside a key")
            return  # Header, Aux, SelectDb, ResizeDb, SlotInfo, End: nothing in an AOF
        if self._skip:
            if isinstance(ev, KeyEnd):
                self._key = None
            return
        if isinstance(ev, StringValue):
            self._cmd(b"SET" if self._pieces == 0 else b"APPEND", ks.key, bytes(ev.data))
            self._pieces += 1
        elif isinstance(ev, ListItems):
            self._add_many(ks, ev.items, 1)
        elif isinstance(ev, SetMembers):
            self._add_many(ks, ev.members, 1)
        elif isinstance(ev, ZSetMembers):
            self._add_many(ks, _zset_args(ks.key, ev.members, self.level), 2)
        elif isinstance(ev, HashFields):
            self._hash(ks, ev)
        elif isinstance(ev, StreamEntries):
            self._stream_of(ks).entries(ev)
        elif isinstance(ev, StreamMeta):
            self._stream_of(ks).meta = ev
        elif isinstance(ev, StreamGroup):
            self._stream_of(ks).groups.append(ev)
        elif isinstance(ev, StreamIdmp):
            self._lose("stream idempotent-producer state dropped (no command sets it)", ks)
        elif isinstance(ev, KeyEnd):
            self._end(ks)
        else:
            raise WriteError(f"key {key_text(ks.key)}: {type(ev).__name__} inside a key")

    def write_plain(self, db: int, key: bytes, type: str, value: Any,
                    expire_ms: int | None) -> None:
        """Write one whole key without going through events (the same commands as its
        events would give): ``value`` is ``bytes`` for a string, a sequence of
        ``bytes`` for a list or set, of ``(member, score)`` for a sorted set, of
        ``(field, value)`` for a hash without field TTLs."""
        if self._closed:
            raise WriteError("write after close")
        if self._key is not None:
            raise WriteError(f"key {key_text(key)} written inside key {key_text(self._key.key)}")
        self._want_db = db
        if type == "string":
            self._cmd(b"SET", key, value)
        else:
            if not value:
                self._lose(f"empty {type} dropped: servers do not keep empty keys",
                           KeyStart(db, key, type, "", 0))
                self.report.dropped_keys += 1
                return
            if type == "zset":
                flat = _zset_args(key, value, self.level)
                width = 2
            elif type == "hash":
                flat = list(chain.from_iterable(value))
                width = 2
            else:
                flat, width = value, 1
            per = ITEMS_PER_COMMAND * width
            name = ADD_COMMANDS[type]
            for start in range(0, len(flat), per):
                self._cmd(name, key, *flat[start:start + per])
        if expire_ms is not None:
            self._cmd(b"PEXPIREAT", key, b"%d" % expire_ms)
        self.report.keys += 1

    def write_all(self, events: Iterable[Event]) -> LossReport:
        """Write every event, then ``close()``; return the loss report."""
        for ev in events:
            self.write(ev)
        self.close()
        return self.report

    def close(self) -> None:
        """Write out what is buffered (the file itself stays open)."""
        if self._key is not None and not self._closed:
            raise WriteError(f"input ended inside key {key_text(self._key.key)}")
        self._sink.flush()
        self._closed = True

    # ------------------------------------------------------------------ file level

    def _function(self, ev: Function) -> None:
        """``FUNCTION LOAD <code>`` (``rewriteFunctions``; libraries exist from 7.0)."""
        if not self.target.has_functions:
            self._lose(f"function library dropped: RDB {self.target.version}'s server has "
                       "no functions")
            return
        code = bytes(ev.code)
        if ev.pre_ga and ev.name is not None and not code.startswith(b"#!"):
            code = b"#!" + (ev.engine or b"lua").lower() + b" name=" + ev.name + b"\n" + code
        self._cmd(b"FUNCTION", b"LOAD", code)

    # ------------------------------------------------------------------ keys

    def _start(self, ks: KeyStart) -> None:
        self._key = ks
        self._skip = False
        self._args = []
        self._pieces = 0
        self._created = False
        if self._stream is not None:
            self._stream.spool.close()
        self._stream = None
        self._per_field = ks.type == "hash" and ks.rdb_type in _TTL_HASH_TYPES
        why = None
        if ks.type == "module":
            why = "module value dropped: only its module can rewrite it"
        elif ks.type == "not-replayed":
            why = "key not replayed: aoftool rewrite keeps its commands"
        elif ks.type == "stream" and not self.target.has_streams:
            why = "stream dropped: servers before 5.0 have no streams"
        elif ks.type not in ("string", "stream") and ks.type not in ADD_COMMANDS:
            raise WriteError(f"unknown key type {ks.type!r} (key {key_text(ks.key)})")
        if why is not None:
            self._lose(why, ks)
            self.report.dropped_keys += 1
            self._skip = True
            return
        self._want_db = ks.db

    def _add_many(self, ks: KeyStart, flat: Sequence[bytes], width: int) -> None:
        """Queue elements of ``width`` arguments each (``flat``: their arguments in
        order); write a command for each 64 of them, as adding them one by one would."""
        if not flat:
            return
        self._created = True
        args = self._args
        args += flat
        per = ITEMS_PER_COMMAND * width
        if len(args) < per:
            return
        start = 0
        while len(args) - start >= per:
            self._cmd(ADD_COMMANDS[ks.type], ks.key, *args[start:start + per])
            start += per
        self._args = args[start:]

    def _flush(self, ks: KeyStart) -> None:
        if self._args:
            self._cmd(ADD_COMMANDS[ks.type], ks.key, *self._args)
            self._args = []

    def _hash(self, ks: KeyStart, ev: HashFields) -> None:
        """Batches of 64 pairs; a hash with field TTLs field by field, each TTL right
        after its field (7.4's ``rewriteHashObject``)."""
        fields = ev.fields
        if not self._per_field:
            # the fields before the first one with a TTL go in batches
            n = next((i for i, f in enumerate(fields) if f[2] is not None), len(fields))
            self._add_many(ks, [bytes(x) for name, value, _ in fields[:n]
                                for x in (name, value)], 2)
            if n == len(fields):
                return
            self._flush(ks)
            self._per_field = True
            fields = fields[n:]
        for name, value, ttl in fields:
            name = bytes(name)
            self._cmd(b"HMSET", ks.key, name, bytes(value))
            self._created = True
            if ttl is None:
                continue
            if self.target.has_field_ttls:
                self._cmd(b"HPEXPIREAT", ks.key, b"%d" % ttl, b"FIELDS", b"1", name)
            else:
                self._lose(f"TTL of field {name!r} dropped: servers before 7.4 have no "
                           "field TTLs", ks)

    def _stream_of(self, ks: KeyStart) -> StreamRewrite:
        if self._stream is None:
            self._stream = StreamRewrite(ks.key, self.level)
        return self._stream

    def _end(self, ks: KeyStart) -> None:
        self._key = None
        if ks.type in ADD_COMMANDS:
            self._flush(ks)
            if not self._created:
                self._lose(f"empty {ks.type} dropped: servers do not keep empty keys", ks)
                self.report.dropped_keys += 1
                return
        elif ks.type == "string" and self._pieces == 0:
            self._cmd(b"SET", ks.key, b"")
        elif ks.type == "stream":
            stream = self._stream_of(ks)
            self._stream = None
            self._select()
            stream.finish(self._emit, lambda what: self._lose(what, ks))
        if ks.expire_ms is not None:
            self._cmd(b"PEXPIREAT", ks.key, b"%d" % ks.expire_ms)
        self.report.keys += 1


def write_aof(events: Iterable[Event], out: BinaryIO, version: int | str = 10, *,
              timestamp: int | None = None, strict: bool = False) -> LossReport:
    """Write ``events`` to ``out`` as rewrite commands; return the loss report."""
    return AofWriter(out, version, timestamp=timestamp, strict=strict).write_all(events)
