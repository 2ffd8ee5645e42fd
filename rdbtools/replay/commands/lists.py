"""Replay of the list commands: pushes, pops (``LMPOP`` / ``BLMPOP`` too), ``LSET``,
``LINSERT``, ``LREM``, ``LTRIM``, ``LMOVE`` / ``RPOPLPUSH``."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from rdbtools.replay.args import (
    CmdError,
    mpop_args,
    parse_count,
    parse_int,
)

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def _list(r: Keyspace, db: int, key: bytes) -> deque[bytes] | None:
    o = r.get(db, key, "list")
    return None if o is None else o.value


def _push(left: bool, need: bool) -> Handler:
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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


def _pop_n(r: Keyspace, db: int, key: bytes, lst: deque[bytes], n: int, left: bool) -> None:
    """Remove up to ``n`` elements from the head (``left``) or tail of ``lst``, the list of
    ``key``."""
    pop = lst.popleft if left else lst.pop
    for _ in range(min(n, len(lst))):
        pop()
    r.cleanup(db, key)


def _pop(left: bool) -> Handler:
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        lst = _list(r, db, a[0])
        n = parse_count(a)
        if lst is not None:
            _pop_n(r, db, a[0], lst, n, left)

    return h


def _bpop(left: bool) -> Handler:
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        for k in a[:-1]:
            lst = _list(r, db, k)
            if lst:
                _pop_n(r, db, k, lst, 1, left)
                return

    return h


def index(i: int, n: int) -> int:
    """A list index as the server reads it: negative counts from the end."""
    return i + n if i < 0 else i


def _lset(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    lst = _list(r, db, a[0])
    if lst is None:
        raise CmdError("no such key")
    i = index(parse_int(a[1]), len(lst))
    if not 0 <= i < len(lst):
        raise CmdError("index out of range")
    lst[i] = a[2]


def _linsert(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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


def _lrem(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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


def _ltrim(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    start, end = parse_int(a[1]), parse_int(a[2])
    lst = _list(r, db, a[0])
    if lst is None:
        return
    n = len(lst)
    start = max(0, index(start, n))
    end = index(end, n)
    if start > end or start >= n:
        lst.clear()
    else:
        for _ in range(start):
            lst.popleft()
        for _ in range(n - 1 - min(end, n - 1)):
            lst.pop()
    r.cleanup(db, a[0])


def _lmove(r: Keyspace, db: int, src: bytes, dst: bytes, wfrom: bytes, wto: bytes) -> None:
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


def _rpoplpush(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    _lmove(r, db, a[0], a[1], b"RIGHT", b"LEFT")


def _lmove_cmd(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    wf, wt = a[2].upper(), a[3].upper()
    if wf not in (b"LEFT", b"RIGHT") or wt not in (b"LEFT", b"RIGHT"):
        raise CmdError("syntax error")
    _lmove(r, db, a[0], a[1], wf, wt)


def _lmpop(blocking: bool) -> Handler:
    """``[B]LMPOP [timeout] numkeys key... LEFT|RIGHT [COUNT n]``: up to n elements of
    the first non-empty list."""

    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        keys, where, count = mpop_args(a, blocking, (b"LEFT", b"RIGHT"))
        for k in keys:
            lst = _list(r, db, k)
            if lst:
                _pop_n(r, db, k, lst, count, where == b"LEFT")
                return

    return h


COMMANDS: dict[bytes, Handler] = {
    b"LPUSH": _push(True, False),
    b"RPUSH": _push(False, False),
    b"LPUSHX": _push(True, True),
    b"RPUSHX": _push(False, True),
    b"LPOP": _pop(True),
    b"RPOP": _pop(False),
    b"BLPOP": _bpop(True),
    b"BRPOP": _bpop(False),
    b"LSET": _lset,
    b"LINSERT": _linsert,
    b"LREM": _lrem,
    b"LTRIM": _ltrim,
    b"RPOPLPUSH": _rpoplpush,
    b"BRPOPLPUSH": _rpoplpush,
    b"LMOVE": _lmove_cmd,
    b"BLMOVE": _lmove_cmd,
    b"LMPOP": _lmpop(False),
    b"BLMPOP": _lmpop(True),
}
