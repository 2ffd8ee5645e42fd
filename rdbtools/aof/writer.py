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
(``rdbtools.aof.stream_rewrite``: the server's own rewrite loses it); and, for bounded
memory, a string that arrives in several ``StringValue`` pieces is written as ``SET``
with the first piece and ``APPEND`` with each next one. Everything is written as it
arrives (the writer holds at most one command), except a stream's ``XADD`` commands,
which wait in a spool (memory up to 8 MiB, then a temporary file) until its groups are
known.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any, BinaryIO

from rdbtools.aof.commands import (
    ADD_COMMANDS,
    add_commands,
    expire_command,
    resp_command,
    zadd_args,
)
from rdbtools.aof.emitter import Emitter, Forms
from rdbtools.errors import WriteError, key_text
from rdbtools.events import Command, Event, Function, KeyEnd, KeyStart, ModuleAux
from rdbtools.rdb.targets import Target
from rdbtools.rdb.writer import Loss, LossReport
from rdbtools.sinks import BytesSink

REWRITE_FORMATS = ("aof", "preamble", "rdb")
"""What a rewrite writes as the base: RESP commands, an RDB preamble followed by
commands (``aof-use-rdb-preamble yes``), or an RDB base file (multi-part, 7.0+)."""


def forms_of(target: Target) -> Forms:
    """The command forms of ``target``'s server: scores as ``rioWriteBulkDouble`` prints
    them (``%.17g`` up to 7.0, RDB 10; the shortest round-trip text from 7.2), hashes
    with field TTLs field by field (7.4's ``rewriteHashObject``), streams as its
    ``rewriteStreamObject``, ``FUNCTION LOAD <code>``."""
    return Forms(shortest_scores=target.level > 10, hash_ttls="per-field",
                 field_ttls=target.has_field_ttls, stream_level=target.level,
                 function_load=(b"FUNCTION", b"LOAD"), pre_ga_functions=True)


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
        self._emitter = Emitter(self._cmd, self._raw, self._lose_value, forms_of(self.target))
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

    def _raw(self, data: bytes) -> None:
        self._select()
        self._emit(data)

    def _lose(self, what: str, ks: KeyStart | None = None) -> None:
        loss = Loss(what, ks.db if ks else None, ks.key if ks else None)
        if self.strict:
            raise WriteError(f"an AOF for RDB {self.target.version} cannot hold this: {loss}")
        self.report.losses.append(loss)

    def _lose_value(self, kind: str, sentence: str, n: int) -> None:
        """What the current key's events hold that the target cannot be told."""
        self._lose(sentence, self._emitter.key)

    def _drop(self, what: str, ks: KeyStart) -> None:
        self._lose(what, ks)
        self.report.dropped_keys += 1

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
        if isinstance(ev, KeyEnd):
            if self._skip:
                self._key = None
            else:
                self._end(ks)
        elif not self._skip:
            self._emitter.value(ev)

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
                self._drop(f"empty {type} dropped: servers do not keep empty keys",
                           KeyStart(db, key, type, "", 0))
                return
            if type == "zset":
                flat = zadd_args(key, value, self._emitter.forms.shortest_scores)
                width = 2
            elif type == "hash":
                flat = list(chain.from_iterable(value))
                width = 2
            else:
                flat, width = value, 1
            for args in add_commands(type, key, flat, width):
                self._cmd(*args)
        if expire_ms is not None:
            self._cmd(*expire_command(key, expire_ms))
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
        self._emitter.function(ev)

    # ------------------------------------------------------------------ keys

    def _start(self, ks: KeyStart) -> None:
        self._key = ks
        self._skip = False
        self._emitter.start(ks)
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
            self._drop(why, ks)
            self._skip = True
            return
        self._want_db = ks.db

    def _end(self, ks: KeyStart) -> None:
        self._key = None
        if self._emitter.end() == 0 and ks.type in ADD_COMMANDS:
            self._drop(f"empty {ks.type} dropped: servers do not keep empty keys", ks)
            return
        self._emitter.expire()
        self.report.keys += 1


def write_aof(events: Iterable[Event], out: BinaryIO, version: int | str = 10, *,
              timestamp: int | None = None, strict: bool = False) -> LossReport:
    """Write ``events`` to ``out`` as rewrite commands; return the loss report."""
    return AofWriter(out, version, timestamp=timestamp, strict=strict).write_all(events)
