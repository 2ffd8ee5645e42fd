"""Replay of the hash commands: ``HSET``, ``HSETNX``, ``HDEL``, ``HINCRBY*``, and the
field expiry of Redis 7.4 / 8.0 (``HEXPIRE`` ..., ``HPERSIST``, ``HSETEX``, ``HGETEX``,
``HGETDEL``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.replay.args import (
    HFE_MAX_MS,
    INT64_MAX,
    INT64_MIN,
    CmdError,
    expire_at_ms,
    fmt_int,
    incr_long_double,
    parse_int,
)

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def _hash(r: Keyspace, db: int, key: bytes) -> dict[bytes, tuple[bytes, int | None]] | None:
    o = r.get(db, key, "hash")
    return None if o is None else o.value


def _hset(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    pairs = a[1:]
    if not pairs or len(pairs) % 2:
        raise CmdError("wrong number of arguments")
    h = r.make(db, a[0], "hash", dict).value
    for f, v in zip(pairs[0::2], pairs[1::2]):
        h[f] = (v, None)


def _hsetnx(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    h = r.make(db, a[0], "hash", dict).value
    if a[1] not in h:
        h[a[1]] = (a[2], None)


def _hdel(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    h = _hash(r, db, a[0])
    if h is not None:
        for f in a[1:]:
            h.pop(f, None)
        r.cleanup(db, a[0])


def _hincrby(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    by = parse_int(a[2])
    h = _hash(r, db, a[0])
    cur, ttl = (b"0", None) if h is None or a[1] not in h else h[a[1]]
    new = parse_int(cur, "hash value") + by
    if not INT64_MIN <= new <= INT64_MAX:
        raise CmdError("increment or decrement would overflow")
    r.make(db, a[0], "hash", dict).value[a[1]] = (fmt_int(new), ttl)


def _hincrbyfloat(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        when = expire_at_ms(unit, a[1], r.clock_ms, latest=HFE_MAX_MS, negative=False)
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


def _hpersist(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    fields = _field_list(a, 1)
    hv = _hash(r, db, a[0])
    if hv is None:
        return
    for f in fields:
        if f in hv:
            hv[f] = (hv[f][0], None)


_TTL_OPTS = (b"EX", b"PX", b"EXAT", b"PXAT")


def _ttl_arg(r: Keyspace, opt: bytes, n: bytes) -> int:
    v = parse_int(n)
    if v <= 0:
        raise CmdError("invalid expire time, must be >= 0")
    return expire_at_ms(opt, n, r.clock_ms, latest=HFE_MAX_MS, negative=False)


def _hsetex(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``HSETEX key [FNX|FXX] [EX|PX|EXAT|PXAT t | KEEPTTL] FIELDS n field value ...``:
    ``FNX`` sets only when no field exists, ``FXX`` only when all exist. A field set
    without ``KEEPTTL`` takes the given TTL or none."""
    cond: bytes | None = None
    keepttl = False
    when: int | None = None
    i = 1
    while i < len(a) and a[i].upper() != b"FIELDS":
        opt = a[i].upper()
        if opt in (b"FNX", b"FXX") and cond is None:
            cond = opt
        elif opt == b"KEEPTTL" and when is None and not keepttl:
            keepttl = True
        elif opt in _TTL_OPTS and when is None and not keepttl:
            when = _ttl_arg(r, opt, a[i + 1])
            i += 1
        else:
            raise CmdError("syntax error")
        i += 1
    rest = _field_list(a, i, pairs=True)
    h = _hash(r, db, a[0])
    fields = rest[0::2]
    if cond == b"FNX" and h is not None and any(f in h for f in fields):
        return
    if cond == b"FXX" and (h is None or not all(f in h for f in fields)):
        return
    hv = r.make(db, a[0], "hash", dict).value
    for f, v in zip(fields, rest[1::2]):
        ttl = hv[f][1] if (keepttl and f in hv) else when
        hv[f] = (v, ttl)


def _hgetex(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``HGETEX key [EX|PX|EXAT|PXAT t | PERSIST] FIELDS n field ...``: the TTL of the
    existing fields is set or removed."""
    i = 1
    persist = False
    when: int | None = None
    while i < len(a) and a[i].upper() != b"FIELDS":
        opt = a[i].upper()
        if opt == b"PERSIST" and when is None and not persist:
            persist = True
        elif opt in _TTL_OPTS and when is None and not persist:
            when = _ttl_arg(r, opt, a[i + 1])
            i += 1
        else:
            raise CmdError("syntax error")
        i += 1
    fields = _field_list(a, i, pairs=False)
    hv = _hash(r, db, a[0])
    if hv is None or (when is None and not persist):
        return
    for f in fields:
        if f in hv:
            hv[f] = (hv[f][0], None if persist else when)


def _hgetdel(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``HGETDEL key FIELDS n field ...``: the fields are deleted (the key when empty)."""
    fields = _field_list(a, 1, pairs=False)
    hv = _hash(r, db, a[0])
    if hv is not None:
        for f in fields:
            hv.pop(f, None)
        r.cleanup(db, a[0])


COMMANDS: dict[bytes, Handler] = {
    b"HSET": _hset,
    b"HMSET": _hset,
    b"HSETNX": _hsetnx,
    b"HDEL": _hdel,
    b"HINCRBY": _hincrby,
    b"HINCRBYFLOAT": _hincrbyfloat,
    b"HEXPIRE": _hexpire_impl(b"EX"),
    b"HPEXPIRE": _hexpire_impl(b"PX"),
    b"HEXPIREAT": _hexpire_impl(b"EXAT"),
    b"HPEXPIREAT": _hexpire_impl(b"PXAT"),
    b"HPERSIST": _hpersist,
    b"HSETEX": _hsetex,
    b"HGETEX": _hgetex,
    b"HGETDEL": _hgetdel,
}
