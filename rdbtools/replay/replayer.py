"""``Replayer``: the keyspace being rebuilt, fed AOF items, each command dispatched
through a ``COMMANDS`` table (``rdbtools.replay.commands``); ``replay()`` drives one (see
``rdbtools.replay``)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from rdbtools.aof.reader import AofItem, TimestampCut
from rdbtools.aof.resp import Batch
from rdbtools.errors import UnsupportedType
from rdbtools.events import AofPart, Aux, Command, Event, Function, Header, KeyEnd, KeyStart
from rdbtools.replay.args import CmdError
from rdbtools.replay.commands import COMMANDS
from rdbtools.replay.commands.modules import NOT_REPLAYED, carry, carry_if_tainted, flushed
from rdbtools.replay.emit import key_events, zset_order
from rdbtools.replay.keyspace import REFUSALS_KEPT, Handler, Keyspace, Obj, Refusal
from rdbtools.replay.loader import Loader

__all__ = ["REFUSALS_KEPT", "Handler", "Refusal", "Replayer", "base_events", "replay"]


def _ignore(ev: object) -> None:
    """An item with nothing to apply (a ``#TS:`` cut mark)."""


@dataclass
class Replayer(Keyspace):
    """The keyspace being rebuilt. ``apply(events)`` feeds events; ``events()`` yields the
    result. ``skipped``: unknown commands skipped (``skip_unknown``), by name;
    ``errors``: commands that failed as on the server (no effect), by name."""

    commands: Mapping[bytes, Handler] = field(default_factory=lambda: COMMANDS)
    _part: str | None = None
    _multi: list[Command] | None = None
    _loader: Loader = field(default_factory=Loader)
    _loading: bool = False
    """Inside a key of an RDB part: value events go to the loader."""

    # ---------------------------------------------------------------- feeding

    def apply(self, events: Iterable[AofItem]) -> None:
        """Apply ``events``: what ``read_aof`` yields, or what ``iter_aof`` yields (its
        ``Batch`` objects are applied without building a ``Command`` per command)."""
        # The keyspace grows to millions of container objects, and the cyclic garbage
        # collector would walk them all again and again (a third of the replay time);
        # replay builds no reference cycles, so it is paused while applying.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._apply(events)
        finally:
            if collecting:
                gc.enable()

    def _apply(self, events: Iterable[AofItem]) -> None:
        handlers: dict[type, Callable[[Any], None]] = {
            Batch: self._batch_located, Command: self._command_located,
            KeyStart: self._key_start, KeyEnd: self._key_end, Function: self._function,
            AofPart: self._aof_part, Header: self._header, Aux: self._aux,
            TimestampCut: _ignore,
        }
        self._loading = False
        get = handlers.get
        for ev in events:
            handler = get(type(ev))
            if handler is not None:
                handler(ev)
            elif self._loading:
                self._loader.feed(cast(Event, ev))
        self._multi = None  # a MULTI without EXEC at the end is discarded

    def _batch_located(self, b: Batch) -> None:
        try:
            self._batch(b)
        except UnsupportedType as err:
            raise err.located(self._part, None, None) from None

    def _command_located(self, cmd: Command) -> None:
        try:
            self._command(cmd)
        except UnsupportedType as err:
            raise err.located(self._part, None, None) from None

    def _key_start(self, ev: KeyStart) -> None:
        self._loader.begin(ev)
        self._loading = True

    def _key_end(self, ev: KeyEnd) -> None:
        if self._loading:
            start, obj = self._loader.end()
            self.db(start.db)[bytes(start.key)] = obj
            if start.db >= self.databases:
                self.databases = start.db + 1
            self._loading = False

    def _function(self, ev: Function) -> None:
        name = ev.library
        self.functions[name] = bytes(ev.code)
        self.function_events[name] = ev

    def _aof_part(self, ev: AofPart) -> None:
        self._part = ev.path
        self.remap = None
        if ev.kind in ("base", "incr"):
            self.listpack_zero = True

    def _aux(self, ev: Aux) -> None:
        self.aux.append(ev)

    def _header(self, ev: Header) -> None:
        self.aux = []
        if ev.version >= 10:
            self.listpack_zero = True

    def _batch(self, b: Batch) -> None:
        """The commands of one RESP batch; the common case (a known command named in
        upper case, outside MULTI) goes straight to its handler, the rest through
        ``_command``."""
        db, ts = b.db, b.timestamp
        now = ts * 1000 if ts is not None else self.now_ms
        get = self.commands.get
        for args, off in zip(b.args, b.offsets):
            handler = get(args[0])
            if (handler is None or self._multi is not None or self.tainted
                    or self.remap is not None):
                self._command(Command(db, args, off, ts))
                continue
            self.clock_ms = now
            try:
                handler(self, db, list(args[1:]), off)
            except (CmdError, IndexError, ValueError) as exc:
                if isinstance(exc, UnsupportedType):
                    raise exc.located(None, off, _key_of(args)) from None
                self._refuse(args[0], off, exc)

    def _command(self, cmd: Command) -> None:
        if not cmd.args:
            return
        name = cmd.args[0].upper()
        if name == b"MULTI":
            self._multi = []
            return
        if name == b"EXEC":
            block, self._multi = self._multi or [], None
            for c in block:
                self.execute(c)
            return
        if self._multi is not None:
            self._multi.append(cmd)
            return
        self.execute(cmd)

    def execute(self, cmd: Command) -> None:
        """Apply one command now (no MULTI buffering)."""
        name = cmd.args[0].upper()
        remap = self.remap
        if remap is not None and cmd.db == remap[0]:  # after a SELECT the server refused
            cmd = Command(remap[1], cmd.args, cmd.offset, cmd.timestamp)
        handler = self.commands.get(name)
        if self.tainted and carry_if_tainted(self, cmd):
            return
        if handler is None:
            text = name.decode("utf-8", "replace")
            if self.skip_unknown:
                self.skipped[text] += 1
                return
            if not self.strict:
                carry(self, cmd)
                return
            raise UnsupportedType(f"replay: unsupported command {text}", offset=cmd.offset,
                                  key=_key_of(cmd.args))
        self.clock_ms = cmd.timestamp * 1000 if cmd.timestamp is not None else self.now_ms
        try:
            handler(self, cmd.db, list(cmd.args[1:]), cmd.offset)
        except (CmdError, IndexError, ValueError) as exc:
            if isinstance(exc, UnsupportedType):
                raise exc.located(None, cmd.offset, _key_of(cmd.args)) from None
            self._refuse(name, cmd.offset, exc)
            return
        if self.carried and name in (b"FLUSHALL", b"FLUSHDB"):
            flushed(self, cmd.db, name == b"FLUSHALL")

    def _refuse(self, name: bytes, offset: int, exc: Exception) -> None:
        """Count a command the server would refuse; keep the first few for reports."""
        text = name.upper().decode("utf-8", "replace")
        self.errors[text] += 1
        if len(self.refusals) < REFUSALS_KEPT:
            why = "wrong number of arguments" if isinstance(exc, IndexError) else str(exc)
            self.refusals.append(Refusal(self._part, offset, text[:40], why[:200]))

    # ---------------------------------------------------------------- output

    def events(self) -> Iterator[Event]:
        """The AUX fields of the last RDB part read (a preamble or base: they say which
        server wrote it), the function libraries, then every key (``items()``)."""
        yield from self.aux
        yield from self.function_list()
        lz = self.listpack_zero
        for dbn, key, o in self.items():
            yield from key_events(dbn, key, o, lz)

    def key_events(self, db: int, key: bytes, o: Obj) -> Iterator[Event]:
        """One key of ``items()`` as the events ``events()`` yields for it."""
        return key_events(db, key, o, self.listpack_zero)

    def plain_value(self, o: Obj) -> Any:
        """The value of a string, list, set, sorted set or hash without field TTLs in
        the order ``events()`` gives it (``bytes``; ``list[bytes]``; sorted
        ``list[bytes]``; ``list[(member, score)]`` by score then member;
        ``list[(field, value)]`` by field), or ``None`` for the other keys."""
        t = o.type
        if t == "string":
            return o.value
        if t == "list":
            return list(o.value)
        if t == "set":
            return sorted(o.value)
        if t == "zset":
            return zset_order(o.value, self.listpack_zero)
        if t == "hash":
            if any(ttl is not None for _, ttl in o.value.values()):
                return None
            return [(f, x) for f, (x, _) in sorted(o.value.items())]
        return None


def _key_of(args: tuple[bytes, ...]) -> bytes | None:
    """The key a command names first (its second argument), for error messages."""
    return bytes(args[1]) if len(args) > 1 else None


def replay(events: Iterable[AofItem], *, skip_unknown: bool = False, strict: bool = False,
           replayer: Replayer | None = None) -> Iterator[Event]:
    """Apply ``events`` (from ``read_aof``, or ``iter_aof``: faster) and yield the
    resulting keyspace (see the module docstring). Pass ``replayer`` to read its
    ``skipped`` / ``errors`` counters afterwards. The keyspace is held in memory."""
    r = replayer if replayer is not None else Replayer(skip_unknown=skip_unknown,
                                                       strict=strict)
    if replayer is not None and skip_unknown:
        r.skip_unknown = True
    if replayer is not None and strict:
        r.strict = True
    r.apply(events)
    yield from r.events()


def base_events(r: Replayer) -> Iterator[Event]:
    """The function libraries and keys of ``r`` (no AUX fields), each ``not-replayed``
    key as what it held before its first carried command (left out if nothing): what a
    rewrite writes before the carried commands."""
    yield from r.function_list()
    for db, key, o in r.items():
        if o.type == NOT_REPLAYED:
            o = o.value.base
            if o is None:
                continue
        yield from r.key_events(db, key, o)
