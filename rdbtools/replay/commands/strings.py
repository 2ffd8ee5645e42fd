"""Replay of the string commands: ``SET`` and its variants, ``GETSET`` / ``GETDEL`` /
``GETEX``, ``APPEND``, ``SETRANGE``, the ``INCR`` / ``DECR`` family, ``MSET``,
``SETBIT``, ``BITOP``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.errors import UnsupportedType
from rdbtools.replay.args import (
    INT64_MAX,
    INT64_MIN,
    CmdError,
    fmt_int,
    incr_long_double,
    parse_int,
    set_expire_ms,
)
from rdbtools.replay.keyspace import Obj

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def string_of(r: Keyspace, db: int, key: bytes) -> bytes | None:
    """The key's string, ``None`` when missing; another type is ``WRONGTYPE``."""
    o = r.get(db, key, "string")
    return None if o is None else bytes(o.value)


def store_string(r: Keyspace, db: int, key: bytes, o: Obj | None, value: bytes) -> None:
    """Write a string value: into ``o``, the key's string (its TTL kept), or as a new key
    without TTL when ``o`` is ``None``."""
    if o is None:
        r.put(db, key, Obj("string", value))
    else:
        o.value = value


def set_string(r: Keyspace, db: int, key: bytes, value: bytes, *, keepttl: bool = False,
                expire: int | None = None) -> None:
    """Replace the key (of any type) with a string; its TTL kept with ``keepttl``."""
    old = r.db(db).get(key)
    ttl = old.expire if (keepttl and old is not None) else expire
    r.put(db, key, Obj("string", value, ttl))


def _set(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    if len(a) == 2:  # the common case, as every server writes a plain SET
        r.db(db)[a[0]] = Obj("string", a[1])
        return
    key, value = a[0], a[1]
    flags, unit, arg = _string_options(a, 2, set_command=True)
    nx, xx, get, keepttl = (b"NX" in flags, b"XX" in flags, b"GET" in flags,
                            b"KEEPTTL" in flags)
    expire = None if unit is None else set_expire_ms(unit, arg, r.clock_ms)
    cur = r.db(db).get(key)
    if get and cur is not None and cur.type != "string":
        raise CmdError("WRONGTYPE")
    if (nx and cur is not None) or (xx and cur is None):
        return
    set_string(r, db, key, value, keepttl=keepttl, expire=expire)


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


def _setnx(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    if a[0] not in r.db(db):
        set_string(r, db, a[0], a[1])


def _setex_impl(unit: bytes) -> Handler:
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        set_string(r, db, a[0], a[2], expire=set_expire_ms(unit, a[1], r.clock_ms))

    return h


def _getset(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    string_of(r, db, a[0])
    set_string(r, db, a[0], a[1])


def _getdel(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    if string_of(r, db, a[0]) is not None:
        r.delete(db, a[0])


def _getex(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    flags, unit, arg = _string_options(a, 1, set_command=False)
    o = r.get(db, a[0], "string")
    if o is None:
        return
    if b"PERSIST" in flags:
        o.expire = None
    elif unit is not None:
        o.expire = set_expire_ms(unit, arg, r.clock_ms)


def _append(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0], "string")
    store_string(r, db, a[0], o, a[1] if o is None else bytes(o.value) + a[1])


def _setrange(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    offset = parse_int(a[1])
    if offset < 0:
        raise CmdError("offset is out of range")
    o = r.get(db, a[0], "string")
    if not a[2]:
        return
    cur = b"" if o is None else bytes(o.value)
    if len(cur) < offset:
        cur += b"\x00" * (offset - len(cur))
    store_string(r, db, a[0], o, cur[:offset] + a[2] + cur[offset + len(a[2]) :])


def _incr(r: Keyspace, db: int, key: bytes, by: int) -> None:
    o = r.get(db, key, "string")
    cur = 0 if o is None else parse_int(bytes(o.value))
    new = cur + by
    if not INT64_MIN <= new <= INT64_MAX:
        raise CmdError("increment or decrement would overflow")
    store_string(r, db, key, o, fmt_int(new))


def _incr1(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    _incr(r, db, a[0], 1)


def _decr1(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    _incr(r, db, a[0], -1)


def _incrby(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    _incr(r, db, a[0], parse_int(a[1]))


def _decrby(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    n = parse_int(a[1])
    if n == INT64_MIN:
        raise CmdError("decrement would overflow")
    _incr(r, db, a[0], -n)


def _incrbyfloat(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0], "string")
    store_string(r, db, a[0], o, incr_long_double(b"0" if o is None else bytes(o.value), a[1]))


def _mset(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    if not a or len(a) % 2:
        raise CmdError("wrong number of arguments")
    for k, v in zip(a[0::2], a[1::2]):
        set_string(r, db, k, v)


def _msetnx(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    if not a or len(a) % 2:
        raise CmdError("wrong number of arguments")
    d = r.db(db)
    if any(k in d for k in a[0::2]):
        return
    _mset(r, db, a, off)


def _setbit(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    store_string(r, db, a[0], o, bytes(cur))


def _bitop(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    op, dest, srcs = a[0].upper(), a[1], a[2:]
    vals = [string_of(r, db, k) or b"" for k in srcs]
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
        set_string(r, db, dest, res)
    else:
        r.delete(db, dest)


COMMANDS: dict[bytes, Handler] = {
    b"SET": _set,
    b"SETNX": _setnx,
    b"SETEX": _setex_impl(b"EX"),
    b"PSETEX": _setex_impl(b"PX"),
    b"GETSET": _getset,
    b"GETDEL": _getdel,
    b"GETEX": _getex,
    b"APPEND": _append,
    b"SETRANGE": _setrange,
    b"INCR": _incr1,
    b"DECR": _decr1,
    b"INCRBY": _incrby,
    b"DECRBY": _decrby,
    b"INCRBYFLOAT": _incrbyfloat,
    b"MSET": _mset,
    b"MSETNX": _msetnx,
    b"SETBIT": _setbit,
    b"BITOP": _bitop,
}
