"""Replay an AOF: apply its commands to a keyspace with Redis semantics.

``replay(events)`` takes what ``rdbtools.aof.read_aof`` yields (RDB key events of a
preamble or base, ``Function`` events, ``Command`` events, ``AofPart`` boundaries) and
yields the resulting keyspace as RDB-style events: the ``Aux`` fields of the last RDB
part read (a preamble or base), the ``Function`` libraries, then per key ``KeyStart``
(``encoding="replayed"``), value batches and ``KeyEnd(key, 0, 0)``, sorted by database
then key bytes.

The whole keyspace is held in memory while replaying: an AOF says nothing final about a
key until its last command.

Semantics follow the server loading an AOF: each ``Command`` applies to ``Command.db``
(``SELECT`` itself is ignored); ``MULTI`` ... ``EXEC`` blocks are applied at ``EXEC`` and
a trailing ``MULTI`` without ``EXEC`` is discarded; a command the server would answer
with an error (wrong type, not an integer ...) changes nothing, as on load, and is
counted in ``Replayer.errors``. Expired keys are kept (filter them with
``--no-expired``), as the RDB reader keeps them; relative TTLs (``EXPIRE``, ``SET EX``
...) are taken from the command's ``#TS:`` timestamp when there is one, else from the
time the replay started. A command replay does not model (an unknown one, a module's)
is carried verbatim, with every later command on the keys it touches
(``rdbtools.replay_modules``): those keys come out as ``not-replayed`` keys. With
``strict`` such a command raises ``UnsupportedType`` naming it and its offset instead;
with ``skip_unknown`` it is dropped (``Replayer.skipped`` counts them by name).
"""

from __future__ import annotations

import gc
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any

from rdbtools import _make as M
from rdbtools.aof._walk import Batch
from rdbtools.aof.reader import AofItem, TimestampCut
from rdbtools.errors import UnsupportedType
from rdbtools.events import (
    AofPart,
    Aux,
    Command,
    Event,
    Function,
    HashFields,
    Header,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    NotReplayed,
    SetMembers,
    StreamEntries,
    StreamGroup,
    StreamMeta,
    StringValue,
    ZSetMembers,
    library_name_in,
)
from rdbtools.replay_hll import pfadd
from rdbtools.replay_stream import (
    Consumer,
    Group,
    Pending,
    Stream,
    parse_strict_id,
    parse_trim_args,
    parse_xsetid,
    xack,
    xadd,
    xclaim,
    xdel,
    xgroup,
    xsetid,
    xtrim,
)
from rdbtools.replay_util import (
    HFE_MAX_MS,
    INT64_MAX,
    INT64_MIN,
    INT_MAX,
    CmdError,
    expire_at_ms,
    fmt_int,
    incr_long_double,
    parse_float,
    parse_int,
    parse_int32,
    parse_score_bound,
    set_expire_ms,
)

BATCH = 512
RDB_TYPES = {"string": 0, "list": 1, "set": 2, "zset": 5, "hash": 4, "stream": 21}

__all__ = ["Replayer", "replay"]


@dataclass(slots=True)
class Obj:
    """One key: ``type`` and a mutable value (``bytes``; ``deque`` (a list: pushes and
    pops at both ends stay cheap however long it grows); ``set``;
    ``dict[member, score]``; ``dict[field, (value, field_expire_ms)]``; ``Stream``;
    ``ModuleValue``) and its expiry (unix ms) or ``None``."""

    type: str
    value: Any
    expire: int | None = None


NO_EXPIRE = -1
"""``getExpire``'s answer for a key without a TTL: a key whose expiry is exactly -1 ms
loses it when ``COPY``, ``MOVE`` or ``RENAME`` carries it over (``if (expire != -1)
setExpire(...)``), as on the server."""


def _carried(o: Obj) -> Obj:
    """``o`` as ``COPY`` / ``MOVE`` / ``RENAME`` carry it to its new name."""
    if o.expire == NO_EXPIRE:
        o.expire = None
    return o


def _copy_value(o: Obj) -> Obj:
    v = o.value
    if isinstance(v, (deque, list, set, dict, Stream)):
        v = v.copy()
    return _carried(Obj(o.type, v, o.expire))


def _library_name(code: bytes) -> bytes:
    """``FUNCTION LOAD``'s rule: the shebang's ``name=``, else an error."""
    name = library_name_in(code)
    if name is None:
        raise CmdError("Missing library metadata")
    return name


class _Loader:
    """Folds RDB key events (a preamble, a base, a RESTORE payload) into ``Obj``s."""

    def __init__(self) -> None:
        self.start: KeyStart | None = None
        self.obj: Obj | None = None

    def begin(self, ev: KeyStart) -> None:
        t = ev.type
        value: Any
        if t == "string":
            value = b""
        elif t == "list":
            value = deque()
        elif t == "set":
            value = set()
        elif t in ("zset", "hash"):
            value = {}
        elif t == "stream":
            value = Stream()
            value.entries_added = -1
        else:
            value = None
        self.start = ev
        self.obj = Obj(t, value, ev.expire_ms)

    def feed(self, ev: Event) -> None:
        o = self.obj
        assert o is not None
        if isinstance(ev, StringValue):
            o.value += bytes(ev.data)
        elif isinstance(ev, ListItems):
            o.value.extend(bytes(x) for x in ev.items)
        elif isinstance(ev, SetMembers):
            o.value.update(bytes(x) for x in ev.members)
        elif isinstance(ev, ZSetMembers):
            for m, sc in ev.members:
                o.value[bytes(m)] = float(sc)
        elif isinstance(ev, HashFields):
            for f, v, ttl in ev.fields:
                o.value[bytes(f)] = (bytes(v), ttl)
        elif isinstance(ev, StreamEntries):
            for e in ev.entries:
                o.value.entries[tuple(e.id)] = tuple((bytes(f), bytes(v)) for f, v in e.fields)
        elif isinstance(ev, StreamMeta):
            st: Stream = o.value
            st.last_id = ev.last_id
            if ev.max_deleted_id is not None:
                st.max_deleted_id = ev.max_deleted_id
            st.entries_added = ev.entries_added if ev.entries_added is not None else ev.length
        elif isinstance(ev, StreamGroup):
            g = Group(tuple(ev.last_delivered_id),  # type: ignore[arg-type]
                      ev.entries_read if ev.entries_read is not None else -1)
            for p in ev.pending:
                g.pel[tuple(p.id)] = Pending(p.consumer, p.delivery_time_ms,  # type: ignore
                                             p.delivery_count)
            for c in ev.consumers:
                g.consumers[bytes(c.name)] = Consumer(
                    c.seen_time_ms, c.active_time_ms if c.active_time_ms is not None else -1,
                    {tuple(i) for i in c.pending})  # type: ignore[misc]
            o.value.groups[bytes(ev.name)] = g
        elif isinstance(ev, ModuleValue):
            o.value = ev

    def end(self) -> tuple[KeyStart, Obj]:
        assert self.start is not None and self.obj is not None
        o = self.obj
        if o.type == "stream" and o.value.entries_added < 0:
            o.value.entries_added = len(o.value.entries)
        out = (self.start, o)
        self.start = self.obj = None
        return out


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


Handler = Callable[["Replayer", int, list[bytes], int], None]
_HANDLERS: dict[bytes, Handler] = {}


def _cmd(*names: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        for n in names:
            _HANDLERS[n.encode()] = fn
        return fn

    return deco


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
    """The commands replay did not model, in order (``replay_modules``)."""
    tainted: dict[int, set[bytes]] = field(default_factory=dict)
    """Per database, the names of keys carried commands touched."""
    databases: int = 16
    """The databases of the server taken to load the AOF (``COPY ... DB``, ``MOVE`` and
    ``SWAPDB`` must name one): the default 16, or more once the AOF selects (or its RDB
    part holds keys in) a higher database, which only a server with more can write."""
    _remap: tuple[int, int] | None = None
    """After a ``SELECT`` the server refuses: (the number the reader switched to, the
    database the commands stay in), until the next ``SELECT`` or file."""
    _part: str | None = None
    _multi: list[Command] | None = None
    _loader: _Loader = field(default_factory=_Loader)
    _now: int = 0

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
                self._remap = None
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
        get = _HANDLERS.get
        for args, off in zip(b.args, b.offsets):
            handler = get(args[0])
            if (handler is None or self._multi is not None or self.tainted
                    or self._remap is not None):
                self._command(Command(db, args, off, ts))
                continue
            self._now = now
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
        remap = self._remap
        if remap is not None and cmd.db == remap[0]:  # after a SELECT the server refused
            cmd = Command(remap[1], cmd.args, cmd.offset, cmd.timestamp)
        handler = _HANDLERS.get(name)
        if self.tainted and _replay_modules.carry_if_tainted(self, cmd):
            return
        if handler is None:
            text = name.decode("utf-8", "replace")
            if self.skip_unknown:
                self.skipped[text] += 1
                return
            if not self.strict:
                _replay_modules.carry(self, cmd)
                return
            raise UnsupportedType(f"replay: unsupported command {text}", offset=cmd.offset,
                                  key=_key_of(cmd.args))
        self._now = cmd.timestamp * 1000 if cmd.timestamp is not None else self.now_ms
        try:
            handler(self, cmd.db, list(cmd.args[1:]), cmd.offset)
        except (CmdError, IndexError, ValueError) as exc:
            if isinstance(exc, UnsupportedType):
                raise exc.located(None, cmd.offset, _key_of(cmd.args)) from None
            self._refuse(name, cmd.offset, exc)
            return
        if self.carried and name in (b"FLUSHALL", b"FLUSHDB"):
            _replay_modules.flushed(self, cmd.db, name == b"FLUSHALL")

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
            yield from _key_events(dbn, key, o, lz)

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
        return _key_events(db, key, o, self.listpack_zero)

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
            return _zset_order(o.value, self.listpack_zero)
        if t == "hash":
            if any(ttl is not None for _, ttl in o.value.values()):
                return None
            return [(f, x) for f, (x, _) in sorted(o.value.items())]
        return None


def _key_of(args: tuple[bytes, ...]) -> bytes | None:
    """The key a command names first (its second argument), for error messages."""
    return bytes(args[1]) if len(args) > 1 else None


def _chunks(items: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    it = iter(items)
    while chunk := tuple(islice(it, BATCH)):
        yield chunk


_BY_SCORE = itemgetter(1, 0)


def _zset_order(v: dict[bytes, float], listpack_zero: bool) -> list[tuple[bytes, float]]:
    """``(member, score)`` by score then member; with ``listpack_zero`` a -0 score of a
    set small enough for a listpack is 0, as a 7.0+ server stores it."""
    items = sorted(v.items(), key=_BY_SCORE)
    if listpack_zero and len(items) <= 128 and all(len(m) <= 64 for m in v):
        items = [(m, 0.0 if s == 0 else s) for m, s in items]
    return items


def _key_events(db: int, key: bytes, o: Obj, listpack_zero: bool) -> Iterator[Event]:
    """One key as events (built with the fast constructors of ``rdbtools._make``: all
    fields, positionally)."""
    t = o.type
    v = o.value
    if t == "not-replayed":
        yield M.KeyStart(db, key, t, "replayed", 0, None, None, None, None, 0)
        yield NotReplayed(tuple(v.commands), 0)
        yield M.KeyEnd(key, 0, 0, 0)
        return
    if t == "module":
        assert isinstance(v, ModuleValue)
        yield M.KeyStart(db, key, "module", "replayed", 7, o.expire, None, None, None, 0)
        yield v
        yield M.KeyEnd(key, 0, 0, 0)
        return
    if t == "string":
        yield M.KeyStart(db, key, t, "replayed", 0, o.expire, None, None, None, 0)
        yield M.StringValue(v, 0)
        yield M.KeyEnd(key, 0, 0, 0)
        return
    rdb_type = RDB_TYPES[t]
    if t == "hash" and any(ttl is not None for _, ttl in v.values()):
        rdb_type = 24
    length = None if t == "stream" else len(v)
    yield M.KeyStart(db, key, t, "replayed", rdb_type, o.expire, None, None, length, 0)
    if t == "list":
        if len(v) <= BATCH:
            yield M.ListItems(tuple(v), 0)
        else:
            for c in _chunks(v):
                yield M.ListItems(c, 0)
    elif t == "set":
        for c in _chunks(sorted(v)):
            yield M.SetMembers(c, 0)
    elif t == "zset":
        for c in _chunks(_zset_order(v, listpack_zero)):
            yield M.ZSetMembers(c, 0)
    elif t == "hash":
        for c in _chunks([(f, x, ttl) for f, (x, ttl) in sorted(v.items())]):
            yield M.HashFields(c, 0)
    elif t == "stream":
        for c in _chunks(v.entry_events()):
            yield M.StreamEntries(c, 0)
        yield v.meta()
        yield from v.group_events()
    yield M.KeyEnd(key, 0, 0, 0)


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


# =========================================================================== commands
# Each handler gets (replayer, db, args after the command name, offset).


def _db_index(r: Replayer, arg: bytes) -> int:
    """A database number argument (``COPY ... DB``, ``MOVE``, ``SWAPDB``): a C ``int``
    within the server's databases (``selectDb``), else "DB index is out of range"."""
    n = parse_int32(arg)
    if not 0 <= n < r.databases:
        raise CmdError("DB index is out of range")
    return n


@_cmd("SELECT")
def _select(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """``selectCommand``: a C ``int`` (``getIntFromObjectOrReply``) and a database the
    server has. The AOF reader has already switched to the number written; when the
    server would refuse it, the commands that follow stay in ``db`` (``_remap``). A number
    any server could have (below INT_MAX) makes ``databases`` that many."""
    r._remap = None
    try:
        if len(a) != 1:
            raise CmdError("wrong number of arguments for 'select' command")
        n = parse_int32(a[0])
        if not 0 <= n < INT_MAX:
            raise CmdError("DB index is out of range")
    except CmdError:
        if a and a[0].isdigit():
            r._remap = (int(a[0]), db)
        raise
    r.databases = max(r.databases, n + 1)


@_cmd("PING", "PUBLISH", "SPUBLISH", "WATCH", "UNWATCH", "DISCARD")
def _noop(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    return None


# ---------------------------------------------------------------- strings


def _str(r: Replayer, db: int, key: bytes) -> bytes | None:
    o = r.get(db, key, "string")
    return None if o is None else bytes(o.value)


def _store_str(r: Replayer, db: int, key: bytes, o: Obj | None, value: bytes) -> None:
    """Write a string value: into ``o``, the key's string (its TTL kept), or as a new key
    without TTL when ``o`` is ``None``."""
    if o is None:
        r.put(db, key, Obj("string", value))
    else:
        o.value = value


def _set_string(r: Replayer, db: int, key: bytes, value: bytes, *, keepttl: bool = False,
                expire: int | None = None) -> None:
    old = r.db(db).get(key)
    ttl = old.expire if (keepttl and old is not None) else expire
    r.put(db, key, Obj("string", value, ttl))


@_cmd("SET")
def _set(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    if len(a) == 2:  # the common case, as every server writes a plain SET
        r.db(db)[a[0]] = Obj("string", a[1])
        return
    key, value = a[0], a[1]
    flags, unit, arg = _string_options(a, 2, set_command=True)
    nx, xx, get, keepttl = (b"NX" in flags, b"XX" in flags, b"GET" in flags,
                            b"KEEPTTL" in flags)
    expire = None if unit is None else set_expire_ms(unit, arg, r._now)
    cur = r.db(db).get(key)
    if get and cur is not None and cur.type != "string":
        raise CmdError("WRONGTYPE")
    if (nx and cur is not None) or (xx and cur is None):
        return
    _set_string(r, db, key, value, keepttl=keepttl, expire=expire)


_EXPIRE_UNITS = (b"EX", b"PX", b"EXAT", b"PXAT")


def _string_options(a: list[bytes], i: int, *, set_command: bool
                    ) -> tuple[set[bytes], bytes | None, bytes]:
    """``parseExtendedStringArgumentsOrReply`` (t_string.c) over ``a[i:]``: the flags
    given (``NX XX GET KEEPTTL`` for ``SET``, ``PERSIST`` for ``GETEX``), and the expiry
    unit and its argument if one is given. ``NX`` with ``XX``, two expiry kinds, ``KEEPTTL``
    or ``PERSIST`` with an expiry, an expiry without its argument: "syntax error"."""
    flags: set[bytes] = set()
    unit: bytes | None = None
    arg = b""
    while i < len(a):
        opt = a[i].upper()
        if set_command and opt in (b"NX", b"XX") and (b"XX" if opt == b"NX" else b"NX") \
                not in flags:
            flags.add(opt)
        elif set_command and opt == b"GET":
            flags.add(opt)
        elif opt == (b"KEEPTTL" if set_command else b"PERSIST") and unit is None:
            flags.add(opt)
        elif (opt in _EXPIRE_UNITS and unit in (None, opt) and i + 1 < len(a)
              and not flags & {b"KEEPTTL", b"PERSIST"}):
            unit, arg = opt, a[i + 1]
            i += 1
        else:
            raise CmdError("syntax error")
        i += 1
    return flags, unit, arg


@_cmd("SETNX")
def _setnx(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    if a[0] not in r.db(db):
        _set_string(r, db, a[0], a[1])


def _setex_impl(unit: bytes) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        _set_string(r, db, a[0], a[2], expire=set_expire_ms(unit, a[1], r._now))

    return h


_HANDLERS[b"SETEX"] = _setex_impl(b"EX")
_HANDLERS[b"PSETEX"] = _setex_impl(b"PX")


@_cmd("GETSET")
def _getset(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _str(r, db, a[0])
    _set_string(r, db, a[0], a[1])


@_cmd("GETDEL")
def _getdel(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    if _str(r, db, a[0]) is not None:
        r.delete(db, a[0])


@_cmd("GETEX")
def _getex(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    flags, unit, arg = _string_options(a, 1, set_command=False)
    o = r.get(db, a[0], "string")
    if o is None:
        return
    if b"PERSIST" in flags:
        o.expire = None
    elif unit is not None:
        o.expire = set_expire_ms(unit, arg, r._now)


@_cmd("APPEND")
def _append(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0], "string")
    _store_str(r, db, a[0], o, a[1] if o is None else bytes(o.value) + a[1])


@_cmd("SETRANGE")
def _setrange(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    offset = parse_int(a[1])
    if offset < 0:
        raise CmdError("offset is out of range")
    o = r.get(db, a[0], "string")
    if not a[2]:
        return
    cur = b"" if o is None else bytes(o.value)
    if len(cur) < offset:
        cur += b"\x00" * (offset - len(cur))
    _store_str(r, db, a[0], o, cur[:offset] + a[2] + cur[offset + len(a[2]) :])


def _incr(r: Replayer, db: int, key: bytes, by: int) -> None:
    o = r.get(db, key, "string")
    cur = 0 if o is None else parse_int(bytes(o.value))
    new = cur + by
    if not INT64_MIN <= new <= INT64_MAX:
        raise CmdError("increment or decrement would overflow")
    _store_str(r, db, key, o, fmt_int(new))


@_cmd("INCR")
def _incr1(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _incr(r, db, a[0], 1)


@_cmd("DECR")
def _decr1(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _incr(r, db, a[0], -1)


@_cmd("INCRBY")
def _incrby(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _incr(r, db, a[0], parse_int(a[1]))


@_cmd("DECRBY")
def _decrby(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    n = parse_int(a[1])
    if n == INT64_MIN:
        raise CmdError("decrement would overflow")
    _incr(r, db, a[0], -n)


@_cmd("INCRBYFLOAT")
def _incrbyfloat(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0], "string")
    _store_str(r, db, a[0], o, incr_long_double(b"0" if o is None else bytes(o.value), a[1]))


@_cmd("MSET")
def _mset(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    if not a or len(a) % 2:
        raise CmdError("wrong number of arguments")
    for k, v in zip(a[0::2], a[1::2]):
        _set_string(r, db, k, v)


@_cmd("MSETNX")
def _msetnx(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    if not a or len(a) % 2:
        raise CmdError("wrong number of arguments")
    d = r.db(db)
    if any(k in d for k in a[0::2]):
        return
    _mset(r, db, a, off)


@_cmd("SETBIT")
def _setbit(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    bit = parse_int(a[1])
    if not 0 <= bit < 2**32:
        raise CmdError("bit offset is not an integer or out of range")
    if a[2] not in (b"0", b"1"):
        raise CmdError("bit is not an integer or out of range")
    o = r.get(db, a[0], "string")
    cur = bytearray(b"" if o is None else bytes(o.value))
    byte = bit >> 3
    if len(cur) <= byte:
        cur += b"\x00" * (byte + 1 - len(cur))
    mask = 1 << (7 - (bit & 7))
    if a[2] == b"1":
        cur[byte] |= mask
    else:
        cur[byte] &= ~mask & 0xFF
    _store_str(r, db, a[0], o, bytes(cur))


@_cmd("BITOP")
def _bitop(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    op, dest, srcs = a[0].upper(), a[1], a[2:]
    vals = [_str(r, db, k) or b"" for k in srcs]
    if op == b"NOT":
        if len(vals) != 1:
            raise CmdError("BITOP NOT must be called with a single source key.")
        res = bytes((~x) & 0xFF for x in vals[0])
    elif op in (b"AND", b"OR", b"XOR"):
        n = max((len(v) for v in vals), default=0)
        padded = [v + b"\x00" * (n - len(v)) for v in vals]
        out = bytearray(padded[0]) if padded else bytearray()
        for v in padded[1:]:
            for i in range(n):
                if op == b"AND":
                    out[i] &= v[i]
                elif op == b"OR":
                    out[i] |= v[i]
                else:
                    out[i] ^= v[i]
        res = bytes(out)
    else:
        raise UnsupportedType(f"replay: unsupported command BITOP {op.decode()}", offset=off)
    if res:
        _set_string(r, db, dest, res)
    else:
        r.delete(db, dest)


@_cmd("PFADD")
def _pfadd(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0], "string")
    new = pfadd(None if o is None else bytes(o.value), a[1:])
    if new is not None:
        _store_str(r, db, a[0], o, new)


# ---------------------------------------------------------------- keys


@_cmd("DEL", "UNLINK")
def _del(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    for k in a:
        r.delete(db, k)


def _expire_flags(opts: list[bytes]) -> set[bytes]:
    """``parseExtendedExpireArgumentsOrReply`` (expire.c): ``NX``, ``XX``, ``GT``, ``LT``;
    ``NX`` with another, or ``GT`` with ``LT``, is an error."""
    flags = {x.upper() for x in opts}
    if flags - {b"NX", b"XX", b"GT", b"LT"}:
        raise CmdError("Unsupported option")
    if b"NX" in flags and len(flags) > 1:
        raise CmdError("NX and XX, GT or LT options at the same time are not compatible")
    if {b"GT", b"LT"} <= flags:
        raise CmdError("GT and LT options at the same time are not compatible")
    return flags


def _expire_impl(unit: bytes) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        flags = _expire_flags(a[2:])
        when = expire_at_ms(unit, a[1], r._now)
        o = r.get(db, a[0])
        if o is None:
            return
        cur = o.expire
        if b"NX" in flags and cur is not None:
            return
        if b"XX" in flags and cur is None:
            return
        if b"GT" in flags and (cur is None or when <= cur):
            return
        if b"LT" in flags and cur is not None and when >= cur:
            return
        o.expire = when

    return h


_HANDLERS[b"EXPIRE"] = _expire_impl(b"EX")
_HANDLERS[b"PEXPIRE"] = _expire_impl(b"PX")
_HANDLERS[b"EXPIREAT"] = _expire_impl(b"EXAT")
_HANDLERS[b"PEXPIREAT"] = _expire_impl(b"PXAT")


@_cmd("PERSIST")
def _persist(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0])
    if o is not None:
        o.expire = None


def _rename(r: Replayer, db: int, a: list[bytes], nx: bool) -> None:
    src, dst = a[0], a[1]
    d = r.db(db)
    o = d.get(src)
    if o is None:
        raise CmdError("no such key")
    if src == dst:
        return
    if nx and dst in d:
        return
    del d[src]
    d[dst] = _carried(o)


@_cmd("RENAME")
def _rename1(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _rename(r, db, a, False)


@_cmd("RENAMENX")
def _renamenx(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _rename(r, db, a, True)


@_cmd("MOVE")
def _move(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    dst = _db_index(r, a[1])
    if dst == db:
        raise CmdError("source and destination objects are the same")
    o = r.db(db).get(a[0])
    if o is None or a[0] in r.db(dst):
        return
    del r.db(db)[a[0]]
    r.db(dst)[a[0]] = _carried(o)


@_cmd("COPY")
def _copy(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    src, dst = a[0], a[1]
    dstdb = db
    replace = False
    i = 2
    while i < len(a):
        opt = a[i].upper()
        if opt == b"DB":
            dstdb = _db_index(r, a[i + 1])
            i += 1
        elif opt == b"REPLACE":
            replace = True
        else:
            raise CmdError("syntax error")
        i += 1
    o = r.db(db).get(src)
    if o is None or (src == dst and dstdb == db):
        return
    if dst in r.db(dstdb) and not replace:
        return
    r.db(dstdb)[dst] = _copy_value(o)


@_cmd("SWAPDB")
def _swapdb(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    x, y = _db_index(r, a[0]), _db_index(r, a[1])
    r.dbs[x], r.dbs[y] = r.db(y), r.db(x)


@_cmd("FLUSHDB")
def _flushdb(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    r.dbs[db] = {}


@_cmd("FLUSHALL")
def _flushall(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    r.dbs.clear()


@_cmd("RESTORE")
def _restore(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    from rdbtools.rdb.payload import decode_payload

    key, payload = a[0], a[2]
    opts: set[bytes] = set()
    i = 3
    while i < len(a):  # restoreCommand (cluster.c) checks the options first
        opt = a[i].upper()
        if opt in (b"REPLACE", b"ABSTTL"):
            opts.add(opt)
        elif opt == b"IDLETIME" and i + 1 < len(a) and b"FREQ" not in opts:
            if parse_int(a[i + 1]) < 0:
                raise CmdError("Invalid IDLETIME value, must be >= 0")
            opts.add(opt)
            i += 1
        elif opt == b"FREQ" and i + 1 < len(a) and b"IDLETIME" not in opts:
            if not 0 <= parse_int(a[i + 1]) <= 255:
                raise CmdError("Invalid FREQ value, must be >= 0 and <= 255")
            opts.add(opt)
            i += 1
        else:
            raise CmdError("syntax error")
        i += 1
    if key in r.db(db) and b"REPLACE" not in opts:
        raise CmdError("BUSYKEY Target key name already exists.")
    ttl = parse_int(a[1])
    if ttl < 0:
        raise CmdError("Invalid TTL value, must be >= 0")
    loader = _Loader()
    for ev in decode_payload(payload, key, db=db):
        if isinstance(ev, KeyStart):
            loader.begin(ev)
        else:
            loader.feed(ev)
    _, o = loader.end()
    if ttl:
        o.expire = ttl if b"ABSTTL" in opts else r._now + ttl
    else:
        o.expire = None
    r.put(db, key, o)


# ---------------------------------------------------------------- lists


def _list(r: Replayer, db: int, key: bytes) -> deque[bytes] | None:
    o = r.get(db, key, "list")
    return None if o is None else o.value


def _push(left: bool, need: bool) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        lst = _list(r, db, a[0])
        if lst is None:
            if need:
                return
            lst = r.make(db, a[0], "list", deque).value
        assert lst is not None
        if left:
            lst.extendleft(a[1:])  # LPUSH k a b c: c b a at the head
        else:
            lst.extend(a[1:])

    return h


_HANDLERS[b"LPUSH"] = _push(True, False)
_HANDLERS[b"RPUSH"] = _push(False, False)
_HANDLERS[b"LPUSHX"] = _push(True, True)
_HANDLERS[b"RPUSHX"] = _push(False, True)


def _pop_n(r: Replayer, db: int, key: bytes, lst: deque[bytes], n: int, left: bool) -> None:
    """Remove up to ``n`` elements from the head (``left``) or tail of ``lst``, the list of
    ``key``."""
    pop = lst.popleft if left else lst.pop
    for _ in range(min(n, len(lst))):
        pop()
    r.cleanup(db, key)


def _pop(left: bool) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        lst = _list(r, db, a[0])
        n = parse_int(a[1]) if len(a) > 1 else 1
        if n < 0:
            raise CmdError("value is out of range, must be positive")
        if lst is not None:
            _pop_n(r, db, a[0], lst, n, left)

    return h


_HANDLERS[b"LPOP"] = _pop(True)
_HANDLERS[b"RPOP"] = _pop(False)


def _bpop(left: bool) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        for k in a[:-1]:
            lst = _list(r, db, k)
            if lst:
                _pop_n(r, db, k, lst, 1, left)
                return

    return h


_HANDLERS[b"BLPOP"] = _bpop(True)
_HANDLERS[b"BRPOP"] = _bpop(False)


def _index(i: int, n: int) -> int:
    return i + n if i < 0 else i


@_cmd("LSET")
def _lset(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    lst = _list(r, db, a[0])
    if lst is None:
        raise CmdError("no such key")
    i = _index(parse_int(a[1]), len(lst))
    if not 0 <= i < len(lst):
        raise CmdError("index out of range")
    lst[i] = a[2]


@_cmd("LINSERT")
def _linsert(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    where = a[1].upper()
    if where not in (b"BEFORE", b"AFTER"):
        raise CmdError("syntax error")
    lst = _list(r, db, a[0])
    if lst is None:
        return
    try:
        i = lst.index(a[2])
    except ValueError:
        return
    lst.insert(i if where == b"BEFORE" else i + 1, a[3])


@_cmd("LREM")
def _lrem(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    count = parse_int(a[1])
    lst = _list(r, db, a[0])
    if lst is None:
        return
    x = a[2]
    if count >= 0:
        out: list[bytes] = []
        removed = 0
        for item in lst:
            if item == x and (count == 0 or removed < count):
                removed += 1
            else:
                out.append(item)
        lst.clear()
        lst.extend(out)
    else:
        rev: list[bytes] = []
        removed = 0
        for item in reversed(lst):
            if item == x and removed < -count:
                removed += 1
            else:
                rev.append(item)
        lst.clear()
        lst.extend(reversed(rev))
    r.cleanup(db, a[0])


@_cmd("LTRIM")
def _ltrim(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    start, end = parse_int(a[1]), parse_int(a[2])
    lst = _list(r, db, a[0])
    if lst is None:
        return
    n = len(lst)
    start = max(0, _index(start, n))
    end = _index(end, n)
    if start > end or start >= n:
        lst.clear()
    else:
        for _ in range(start):
            lst.popleft()
        for _ in range(n - 1 - min(end, n - 1)):
            lst.pop()
    r.cleanup(db, a[0])


def _lmove(r: Replayer, db: int, src: bytes, dst: bytes, wfrom: bytes, wto: bytes) -> None:
    lst = _list(r, db, src)
    if not lst:
        return
    dlst = _list(r, db, dst)  # the destination's type is checked once there is an item
    item = lst.popleft() if wfrom == b"LEFT" else lst.pop()
    if dlst is None or dst == src:
        dlst = r.make(db, dst, "list", deque).value if dst != src else lst
    assert dlst is not None
    if wto == b"LEFT":
        dlst.appendleft(item)
    else:
        dlst.append(item)
    r.cleanup(db, src)


@_cmd("RPOPLPUSH", "BRPOPLPUSH")
def _rpoplpush(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _lmove(r, db, a[0], a[1], b"RIGHT", b"LEFT")


@_cmd("LMOVE", "BLMOVE")
def _lmove_cmd(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    wf, wt = a[2].upper(), a[3].upper()
    if wf not in (b"LEFT", b"RIGHT") or wt not in (b"LEFT", b"RIGHT"):
        raise CmdError("syntax error")
    _lmove(r, db, a[0], a[1], wf, wt)


# ---------------------------------------------------------------- sets


def _set_of(r: Replayer, db: int, key: bytes) -> set[bytes] | None:
    o = r.get(db, key, "set")
    return None if o is None else o.value


@_cmd("SADD")
def _sadd(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    r.make(db, a[0], "set", set).value.update(a[1:])


@_cmd("SREM")
def _srem(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    s = _set_of(r, db, a[0])
    if s is not None:
        s.difference_update(a[1:])
        r.cleanup(db, a[0])


@_cmd("SMOVE")
def _smove(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    src = _set_of(r, db, a[0])
    _set_of(r, db, a[1])
    if src is None or a[2] not in src:
        return
    if a[0] == a[1]:
        return
    src.discard(a[2])
    r.make(db, a[1], "set", set).value.add(a[2])
    r.cleanup(db, a[0])


def _setstore(op: str) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        dst, keys = a[0], a[1:]
        sets = [_set_of(r, db, k) for k in keys]
        res: set[bytes]
        if op == "union":
            res = set().union(*[s for s in sets if s is not None])
        elif op == "inter":
            res = set() if any(s is None for s in sets) else set.intersection(
                *[s for s in sets if s is not None])
        else:
            res = set(sets[0] or ())
            for s in sets[1:]:
                if s is not None:
                    res -= s
        if res:
            r.put(db, dst, Obj("set", res))
        else:
            r.delete(db, dst)

    return h


_HANDLERS[b"SUNIONSTORE"] = _setstore("union")
_HANDLERS[b"SINTERSTORE"] = _setstore("inter")
_HANDLERS[b"SDIFFSTORE"] = _setstore("diff")


# ---------------------------------------------------------------- sorted sets


def _zset(r: Replayer, db: int, key: bytes) -> dict[bytes, float] | None:
    o = r.get(db, key, "zset")
    return None if o is None else o.value


def _zsorted(z: dict[bytes, float]) -> list[tuple[bytes, float]]:
    return sorted(z.items(), key=_BY_SCORE)


@_cmd("ZADD")
def _zadd(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    key = a[0]
    i = 1
    flags: set[bytes] = set()
    while i < len(a) and a[i].upper() in (b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"):
        flags.add(a[i].upper())
        i += 1
    pairs = a[i:]
    if not pairs or len(pairs) % 2:
        raise CmdError("syntax error")
    if b"INCR" in flags and len(pairs) != 2:
        raise CmdError("INCR option supports a single increment-element pair")
    if (b"NX" in flags and (b"XX" in flags or b"GT" in flags or b"LT" in flags)) or (
            b"GT" in flags and b"LT" in flags):
        raise CmdError("syntax error")
    scores = [parse_float(s) for s in pairs[0::2]]
    z = _zset(r, db, key)
    if z is None:
        if b"XX" in flags:
            return
        z = r.make(db, key, "zset", dict).value
    assert z is not None
    for score, member in zip(scores, pairs[1::2]):
        cur = z.get(member)
        if cur is None:
            if b"XX" in flags:
                continue
            z[member] = score
            continue
        if b"NX" in flags:
            continue
        new = cur + score if b"INCR" in flags else score
        if new != new:
            raise CmdError("resulting score is not a number (NaN)")
        if (b"GT" in flags and new <= cur) or (b"LT" in flags and new >= cur):
            continue
        z[member] = new
    r.cleanup(db, key)


@_cmd("ZINCRBY")
def _zincrby(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    _zadd(r, db, [a[0], b"INCR", a[1], a[2]], off)


@_cmd("ZREM")
def _zrem(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    z = _zset(r, db, a[0])
    if z is not None:
        for m in a[1:]:
            z.pop(m, None)
        r.cleanup(db, a[0])


def _in_score(s: float, lo: tuple[float, bool], hi: tuple[float, bool]) -> bool:
    return (s > lo[0] if lo[1] else s >= lo[0]) and (s < hi[0] if hi[1] else s <= hi[0])


def _lex_bound(b: bytes) -> tuple[int, bytes, bool]:
    """(-1 = minus infinity, 1 = plus infinity, 0 = value), value, exclusive."""
    if b == b"-":
        return -1, b"", False
    if b == b"+":
        return 1, b"", False
    if b[:1] == b"(":
        return 0, b[1:], True
    if b[:1] == b"[":
        return 0, b[1:], False
    raise CmdError("min or max not valid string range item")


def _in_lex(m: bytes, lo: tuple[int, bytes, bool], hi: tuple[int, bytes, bool]) -> bool:
    if lo[0] == 1 or hi[0] == -1:
        return False
    ok_lo = lo[0] == -1 or (m > lo[1] if lo[2] else m >= lo[1])
    ok_hi = hi[0] == 1 or (m < hi[1] if hi[2] else m <= hi[1])
    return ok_lo and ok_hi


def _rank_range(n: int, start: int, stop: int) -> range:
    start = max(0, _index(start, n))
    stop = min(_index(stop, n), n - 1)
    return range(start, stop + 1) if start <= stop else range(0)


@_cmd("ZREMRANGEBYSCORE")
def _zremrangebyscore(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    lo, hi = parse_score_bound(a[1]), parse_score_bound(a[2])
    z = _zset(r, db, a[0])
    if z is not None:
        for m in [m for m, s in z.items() if _in_score(s, lo, hi)]:
            del z[m]
        r.cleanup(db, a[0])


@_cmd("ZREMRANGEBYLEX")
def _zremrangebylex(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    lo, hi = _lex_bound(a[1]), _lex_bound(a[2])
    z = _zset(r, db, a[0])
    if z is not None:
        for m in [m for m in z if _in_lex(m, lo, hi)]:
            del z[m]
        r.cleanup(db, a[0])


@_cmd("ZREMRANGEBYRANK")
def _zremrangebyrank(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    start, stop = parse_int(a[1]), parse_int(a[2])
    z = _zset(r, db, a[0])
    if z is not None:
        items = _zsorted(z)
        for i in _rank_range(len(items), start, stop):
            del z[items[i][0]]
        r.cleanup(db, a[0])


def _zpop_n(r: Replayer, db: int, key: bytes, z: dict[bytes, float], n: int,
            maximum: bool) -> None:
    """Remove the ``n`` lowest (``maximum``: highest) members of ``z``, the zset of ``key``."""
    items = _zsorted(z)
    if maximum:
        items.reverse()
    for m, _ in items[:n]:
        del z[m]
    r.cleanup(db, key)


def _zpop(maximum: bool) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        n = parse_int(a[1]) if len(a) > 1 else 1
        if n < 0:
            raise CmdError("value is out of range, must be positive")
        z = _zset(r, db, a[0])
        if z is not None:
            _zpop_n(r, db, a[0], z, n, maximum)

    return h


_HANDLERS[b"ZPOPMIN"] = _zpop(False)
_HANDLERS[b"ZPOPMAX"] = _zpop(True)


def _zsource(r: Replayer, db: int, key: bytes) -> dict[bytes, float] | None:
    o = r.get(db, key)
    if o is None:
        return None
    if o.type == "set":
        return dict.fromkeys(o.value, 1.0)
    if o.type == "zset":
        return o.value  # type: ignore[no-any-return]
    raise CmdError("WRONGTYPE")


def _zstore(op: str) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        dst = a[0]
        n = parse_int(a[1])
        if n < 1:
            raise CmdError("at least 1 input key is needed")
        keys = a[2 : 2 + n]
        if len(keys) != n:
            raise CmdError("syntax error")
        weights = [1.0] * n
        agg = b"SUM"
        i = 2 + n
        while i < len(a):
            opt = a[i].upper()
            if opt == b"WEIGHTS" and op != "diff":
                weights = [parse_float(w) for w in a[i + 1 : i + 1 + n]]
                i += 1 + n
            elif opt == b"AGGREGATE" and op != "diff":
                agg = a[i + 1].upper()
                i += 2
            else:
                raise CmdError("syntax error")
        srcs = [_zsource(r, db, k) for k in keys]
        res: dict[bytes, float] = {}

        def combine(x: float, y: float) -> float:
            if agg == b"MIN":
                return min(x, y)
            if agg == b"MAX":
                return max(x, y)
            s = x + y
            return 0.0 if s != s else s

        def weighted(s: float, w: float) -> float:
            v = s * w
            return 0.0 if v != v else v

        if op == "union":
            for src, w in zip(srcs, weights):
                for m, s in (src or {}).items():
                    v = weighted(s, w)
                    res[m] = combine(res[m], v) if m in res else v
        elif op == "inter":
            if all(s is not None for s in srcs):
                first = srcs[0]
                assert first is not None
                for m, s in first.items():
                    v = weighted(s, weights[0])
                    ok = True
                    for src, w in zip(srcs[1:], weights[1:]):
                        assert src is not None
                        if m not in src:
                            ok = False
                            break
                        v = combine(v, weighted(src[m], w))
                    if ok:
                        res[m] = v
        else:
            first = srcs[0] or {}
            res = {m: s for m, s in first.items()
                   if not any(src is not None and m in src for src in srcs[1:])}
        if res:
            r.put(db, dst, Obj("zset", res))
        else:
            r.delete(db, dst)

    return h


_HANDLERS[b"ZUNIONSTORE"] = _zstore("union")
_HANDLERS[b"ZINTERSTORE"] = _zstore("inter")
_HANDLERS[b"ZDIFFSTORE"] = _zstore("diff")


@_cmd("ZRANGESTORE")
def _zrangestore(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    dst, src, lo, hi = a[0], a[1], a[2], a[3]
    by = b"RANK"
    rev = False
    limit: tuple[int, int] | None = None
    i = 4
    while i < len(a):
        opt = a[i].upper()
        if opt in (b"BYSCORE", b"BYLEX"):
            by = opt[2:]
        elif opt == b"REV":
            rev = True
        elif opt == b"LIMIT":
            limit = (parse_int(a[i + 1]), parse_int(a[i + 2]))
            i += 2
        else:
            raise CmdError("syntax error")
        i += 1
    z = _zset(r, db, src) or {}
    items = _zsorted(z)
    if rev:
        items.reverse()
    if by == b"RANK":
        picked = [items[j] for j in _rank_range(len(items), parse_int(lo), parse_int(hi))]
    elif by == b"SCORE":
        lb, hb = parse_score_bound(lo), parse_score_bound(hi)
        if rev:
            lb, hb = hb, lb
        picked = [p for p in items if _in_score(p[1], lb, hb)]
    else:
        ll, hl = _lex_bound(lo), _lex_bound(hi)
        if rev:
            ll, hl = hl, ll
        picked = [p for p in items if _in_lex(p[0], ll, hl)]
    if limit is not None and by != b"RANK":
        offset, count = limit
        picked = picked[offset:] if count < 0 else picked[offset : offset + count]
    if picked:
        r.put(db, dst, Obj("zset", dict(picked)))
    else:
        r.delete(db, dst)


# ---------------------------------------------------------------- hashes


def _hash(r: Replayer, db: int, key: bytes) -> dict[bytes, tuple[bytes, int | None]] | None:
    o = r.get(db, key, "hash")
    return None if o is None else o.value


@_cmd("HSET", "HMSET")
def _hset(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    pairs = a[1:]
    if not pairs or len(pairs) % 2:
        raise CmdError("wrong number of arguments")
    h = r.make(db, a[0], "hash", dict).value
    for f, v in zip(pairs[0::2], pairs[1::2]):
        h[f] = (v, None)


@_cmd("HSETNX")
def _hsetnx(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    h = r.make(db, a[0], "hash", dict).value
    if a[1] not in h:
        h[a[1]] = (a[2], None)


@_cmd("HDEL")
def _hdel(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    h = _hash(r, db, a[0])
    if h is not None:
        for f in a[1:]:
            h.pop(f, None)
        r.cleanup(db, a[0])


@_cmd("HINCRBY")
def _hincrby(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    by = parse_int(a[2])
    h = _hash(r, db, a[0])
    cur, ttl = (b"0", None) if h is None or a[1] not in h else h[a[1]]
    new = parse_int(cur, "hash value") + by
    if not INT64_MIN <= new <= INT64_MAX:
        raise CmdError("increment or decrement would overflow")
    r.make(db, a[0], "hash", dict).value[a[1]] = (fmt_int(new), ttl)


@_cmd("HINCRBYFLOAT")
def _hincrbyfloat(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    h = _hash(r, db, a[0])
    cur, ttl = (b"0", None) if h is None or a[1] not in h else h[a[1]]
    new = incr_long_double(cur, a[2])
    r.make(db, a[0], "hash", dict).value[a[1]] = (new, ttl)


def _field_list(a: list[bytes], i: int, pairs: bool = False) -> list[bytes]:
    """``FIELDS numfields field...`` (``pairs``: field value ...) ending the command."""
    if i >= len(a) or a[i].upper() != b"FIELDS":
        raise CmdError("Mandatory argument FIELDS is missing or not at the right position")
    n = parse_int(a[i + 1])
    rest = a[i + 2 :]
    if n <= 0 or len(rest) != (2 * n if pairs else n):
        raise CmdError("invalid number of fields")
    return rest


def _hexpire_impl(unit: bytes) -> Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        when = expire_at_ms(unit, a[1], r._now, latest=HFE_MAX_MS, negative=False)
        i = 2
        cond = None
        if a[i].upper() in (b"NX", b"XX", b"GT", b"LT"):
            cond = a[i].upper()
            i += 1
        fields = _field_list(a, i)
        hv = _hash(r, db, a[0])
        if hv is None:
            return
        for f in fields:
            if f not in hv:
                continue
            v, cur = hv[f]
            if cond == b"NX" and cur is not None:
                continue
            if cond == b"XX" and cur is None:
                continue
            if cond == b"GT" and (cur is None or when <= cur):
                continue
            if cond == b"LT" and cur is not None and when >= cur:
                continue
            hv[f] = (v, when)

    return h


_HANDLERS[b"HEXPIRE"] = _hexpire_impl(b"EX")
_HANDLERS[b"HPEXPIRE"] = _hexpire_impl(b"PX")
_HANDLERS[b"HEXPIREAT"] = _hexpire_impl(b"EXAT")
_HANDLERS[b"HPEXPIREAT"] = _hexpire_impl(b"PXAT")


@_cmd("HPERSIST")
def _hpersist(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    fields = _field_list(a, 1)
    hv = _hash(r, db, a[0])
    if hv is None:
        return
    for f in fields:
        if f in hv:
            hv[f] = (hv[f][0], None)


# ---------------------------------------------------------------- streams


def _stream(r: Replayer, db: int, key: bytes) -> Stream | None:
    o = r.get(db, key, "stream")
    return None if o is None else o.value


@_cmd("XADD")
def _xadd(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    new = xadd(s, a[1:], r._now)
    if s is None and new is not None:
        r.put(db, a[0], Obj("stream", new))


@_cmd("XDEL")
def _xdel(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    if s is not None:  # xdelCommand reads the ids once the key is there
        xdel(s, [parse_strict_id(x) for x in a[1:]])


@_cmd("XTRIM")
def _xtrim(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    trim = parse_trim_args(a[1:], False)  # the server checks the options first
    s = _stream(r, db, a[0])
    if s is not None:
        xtrim(s, trim)


@_cmd("XSETID")
def _xsetid(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    args = parse_xsetid(a[1:])  # the server checks the arguments first
    s = _stream(r, db, a[0])
    if s is None:
        raise CmdError("no such key")
    xsetid(s, args)


@_cmd("XGROUP")
def _xgroup(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    sub = a[0].upper()
    if sub == b"HELP":
        return
    s = _stream(r, db, a[1])
    new = xgroup(s, sub, a[2:], r._now)
    if s is None and new is not None:
        r.put(db, a[1], Obj("stream", new))


@_cmd("XACK")
def _xack(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    if s is not None and a[1] in s.groups:  # xackCommand reads the ids after these
        xack(s, a[1], [parse_strict_id(x) for x in a[2:]])


@_cmd("XCLAIM")
def _xclaim(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    s = _stream(r, db, a[0])
    if s is None:
        raise CmdError("no such key")
    xclaim(s, a[1:], r._now, r.now_ms, keep_deleted=r.pel_keeps_deleted)


# ---------------------------------------------------------------- functions


@_cmd("FUNCTION")
def _function(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    sub = a[0].upper()
    if sub == b"LOAD":
        replace = len(a) > 2 and a[1].upper() == b"REPLACE"
        code = a[-1]
        name = _library_name(code)
        if name in r.functions and not replace:
            raise CmdError(f"Library '{name!r}' already exists")
        r.functions[name] = code
        r.function_events.pop(name, None)
    elif sub == b"DELETE":
        if r.functions.pop(a[1], None) is None:
            raise CmdError("Library not found")
        r.function_events.pop(a[1], None)
    elif sub == b"FLUSH":
        r.functions.clear()
        r.function_events.clear()
    elif sub == b"RESTORE":
        from rdbtools.replay_more import function_restore

        function_restore(r, a[1:])
    elif sub in (b"LIST", b"DUMP", b"STATS", b"HELP", b"KILL"):
        return
    else:
        raise UnsupportedType(
            f"replay: unsupported command FUNCTION {sub.decode('utf-8', 'replace')}", offset=off)


# ---------------------------------------------------------------- EVAL (3.2 and older)

_LUA_STMT = re.compile(
    r"""\s*(?:return\s+)?redis\.(?:p?call)\s*\((?P<args>[^()]*)\)\s*;?""")
_LUA_ARG = re.compile(r"""\s*(?:'(?P<s1>[^'\\]*)'|"(?P<s2>[^"\\]*)"|KEYS\[(?P<k>\d+)\]|"""
                      r"""ARGV\[(?P<v>\d+)\]|(?P<n>-?\d+))\s*(?:,|$)""")


def _eval(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """Scripts made only of ``redis.call(...)`` statements whose arguments are string or
    number literals, ``KEYS[i]`` or ``ARGV[i]`` (servers before 5.0 wrote scripts
    verbatim). Anything else is unsupported. Registered for ``EVAL`` and ``EVALSHA`` by
    ``replay_more``, which remembers the script and counts the unsupported ones skipped."""
    script = a[0].decode("utf-8", "replace")
    nkeys = parse_int(a[1])
    keys, argv = a[2 : 2 + nkeys], a[2 + nkeys :]
    calls: list[list[bytes]] = []
    pos = 0
    while pos < len(script.rstrip()):
        m = _LUA_STMT.match(script, pos)
        if not m:
            raise UnsupportedType("replay: unsupported command EVAL (script beyond "
                                  "plain redis.call statements)", offset=off)
        args: list[bytes] = []
        text = m.group("args")
        p = 0
        while p < len(text.strip()):
            am = _LUA_ARG.match(text, p)
            if not am or am.end() == p:
                raise UnsupportedType("replay: unsupported command EVAL (argument "
                                      "expression)", offset=off)
            if am.group("k"):
                args.append(keys[int(am.group("k")) - 1])
            elif am.group("v"):
                args.append(argv[int(am.group("v")) - 1])
            else:
                lit = am.group("s1") or am.group("s2") or am.group("n") or ""
                args.append(lit.encode())
            p = am.end()
        calls.append(args)
        pos = m.end()
    for c in calls:
        r.execute(Command(db, tuple(c), off))


# Handlers of the later command families register themselves on import.
from rdbtools import replay_modules as _replay_modules  # noqa: E402
from rdbtools import replay_more as _replay_more  # noqa: E402,F401
