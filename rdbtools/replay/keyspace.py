"""The keyspace a replay rebuilds (``Keyspace``: databases of ``Obj`` values, function
libraries, counters), the ``Handler`` signature, and what every command module shares."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rdbtools.errors import UnsupportedType
from rdbtools.events import Aux, Command, Function
from rdbtools.replay.args import CmdError
from rdbtools.replay.stream import Stream


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


def carried(o: Obj) -> Obj:
    """``o`` as ``COPY`` / ``MOVE`` / ``RENAME`` carry it to its new name."""
    if o.expire == NO_EXPIRE:
        o.expire = None
    return o


def copy_value(o: Obj) -> Obj:
    v = o.value
    if isinstance(v, (deque, list, set, dict, Stream)):
        v = v.copy()
    return carried(Obj(o.type, v, o.expire))


def unreplayable(r: Keyspace, name: str, why: str, off: int) -> None:
    """A command whose effect cannot be computed offline: counted and skipped with
    ``skip_unknown``, else ``UnsupportedType`` naming it and why."""
    if r.skip_unknown:
        r.skipped[name] += 1
        return
    raise UnsupportedType(f"replay: unsupported command {name} ({why})", offset=off)


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


Handler = Callable[["Keyspace", int, list[bytes], int], None]
"""A command's replay: (keyspace, db, the arguments after the command name, offset)."""


@dataclass
class Keyspace:
    """The state a replay rebuilds, and the access the command handlers use; the
    ``Replayer`` (``rdbtools.replay.replayer``) feeds it and defines ``execute``."""

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
    commands: Mapping[bytes, Handler] = field(default_factory=dict)
    """The handler of each command replay models, by upper-case name (a ``Replayer``:
    ``rdbtools.replay.commands.COMMANDS``); any other command is carried, skipped or
    refused (``strict``)."""
    remap: tuple[int, int] | None = None
    """After a ``SELECT`` the server refuses: (the number the reader switched to, the
    database the commands stay in), until the next ``SELECT`` or file."""
    clock_ms: int = 0
    """The time of the command being applied (unix ms): its ``#TS:`` time, else ``now_ms``."""


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

    def execute(self, cmd: Command) -> None:
        """Apply one command now (``Replayer.execute``; ``EVAL`` runs its calls through it)."""
        raise NotImplementedError
