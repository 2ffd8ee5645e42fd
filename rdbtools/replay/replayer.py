"""``Replayer``: the keyspace being rebuilt, fed AOF items, each command dispatched
through a ``COMMANDS`` table (``rdbtools.replay.commands``); ``replay()`` drives one (see
``rdbtools.replay``)."""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdbtools.aof._walk import Batch
from rdbtools.aof.reader import AofItem, TimestampCut
from rdbtools.errors import UnsupportedType
from rdbtools.events import AofPart, Aux, Command, Event, Function, Header, KeyEnd, KeyStart
from rdbtools.replay.args import CmdError
from rdbtools.replay.commands import COMMANDS
from rdbtools.replay.commands.modules import carry, carry_if_tainted, flushed
from rdbtools.replay.emit import key_events, zset_order
from rdbtools.replay.keyspace import Obj
from rdbtools.replay.loader import Loader

__all__ = ["Handler", "Refusal", "Replayer", "replay"]

Handler = Callable[["Replayer", int, list[bytes], int], None]
"""A command's replay: (replayer, db, the arguments after the command name, offset)."""

REFUSALS_KEPT = 10


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command replay refused as the server would: the file (``None`` for a single
    input), the command's offset, its name, and the server's reason."""

    source: str | None
    offset: int
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source or '<input>'}@{self.offset}: {self.name}: {self.reason}"


@dataclass
class Replayer:
    """The keyspace being rebuilt. ``apply(events)`` feeds events; ``events()`` yields the
    result. ``skipped``: unknown commands skipped (``skip_unknown``), by name;
    ``errors``: commands that failed as on the server (no effect), by name."""

    skip_unknown: bool = False
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    dbs: dict[int, dict[bytes, Obj]] = field(default_factory=dict)
    functions: dict[bytes, bytes] = field(default_factory=dict)
    function_events: dict[bytes, Function] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    refusals: list[Refusal] = field(default_factory=list)
    """The first ``REFUSALS_KEPT`` commands counted in ``errors``: where, and why."""
    scripts: dict[bytes, bytes] = field(default_factory=dict)
    """Lua scripts seen in ``EVAL`` / ``SCRIPT LOAD``, by SHA1 hex, for ``EVALSHA``."""
    listpack_zero: bool = False
    """Redis 7.0+ (a multi-part AOF or an RDB 10+ preamble) stores the score of a small
    sorted set -0 as 0 (listpack): set on input, or by the caller."""
    pel_keeps_deleted: bool = False
    """Redis before 7.0: ``XCLAIM`` keeps a pending entry whose stream entry was deleted
    (7.0 drops it from the PEL); set by the caller for the AOF of such a server."""
    aux: list[Aux] = field(default_factory=list)
    strict: bool = False
    """Raise ``UnsupportedType`` for a command replay does not model (else it is carried)."""
    carried: list[Command] = field(default_factory=list)
    """The commands replay did not model, in order (``rdbtools.replay.commands.modules``)."""
    tainted: dict[int, set[bytes]] = field(default_factory=dict)
    """Per database, the names of keys carried commands touched."""
    databases: int = 16
    """The databases of the server taken to load the AOF (``COPY ... DB``, ``MOVE`` and
    ``SWAPDB`` must name one): the default 16, or more once the AOF selects (or its RDB
    part holds keys in) a higher database, which only a server with more can write."""
    commands: Mapping[bytes, Handler] = field(default_factory=lambda: COMMANDS)
    """The handler of each command replay models, by upper-case name
    (``rdbtools.replay.commands.COMMANDS``); any other command is carried, skipped or
    refused (``strict``)."""
    remap: tuple[int, int] | None = None
    """After a ``SELECT`` the server refuses: (the number the reader switched to, the
    database the commands stay in), until the next ``SELECT`` or file."""
    _part: str | None = None
    _multi: list[Command] | None = None
    _loader: Loader = field(default_factory=Loader)
    clock_ms: int = 0
    """The time of the command being applied (unix ms): its ``#TS:`` time, else ``now_ms``."""

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
        loading = False
        for ev in events:
            if isinstance(ev, Batch):
                try:
                    self._batch(ev)
                except UnsupportedType as err:
                    raise err.located(self._part, None, None) from None
            elif isinstance(ev, Command):
                try:
                    self._command(ev)
                except UnsupportedType as err:
                    raise err.located(self._part, None, None) from None
            elif isinstance(ev, KeyStart):
                self._loader.begin(ev)
                loading = True
            elif isinstance(ev, KeyEnd):
                if loading:
                    start, obj = self._loader.end()
                    self.db(start.db)[bytes(start.key)] = obj
                    if start.db >= self.databases:
                        self.databases = start.db + 1
                    loading = False
            elif isinstance(ev, Function):
                name = ev.library
                self.functions[name] = bytes(ev.code)
                self.function_events[name] = ev
            elif isinstance(ev, AofPart):
                self._part = ev.path
                self.remap = None
                if ev.kind in ("base", "incr"):
                    self.listpack_zero = True
            elif isinstance(ev, Header):
                self.aux = []
                if ev.version >= 10:
                    self.listpack_zero = True
            elif isinstance(ev, Aux):
                self.aux.append(ev)
            elif loading and not isinstance(ev, TimestampCut):
                self._loader.feed(ev)
        self._multi = None  # a MULTI without EXEC at the end is discarded

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

    # ---------------------------------------------------------------- access

    def db(self, n: int) -> dict[bytes, Obj]:
        d = self.dbs.get(n)
        if d is None:
            d = self.dbs[n] = {}
        return d

    def get(self, db: int, key: bytes, type_: str | None = None) -> Obj | None:
        o = self.db(db).get(key)
        if o is not None and type_ is not None and o.type != type_:
            raise CmdError("WRONGTYPE Operation against a key holding the wrong kind of value")
        return o

    def make(self, db: int, key: bytes, type_: str, factory: Callable[[], Any]) -> Obj:
        o = self.get(db, key, type_)
        if o is None:
            o = self.db(db)[key] = Obj(type_, factory())
        return o

    def put(self, db: int, key: bytes, o: Obj) -> None:
        self.db(db)[key] = o

    def delete(self, db: int, key: bytes) -> bool:
        return self.db(db).pop(key, None) is not None

    def cleanup(self, db: int, key: bytes) -> None:
        """Remove an aggregate that became empty (streams stay)."""
        o = self.db(db).get(key)
        if o is not None and o.type in ("list", "set", "zset", "hash") and not o.value:
            del self.db(db)[key]

    # ---------------------------------------------------------------- output

    def events(self) -> Iterator[Event]:
        """The AUX fields of the last RDB part read (a preamble or base: they say which
        server wrote it), the function libraries, then every key (``items()``)."""
        yield from self.aux
        yield from self.function_list()
        lz = self.listpack_zero
        for dbn, key, o in self.items():
            yield from key_events(dbn, key, o, lz)

    def function_list(self) -> Iterator[Function]:
        """The function libraries, by name."""
        for name in sorted(self.functions):
            ev = self.function_events.get(name)
            yield ev if ev is not None else Function(self.functions[name])

    def items(self) -> Iterator[tuple[int, bytes, Obj]]:
        """Every key as ``(db, key, Obj)``, by database then key bytes."""
        for dbn in sorted(self.dbs):
            d = self.dbs[dbn]
            for key in sorted(d):
                yield dbn, key, d[key]

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
