"""Replay of the set commands: ``SADD``, ``SREM``, ``SMOVE``, the ``*STORE`` forms, ``SPOP``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.replay.args import parse_count
from rdbtools.replay.keyspace import Obj, unreplayable

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def _set_of(r: Keyspace, db: int, key: bytes) -> set[bytes] | None:
    o = r.get(db, key, "set")
    return None if o is None else o.value


def _sadd(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    r.make(db, a[0], "set", set).value.update(a[1:])


def _srem(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    s = _set_of(r, db, a[0])
    if s is not None:
        s.difference_update(a[1:])
        r.cleanup(db, a[0])


def _smove(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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


def _spop(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """Random, so replayed only where the result is forced: a missing key, or a count at
    least the set's size (or one member left). Servers write ``SREM``/``UNLINK``."""
    s = _set_of(r, db, a[0])
    n = parse_count(a)
    if s is None or n == 0:
        return
    if n >= len(s):
        r.delete(db, a[0])
        return
    unreplayable(r, "SPOP", "members are picked at random; servers write SREM instead", off)


COMMANDS: dict[bytes, Handler] = {
    b"SADD": _sadd,
    b"SREM": _srem,
    b"SMOVE": _smove,
    b"SUNIONSTORE": _setstore("union"),
    b"SINTERSTORE": _setstore("inter"),
    b"SDIFFSTORE": _setstore("diff"),
    b"SPOP": _spop,
}
