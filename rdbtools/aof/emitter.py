"""Key events as the commands that rebuild them on a server, for ``rdbtool dump --resp``
(``rdbtools.formats.resp``) and the AOF writer (``rdbtools.aof.writer``).

The commands are those of ``rewriteAppendOnlyFileRio`` (Redis ``aof.c``, FORMAT.md §8.7),
each built by ``rdbtools.aof.commands``: ``SET``; ``RPUSH`` / ``SADD`` / ``ZADD`` /
``HMSET`` with at most ``AOF_REWRITE_ITEMS_PER_CMD`` (64) elements each; ``HPEXPIREAT``
for a field TTL; for streams ``XADD`` per entry (``XADD key MAXLEN 0 0-1 x y`` for an
empty stream), ``XSETID``, ``XGROUP CREATE``, ``XGROUP CREATECONSUMER`` and ``XCLAIM ...
JUSTID FORCE``; ``PEXPIREAT`` for a key TTL; ``FUNCTION LOAD`` per function library;
``JSON.SET key $ <text>`` for a RedisJSON document. A string that arrives in several
pieces is ``SET`` with the first piece and ``APPEND`` with each next one, so that a big
string is never held whole.

What differs between the users is in ``Forms``: the score text, where a field TTL goes,
whether a stream is written as its events arrive or as one server's
``rewriteStreamObject`` writes it (``rdbtools.aof.stream_rewrite``), and the ``FUNCTION
LOAD`` form. What to do with a whole key (its database, keys that cannot be written) is
the user's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rdbtools.aof.commands import (
    ADD_COMMANDS,
    ITEMS_PER_COMMAND,
    TTL_HASH_TYPES,
    Args,
    Lose,
    empty_stream,
    expire_command,
    field_ttl_command,
    group_commands,
    xadd,
    xsetid,
    zadd_args,
)
from rdbtools.aof.stream_rewrite import StreamRewrite
from rdbtools.errors import WriteError, key_text
from rdbtools.events import (
    Function,
    HashFields,
    KeyStart,
    ListItems,
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


@dataclass(frozen=True, slots=True)
class Forms:
    """The command forms an ``Emitter`` writes.

    ``shortest_scores``: a score as the shortest text that reads back to the same double
    (7.2+), else ``%.17g``. ``hash_ttls``: ``"after-batch"`` writes a field's
    ``HPEXPIREAT`` after the ``HMSET`` batch holding it; ``"per-field"`` as 7.4's
    ``rewriteHashObject``: a hash with field TTLs (all of it when its RDB type may hold
    them, else from its first field with one) one ``HMSET key f v`` per field, each TTL
    right after its field. ``field_ttls``: the server has ``HPEXPIREAT`` (else a field TTL
    is lost). ``stream_level``: a stream as the ``rewriteStreamObject`` of that RDB
    level's server writes it, at the key's end; ``None``: each command as its event
    arrives, in the forms the events hold. ``function_load``: the command words before a
    function library's code. ``pre_ga_functions``: a pre-GA function library is loaded
    with the ``#!<engine> name=<name>`` line 7.0 wants (else it is lost)."""

    shortest_scores: bool = True
    hash_ttls: Literal["after-batch", "per-field"] = "after-batch"
    field_ttls: bool = True
    stream_level: int | None = None
    function_load: Args = (b"FUNCTION", b"LOAD", b"REPLACE")
    pre_ga_functions: bool = False


class Emitter:
    """The commands of key events, written with ``cmd`` (the arguments of one command)
    as soon as they are known.

    ``start(ks)`` begins a key; ``value(ev)`` takes each event between its ``KeyStart``
    and ``KeyEnd``; ``end()`` writes what is held and returns how many value commands the
    key got (0: a server would not hold the key); ``expire()`` writes its TTL.
    ``function(ev)`` writes a function library. ``raw`` takes a whole RESP command (a
    spooled stream's); ``lose`` is told what cannot be written."""

    def __init__(self, cmd: Callable[..., None], raw: Callable[[bytes], None],
                 lose: Lose, forms: Forms) -> None:
        self.cmd = cmd
        self.raw = raw
        self.lose = lose
        self.forms = forms
        self.key: KeyStart = KeyStart(0, b"", "", "", 0)
        self.written = 0
        self._args: list[bytes] = []
        self._after: list[Args] = []
        self._per_field = False
        self._stream: StreamRewrite | None = None
        self._on: dict[type, Callable[[Any], None]] = {
            StringValue: self._string,
            ListItems: self._list,
            SetMembers: self._set,
            ZSetMembers: self._zset,
            HashFields: self._hash,
            StreamEntries: self._entries,
            StreamMeta: self._meta,
            StreamGroup: self._group,
            StreamIdmp: self._idmp,
            ModuleValue: self._module,
            NotReplayed: self._nothing,
        }

    # ------------------------------------------------------------------ keys

    def start(self, ks: KeyStart) -> None:
        """Begin the key ``ks``."""
        self.key = ks
        self.written = 0
        self._args = []
        self._after = []
        self._per_field = self.forms.hash_ttls == "per-field" and ks.type == "hash" \
            and ks.rdb_type in TTL_HASH_TYPES
        self.close_stream()

    def value(self, ev: object) -> None:
        """The commands of one value event of the current key."""
        on = self._on.get(type(ev))
        if on is None:
            raise WriteError(f"key {key_text(self.key.key)}: {type(ev).__name__} inside a key")
        on(ev)

    def end(self) -> int:
        """Write what the current key holds back; the number of its value commands."""
        ks = self.key
        if ks.type in ADD_COMMANDS:
            self._flush()
        elif ks.type == "string" and self.written == 0:
            self._write(b"SET", ks.key, b"")
        elif ks.type == "stream":
            self._end_stream()
        return self.written

    def expire(self) -> None:
        """The current key's TTL, if it has one."""
        ks = self.key
        if ks.expire_ms is not None:
            self.cmd(*expire_command(ks.key, ks.expire_ms))

    def close_stream(self) -> None:
        """Drop a stream being gathered (its spool's file, if any)."""
        if self._stream is not None:
            self._stream.spool.close()
            self._stream = None

    def function(self, ev: Function) -> None:
        """``FUNCTION LOAD <code>`` (``rewriteFunctions``)."""
        code = ev.code
        if ev.pre_ga:
            if not self.forms.pre_ga_functions:
                self.lose("pre-GA function libraries", "pre-GA function library dropped", 1)
                return
            code = bytes(code)
            if ev.name is not None and not code.startswith(b"#!"):
                code = b"#!" + (ev.engine or b"lua").lower() + b" name=" + ev.name + b"\n" \
                    + code
        self.cmd(*self.forms.function_load, code)

    # ------------------------------------------------------------------ values

    def _write(self, *args: bytes) -> None:
        self.written += 1
        self.cmd(*args)

    def _add_many(self, flat: Sequence[bytes], width: int) -> None:
        """Gather elements of ``width`` arguments each (``flat``: their arguments in
        order); write a command for each 64 of them, as adding them one by one would."""
        if not flat:
            return
        args = self._args
        args += flat
        per = ITEMS_PER_COMMAND * width
        if len(args) < per:
            return
        ks = self.key
        start = 0
        while len(args) - start >= per:
            self._write(ADD_COMMANDS[ks.type], ks.key, *args[start:start + per])
            start += per
            self._write_after()
        self._args = args[start:]

    def _flush(self) -> None:
        if self._args:
            ks = self.key
            self._write(ADD_COMMANDS[ks.type], ks.key, *self._args)
            self._args = []
        self._write_after()

    def _write_after(self) -> None:
        """The field TTLs of the batch just written."""
        for args in self._after:
            self.cmd(*args)
        self._after = []

    def _string(self, ev: StringValue) -> None:
        self._write(b"SET" if self.written == 0 else b"APPEND", self.key.key, ev.data)

    def _list(self, ev: ListItems) -> None:
        self._add_many(ev.items, 1)

    def _set(self, ev: SetMembers) -> None:
        self._add_many(ev.members, 1)

    def _zset(self, ev: ZSetMembers) -> None:
        self._add_many(zadd_args(self.key.key, ev.members, self.forms.shortest_scores), 2)

    def _hash(self, ev: HashFields) -> None:
        fields = ev.fields
        if not self._per_field:
            # the fields before the first one with a TTL go in batches
            n = next((i for i, f in enumerate(fields) if f[2] is not None), len(fields))
            self._add_many([x for name, value, _ in fields[:n] for x in (name, value)], 2)
            if n == len(fields):
                return
            fields = fields[n:]
            if self.forms.hash_ttls == "after-batch":
                self._after_batch(fields)
                return
            self._flush()
            self._per_field = True
        key = self.key.key
        for name, value, ttl in fields:
            self._write(b"HMSET", key, name, value)
            if ttl is not None:
                self._field_ttl(name, ttl)

    def _after_batch(self, fields: Sequence[tuple[bytes, bytes, int | None]]) -> None:
        """Fields one by one, each TTL after the batch that holds its field."""
        for name, value, ttl in fields:
            if ttl is not None:
                self._after.append(field_ttl_command(self.key.key, name, ttl))
            self._add_many((name, value), 2)

    def _field_ttl(self, name: bytes, ttl: int) -> None:
        if self.forms.field_ttls:
            self.cmd(*field_ttl_command(self.key.key, name, ttl))
        else:
            self.lose("field TTLs", f"TTL of field {bytes(name)!r} dropped: servers before "
                      "7.4 have no field TTLs", 1)

    def _module(self, ev: ModuleValue) -> None:
        if ev.decoded is not None and ev.decoded.type == "json":
            self._write(b"JSON.SET", self.key.key, b"$", json_text(ev.decoded.document))

    def _nothing(self, ev: NotReplayed) -> None:
        """A key replay did not model: its user counts it at its start."""

    def _idmp(self, ev: StreamIdmp) -> None:
        self.lose("stream idempotency states",
                  "stream idempotent-producer state dropped (no command sets it)", 1)

    # ------------------------------------------------------------------ streams

    def _spooled(self) -> StreamRewrite | None:
        level = self.forms.stream_level
        if level is None:
            return None
        if self._stream is None:
            self._stream = StreamRewrite(self.key.key, level)
        return self._stream

    def _made(self) -> None:
        """``XADD key MAXLEN 0 0-1 x y`` unless the stream has a command already."""
        if self.written == 0:
            self._write(*empty_stream(self.key.key))

    def _entries(self, ev: StreamEntries) -> None:
        stream = self._spooled()
        if stream is not None:
            stream.entries(ev)
            return
        key = self.key.key
        for entry in ev.entries:
            self._write(*xadd(key, entry))

    def _meta(self, ev: StreamMeta) -> None:
        stream = self._spooled()
        if stream is not None:
            stream.meta = ev
            return
        self._made()
        self.cmd(*xsetid(self.key.key, ev, None))

    def _group(self, ev: StreamGroup) -> None:
        stream = self._spooled()
        if stream is not None:
            stream.groups.append(ev)
            return
        self._made()
        for args in group_commands(self.key.key, ev, None, self.lose):
            self.cmd(*args)

    def _end_stream(self) -> None:
        stream = self._spooled()
        if stream is None:
            self._made()
            return
        self._stream = None
        self.written += 1
        stream.finish(self.raw, self.lose)
