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

from typing import BinaryIO

from rdbtools.aof.commands import resp_command
from rdbtools.aof.emitter import Emitter, Forms
from rdbtools.errors import WriteError, key_text
from rdbtools.events import Event, Function, KeyEnd, KeyStart, ModuleAux
from rdbtools.sinks import BytesSink

command = resp_command
"""One command as a RESP array of bulk strings."""

FORMS = Forms()
"""Scores as their shortest round-trip text, a field TTL after its ``HMSET`` batch, a
stream's commands as its events arrive, ``FUNCTION LOAD REPLACE``."""


class RespWriter:
    """Writes an event stream as RESP commands to the binary file ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self._sink = BytesSink(out)
        self._db: int | None = None
        self._key: KeyStart | None = None
        self._skipping = False
        self._emitter = Emitter(self._cmd, self._sink.emit, self._lose, FORMS)
        self.keys = 0
        self.skipped: dict[str, int] = {}

    def _cmd(self, *args: bytes) -> None:
        """Write one command (subclasses may collect the arguments instead)."""
        self._sink.emit(command(*args))

    def _skip(self, what: str, n: int = 1) -> None:
        self.skipped[what] = self.skipped.get(what, 0) + n

    def _lose(self, what: str, sentence: str, n: int) -> None:
        self._skip(what, n)

    def write(self, ev: Event) -> None:
        """Write the commands for one event."""
        if isinstance(ev, KeyStart):
            self._start(ev)
        elif self._key is None:
            if isinstance(ev, Function):
                self._emitter.function(ev)
            elif isinstance(ev, ModuleAux):
                self._skip("module aux records")
            elif isinstance(ev, KeyEnd):
                raise WriteError(f"KeyEnd for {key_text(ev.key)} outside a key")
        elif isinstance(ev, KeyEnd):
            self._end(self._key)
        elif not self._skipping:
            self._emitter.value(ev)

    def _start(self, ks: KeyStart) -> None:
        self._key = ks
        self._skipping = ks.type == "not-replayed"
        if self._skipping:
            self._skip("keys not replayed")
            return
        self._emitter.start(ks)
        if ks.db != self._db:
            self._cmd(b"SELECT", b"%d" % ks.db)
            self._db = ks.db

    def _end(self, ks: KeyStart) -> None:
        self._key = None
        if self._skipping:
            return
        written = self._emitter.end()
        if ks.type == "module" and written == 0:  # written only as a JSON document
            self._skip("module keys")
            return
        self._emitter.expire()
        self.keys += 1

    def close(self) -> None:
        """Write out what is buffered (the file itself stays open)."""
        self._sink.flush()
