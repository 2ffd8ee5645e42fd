"""Replay of the sorted set commands: ``ZADD``, ``ZINCRBY``, ``ZREM``, the
``ZREMRANGEBY*`` forms, the pops (``ZMPOP``, ``BZPOPMIN`` ... too), the ``*STORE`` forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.replay.args import (
    CmdError,
    mpop_args,
    parse_count,
    parse_float,
    parse_int,
    parse_score_bound,
)
from rdbtools.replay.commands.lists import index
from rdbtools.replay.emit import BY_SCORE
from rdbtools.replay.keyspace import Obj

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def _zset(r: Keyspace, db: int, key: bytes) -> dict[bytes, float] | None:
    o = r.get(db, key, "zset")
    return None if o is None else o.value


def zsorted(z: dict[bytes, float]) -> list[tuple[bytes, float]]:
    """``(member, score)`` by score then member."""
    return sorted(z.items(), key=BY_SCORE)


def zadd(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...`` (``GEOADD`` too)."""
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


def _zincrby(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    zadd(r, db, [a[0], b"INCR", a[1], a[2]], off)


def _zrem(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    start = max(0, index(start, n))
    stop = min(index(stop, n), n - 1)
    return range(start, stop + 1) if start <= stop else range(0)


def _zremrangebyscore(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    lo, hi = parse_score_bound(a[1]), parse_score_bound(a[2])
    z = _zset(r, db, a[0])
    if z is not None:
        for m in [m for m, s in z.items() if _in_score(s, lo, hi)]:
            del z[m]
        r.cleanup(db, a[0])


def _zremrangebylex(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    lo, hi = _lex_bound(a[1]), _lex_bound(a[2])
    z = _zset(r, db, a[0])
    if z is not None:
        for m in [m for m in z if _in_lex(m, lo, hi)]:
            del z[m]
        r.cleanup(db, a[0])


def _zremrangebyrank(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    start, stop = parse_int(a[1]), parse_int(a[2])
    z = _zset(r, db, a[0])
    if z is not None:
        items = zsorted(z)
        for i in _rank_range(len(items), start, stop):
            del z[items[i][0]]
        r.cleanup(db, a[0])


def _zpop_n(r: Keyspace, db: int, key: bytes, z: dict[bytes, float], n: int,
            maximum: bool) -> None:
    """Remove the ``n`` lowest (``maximum``: highest) members of ``z``, the zset of ``key``."""
    items = zsorted(z)
    if maximum:
        items.reverse()
    for m, _ in items[:n]:
        del z[m]
    r.cleanup(db, key)


def _zpop(maximum: bool) -> Handler:
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        n = parse_count(a)
        z = _zset(r, db, a[0])
        if z is not None:
            _zpop_n(r, db, a[0], z, n, maximum)

    return h


def _zsource(r: Keyspace, db: int, key: bytes) -> dict[bytes, float] | None:
    o = r.get(db, key)
    if o is None:
        return None
    if o.type == "set":
        return dict.fromkeys(o.value, 1.0)
    if o.type == "zset":
        return o.value  # type: ignore[no-any-return]
    raise CmdError("WRONGTYPE")


def _zstore(op: str) -> Handler:
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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


def _zrangestore(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    items = zsorted(z)
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


def _zmpop(blocking: bool) -> Handler:
    """``[B]ZMPOP [timeout] numkeys key... MIN|MAX [COUNT n]``."""

    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        keys, where, count = mpop_args(a, blocking, (b"MIN", b"MAX"))
        for k in keys:
            z = _zset(r, db, k)
            if z:
                _zpop_n(r, db, k, z, count, where == b"MAX")
                return

    return h


def _bzpop(maximum: bool) -> Handler:
    """``BZPOPMIN|BZPOPMAX key... timeout``: one member of the first non-empty set."""

    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        parse_float(a[-1])
        for k in a[:-1]:
            z = _zset(r, db, k)
            if z:
                _zpop_n(r, db, k, z, 1, maximum)
                return

    return h


COMMANDS: dict[bytes, Handler] = {
    b"ZADD": zadd,
    b"ZINCRBY": _zincrby,
    b"ZREM": _zrem,
    b"ZREMRANGEBYSCORE": _zremrangebyscore,
    b"ZREMRANGEBYLEX": _zremrangebylex,
    b"ZREMRANGEBYRANK": _zremrangebyrank,
    b"ZPOPMIN": _zpop(False),
    b"ZPOPMAX": _zpop(True),
    b"ZUNIONSTORE": _zstore("union"),
    b"ZINTERSTORE": _zstore("inter"),
    b"ZDIFFSTORE": _zstore("diff"),
    b"ZRANGESTORE": _zrangestore,
    b"ZMPOP": _zmpop(False),
    b"BZMPOP": _zmpop(True),
    b"BZPOPMIN": _bzpop(False),
    b"BZPOPMAX": _bzpop(True),
}
