"""Replay of the generic key commands: ``SELECT``, ``DEL``, the ``EXPIRE`` family,
``PERSIST``, ``RENAME``, ``MOVE``, ``COPY``, ``SWAPDB``, ``FLUSHDB`` / ``FLUSHALL``,
``RESTORE``, ``MIGRATE``; and the commands that change nothing (pings, read-only
commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.events import KeyStart
from rdbtools.replay.args import (
    INT_MAX,
    CmdError,
    expire_at_ms,
    parse_int,
    parse_int32,
)
from rdbtools.replay.keyspace import carried, copy_value
from rdbtools.replay.loader import Loader

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace


def _db_index(r: Keyspace, arg: bytes) -> int:
    """A database number argument (``COPY ... DB``, ``MOVE``, ``SWAPDB``): a C ``int``
    within the server's databases (``selectDb``), else "DB index is out of range"."""
    n = parse_int32(arg)
    if not 0 <= n < r.databases:
        raise CmdError("DB index is out of range")
    return n


def _select(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``selectCommand``: a C ``int`` (``getIntFromObjectOrReply``) and a database the
    server has. The AOF reader has already switched to the number written; when the
    server would refuse it, the commands that follow stay in ``db`` (``Replayer.remap``). A number
    any server could have (below INT_MAX) makes ``databases`` that many."""
    r.remap = None
    try:
        if len(a) != 1:
            raise CmdError("wrong number of arguments for 'select' command")
        n = parse_int32(a[0])
        if not 0 <= n < INT_MAX:
            raise CmdError("DB index is out of range")
    except CmdError:
        if a and a[0].isdigit():
            r.remap = (int(a[0]), db)
        raise
    r.databases = max(r.databases, n + 1)


def _noop(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    return None


def _del(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        flags = _expire_flags(a[2:])
        when = expire_at_ms(unit, a[1], r.clock_ms)
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


def _persist(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0])
    if o is not None:
        o.expire = None


def _rename(r: Keyspace, db: int, a: list[bytes], nx: bool) -> None:
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
    d[dst] = carried(o)


def _rename1(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    _rename(r, db, a, False)


def _renamenx(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    _rename(r, db, a, True)


def _move(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    dst = _db_index(r, a[1])
    if dst == db:
        raise CmdError("source and destination objects are the same")
    o = r.db(db).get(a[0])
    if o is None or a[0] in r.db(dst):
        return
    del r.db(db)[a[0]]
    r.db(dst)[a[0]] = carried(o)


def _copy(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    r.db(dstdb)[dst] = copy_value(o)


def _swapdb(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    x, y = _db_index(r, a[0]), _db_index(r, a[1])
    r.dbs[x], r.dbs[y] = r.db(y), r.db(x)


def _flushdb(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    r.dbs[db] = {}


def _flushall(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    r.dbs.clear()


def _restore(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
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
    loader = Loader()
    for ev in decode_payload(payload, key, db=db):
        if isinstance(ev, KeyStart):
            loader.begin(ev)
        else:
            loader.feed(ev)
    _, o = loader.end()
    if ttl:
        o.expire = ttl if b"ABSTTL" in opts else r.clock_ms + ttl
    else:
        o.expire = None
    r.put(db, key, o)


def _migrate(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw]
    [KEYS key...]``: the keys leave this server unless ``COPY`` (servers write ``DEL``)."""
    copy = False
    keys = [a[2]] if a[2] else []
    i = 5
    while i < len(a):
        opt = a[i].upper()
        if opt == b"COPY":
            copy = True
        elif opt == b"AUTH":
            i += 1
        elif opt == b"AUTH2":
            i += 2
        elif opt == b"KEYS":
            keys = a[i + 1 :]
            break
        elif opt != b"REPLACE":
            raise CmdError("syntax error")
        i += 1
    if not copy:
        for k in keys:
            r.delete(db, k)


# Read-only commands change nothing; a file may still hold them (inside MULTI blocks of
# old servers, or written by hand).
READ_ONLY = (
    "GET", "MGET", "STRLEN", "GETRANGE", "SUBSTR", "GETBIT", "BITCOUNT", "BITPOS", "LCS",
    "EXISTS", "TYPE", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "KEYS", "SCAN",
    "RANDOMKEY", "DBSIZE", "DUMP", "OBJECT", "TOUCH", "LLEN", "LRANGE", "LINDEX", "LPOS",
    "SCARD", "SISMEMBER", "SMISMEMBER", "SMEMBERS", "SRANDMEMBER", "SINTER", "SUNION",
    "SDIFF", "SINTERCARD", "SSCAN", "ZCARD", "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK",
    "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX",
    "ZREVRANGEBYLEX", "ZCOUNT", "ZLEXCOUNT", "ZRANDMEMBER", "ZUNION", "ZINTER", "ZDIFF",
    "ZINTERCARD", "ZSCAN", "HGET", "HMGET", "HGETALL", "HKEYS", "HVALS", "HLEN", "HEXISTS",
    "HSTRLEN", "HRANDFIELD", "HSCAN", "HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME",
    "XLEN", "XRANGE", "XREVRANGE", "XREAD", "XPENDING", "XINFO", "GEOPOS", "GEODIST",
    "GEOHASH", "GEOSEARCH", "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO", "SORT_RO", "EVAL_RO",
    "EVALSHA_RO", "FCALL_RO", "ECHO",
)


COMMANDS: dict[bytes, Handler] = {
    b"SELECT": _select,
    b"PING": _noop,
    b"PUBLISH": _noop,
    b"SPUBLISH": _noop,
    b"WATCH": _noop,
    b"UNWATCH": _noop,
    b"DISCARD": _noop,
    b"DEL": _del,
    b"UNLINK": _del,
    b"EXPIRE": _expire_impl(b"EX"),
    b"PEXPIRE": _expire_impl(b"PX"),
    b"EXPIREAT": _expire_impl(b"EXAT"),
    b"PEXPIREAT": _expire_impl(b"PXAT"),
    b"PERSIST": _persist,
    b"RENAME": _rename1,
    b"RENAMENX": _renamenx,
    b"MOVE": _move,
    b"COPY": _copy,
    b"SWAPDB": _swapdb,
    b"FLUSHDB": _flushdb,
    b"FLUSHALL": _flushall,
    b"RESTORE": _restore,
    b"RESTORE-ASKING": _restore,
    b"MIGRATE": _migrate,
    **dict.fromkeys((name.encode() for name in READ_ONLY), _noop),
}
