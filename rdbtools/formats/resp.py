"""RESP commands that rebuild the data on a server (``redis-cli --pipe`` input).

The commands are those ``BGREWRITEAOF`` writes (FORMAT.md §8.7): ``SELECT`` when the
database changes; ``SET``; ``RPUSH`` / ``SADD`` / ``ZADD`` / ``HMSET`` with at most 64
elements each; ``HPEXPIREAT key ms FIELDS 1 field`` after the ``HMSET`` holding a field
with a TTL; for streams ``XADD`` per entry (``XADD key MAXLEN 0 0-1 x y`` for an empty
stream), ``XSETID``, ``XGROUP CREATE``, one ``XCLAIM ... JUSTID FORCE`` per pending entry
and ``XGROUP CREATECONSUMER`` for consumers without pending entries; ``PEXPIREAT`` for a
key TTL; ``FUNCTION LOAD REPLACE`` per function library; ``JSON.SET key $ <text>`` for a
RedisJSON document (for a server with the module).

Two choices differ from ``BGREWRITEAOF``: a string that arrives in several pieces is
written as ``SET`` with the first piece and ``APPEND`` with each next one, so a big string
is never held whole; and what RESP cannot express is skipped and counted in ``skipped``
(other module values and module aux data, keys an AOF replay did not model, pre-GA
function libraries, stream idempotency state, pending entries no consumer owns).
"""

from __future__ import annotations

import math
from typing import BinaryIO

from rdbtools.aof._resp_out import ADD_COMMANDS, ITEMS_PER_COMMAND, resp_command
from rdbtools.aof._resp_out import sid as _id
from rdbtools.errors import WriteError, key_text
from rdbtools.events import (
    Event,
    Function,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleAux,
    ModuleValue,
    NotReplayed,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StreamIdmp,
    StreamMeta,
    StringValue,
    ZSetMembers,
)
from rdbtools.rdb.module_types import json_text
from rdbtools.sinks import BytesSink

command = resp_command
"""One command as a RESP array of bulk strings."""


def score_text(score: float, key: bytes) -> bytes:
    """A score as the shortest text that reads back to the same double."""
    if math.isfinite(score):
        return repr(score).encode("ascii")
    if math.isnan(score):
        raise WriteError(f"key {key_text(key)}: a sorted-set score is NaN, which no server accepts")
    return b"inf" if score > 0 else b"-inf"


class RespWriter:
    """Writes an event stream as RESP commands to the binary file ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self._sink = BytesSink(out)
        self._db: int | None = None
        self._key: KeyStart | None = None
        self._args: list[bytes] = []
        self._count = 0
        self._field_ttls: list[tuple[bytes, int]] = []
        self._pieces = 0
        self._stream_created = False
        self.keys = 0
        self.skipped: dict[str, int] = {}

    def _cmd(self, *args: bytes) -> None:
        """Write one command (subclasses may collect the arguments instead)."""
        self._sink.emit(command(*args))

    def _skip(self, what: str, n: int = 1) -> None:
        self.skipped[what] = self.skipped.get(what, 0) + n

    def write(self, ev: Event) -> None:
        """Write the commands for one event."""
        ks = self._key
        if isinstance(ev, KeyStart):
            self._start(ev)
        elif ks is None:
            self._file_event(ev)
        elif isinstance(ev, ListItems):
            for item in ev.items:
                self._add(ks, item)
        elif isinstance(ev, SetMembers):
            for member in ev.members:
                self._add(ks, member)
        elif isinstance(ev, ZSetMembers):
            for member, score in ev.members:
                self._add(ks, score_text(score, ks.key), member)
        elif isinstance(ev, HashFields):
            for name, value, ttl in ev.fields:
                if ttl is not None:
                    self._field_ttls.append((name, ttl))
                self._add(ks, name, value)
        elif isinstance(ev, StringValue):
            verb = b"SET" if self._pieces == 0 else b"APPEND"
            self._pieces += 1
            self._cmd(verb, ks.key, ev.data)
        elif isinstance(ev, StreamEntries):
            for entry in ev.entries:
                args = [b"XADD", ks.key, _id(entry.id)]
                for name, value in entry.fields:
                    args += (name, value)
                self._cmd(*args)
                self._stream_created = True
        elif isinstance(ev, StreamMeta):
            self._stream_meta(ks, ev)
        elif isinstance(ev, StreamGroup):
            self._stream_group(ks, ev)
        elif isinstance(ev, StreamIdmp):
            self._skip("stream idempotency states")
        elif isinstance(ev, ModuleValue):
            if ev.decoded is not None and ev.decoded.type == "json":
                self._cmd(b"JSON.SET", ks.key, b"$", json_text(ev.decoded.document))
                self._pieces += 1
        elif isinstance(ev, NotReplayed):
            pass  # the key was counted as skipped at its start
        elif isinstance(ev, KeyEnd):
            self._end(ks)
        else:
            raise WriteError(f"key {key_text(ks.key)}: {type(ev).__name__} inside a key")

    def _file_event(self, ev: Event) -> None:
        if isinstance(ev, Function):
            if ev.pre_ga:
                self._skip("pre-GA function libraries")
            else:
                self._cmd(b"FUNCTION", b"LOAD", b"REPLACE", ev.code)
        elif isinstance(ev, ModuleAux):
            self._skip("module aux records")
        elif isinstance(ev, KeyEnd):
            raise WriteError(f"KeyEnd for {key_text(ev.key)} outside a key")

    def _start(self, ks: KeyStart) -> None:
        self._key = ks
        self._args = []
        self._count = 0
        self._field_ttls = []
        self._pieces = 0
        self._stream_created = False
        if ks.type == "not-replayed":
            self._skip("keys not replayed")
            return
        if ks.db != self._db:
            self._cmd(b"SELECT", b"%d" % ks.db)
            self._db = ks.db

    def _add(self, ks: KeyStart, *element: bytes) -> None:
        """Queue one element (a member, or a score and member, or a field and value);
        write the command when it holds ``ITEMS_PER_COMMAND`` of them."""
        self._args += element
        self._count += 1
        if self._count == ITEMS_PER_COMMAND:
            self._flush(ks)

    def _flush(self, ks: KeyStart) -> None:
        if self._count:
            self._cmd(ADD_COMMANDS[ks.type], ks.key, *self._args)
            self._args = []
            self._count = 0
        for name, ttl in self._field_ttls:
            self._cmd(b"HPEXPIREAT", ks.key, b"%d" % ttl, b"FIELDS", b"1", name)
        self._field_ttls = []

    def _create_empty_stream(self, ks: KeyStart) -> None:
        if not self._stream_created:
            self._cmd(b"XADD", ks.key, b"MAXLEN", b"0", b"0-1", b"x", b"y")
            self._stream_created = True

    def _stream_meta(self, ks: KeyStart, meta: StreamMeta) -> None:
        self._create_empty_stream(ks)
        args = [b"XSETID", ks.key, _id(meta.last_id)]
        if meta.entries_added is not None and meta.max_deleted_id is not None:
            args += (
                b"ENTRIESADDED",
                b"%d" % meta.entries_added,
                b"MAXDELETEDID",
                _id(meta.max_deleted_id),
            )
        self._cmd(*args)

    def _stream_group(self, ks: KeyStart, group: StreamGroup) -> None:
        self._create_empty_stream(ks)
        args = [b"XGROUP", b"CREATE", ks.key, group.name, _id(group.last_delivered_id)]
        if group.entries_read is not None:
            args += (b"ENTRIESREAD", b"%d" % group.entries_read)
        self._cmd(*args)
        delivery = {p.id: p for p in group.pending}
        claimed = 0
        for consumer in group.consumers:
            if not consumer.pending:
                self._cmd(b"XGROUP", b"CREATECONSUMER", ks.key, group.name, consumer.name)
            for sid in consumer.pending:
                entry = delivery.get(sid)
                if entry is None:
                    self._skip("pending entries without delivery data")
                    continue
                claimed += 1
                claim = [b"XCLAIM", ks.key, group.name, consumer.name, b"0", _id(sid)]
                claim += (b"TIME", b"%d" % entry.delivery_time_ms)
                claim += (b"RETRYCOUNT", b"%d" % entry.delivery_count, b"JUSTID", b"FORCE")
                self._cmd(*claim)
        if claimed < len(group.pending):
            self._skip("pending entries no consumer owns", len(group.pending) - claimed)

    def _end(self, ks: KeyStart) -> None:
        self._key = None
        if ks.type == "not-replayed":
            return
        if ks.type == "module":
            if self._pieces == 0:  # written only as a JSON document
                self._skip("module keys")
                return
        elif ks.type in ADD_COMMANDS:
            self._flush(ks)
        elif ks.type == "string" and self._pieces == 0:
            self._cmd(b"SET", ks.key, b"")
        elif ks.type == "stream":
            self._create_empty_stream(ks)
        if ks.expire_ms is not None:
            self._cmd(b"PEXPIREAT", ks.key, b"%d" % ks.expire_ms)
        self.keys += 1

    def close(self) -> None:
        """Write out what is buffered (the file itself stays open)."""
        self._sink.flush()
