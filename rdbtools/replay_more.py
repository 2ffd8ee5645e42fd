"""Replay handlers registered into ``rdbtools.replay`` when it is imported: HyperLogLog
merge and cache, ``BITFIELD``, ``SORT ... STORE``, geo, the multi-key pops, Redis 8.0 hash
field expiry, ``FUNCTION RESTORE``, ``XREADGROUP`` / ``XAUTOCLAIM``, ``MIGRATE``, the
commands whose effect cannot be known offline, and the read-only commands (no-ops).

Several of these never appear verbatim in an AOF of a 7.0+ server, which writes their
effect instead (``LMPOP`` as ``LPOP``/``RPOP``, ``BZPOPMIN`` as ``ZPOPMIN``,
``XAUTOCLAIM`` as ``XCLAIM``, ``EVAL`` as the commands the script ran); they are replayed
for files written by other servers or by hand.
"""

from __future__ import annotations

import hashlib
import io
from collections import deque

from rdbtools import crc64
from rdbtools import replay as R
from rdbtools import replay_bitfield as bitfield
from rdbtools import replay_geo as geo
from rdbtools import replay_sort as sort
from rdbtools._buffer import Input
from rdbtools.errors import ParseError, UnsupportedType
from rdbtools.replay_hll import pfcount, pfdebug_todense, pfmerge
from rdbtools.replay_stream import Stream, xautoclaim, xreadgroup
from rdbtools.replay_util import HFE_MAX_MS, CmdError, expire_at_ms, parse_float, parse_int

Replayer = R.Replayer
_cmd = R._cmd


def _unreplayable(r: Replayer, name: str, why: str, off: int) -> None:
    """A command whose effect cannot be computed offline: counted and skipped with
    ``skip_unknown``, else ``UnsupportedType`` naming it and why."""
    if r.skip_unknown:
        r.skipped[name] += 1
        return
    raise UnsupportedType(f"replay: unsupported command {name} ({why})", offset=off)


# ---------------------------------------------------------------- HyperLogLog


@_cmd("PFMERGE")
def _pfmerge(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    objs = [r.get(db, k, "string") for k in a]
    srcs = [None if o is None else bytes(o.value) for o in objs]
    R._store_str(r, db, a[0], objs[0], pfmerge(srcs[0], srcs))


@_cmd("PFCOUNT")
def _pfcount(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """Only ``PFCOUNT key`` (one key) writes: it caches the cardinality in the header."""
    if len(a) != 1:
        return
    o = r.get(db, a[0], "string")
    if o is not None:
        new = pfcount(bytes(o.value))
        if new is not None:
            o.value = new


@_cmd("PFDEBUG")
def _pfdebug(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """``GETREG`` and ``TODENSE`` turn a sparse HLL dense; the other subcommands read."""
    if a[0].upper() not in (b"GETREG", b"TODENSE"):
        return
    o = r.get(db, a[1], "string")
    if o is None:
        raise CmdError("The specified key does not exist")
    new = pfdebug_todense(bytes(o.value))
    if new is not None:
        o.value = new


# ---------------------------------------------------------------- BITFIELD


@_cmd("BITFIELD")
def _bitfield(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    ops = bitfield.parse(a[1:], read_only=False)
    if all(op.kind == b"GET" for op in ops):
        return
    o = r.get(db, a[0], "string")
    new = bitfield.apply(None if o is None else bytes(o.value), ops)
    if new is not None:
        R._store_str(r, db, a[0], o, new)


@_cmd("BITFIELD_RO")
def _bitfield_ro(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    bitfield.parse(a[1:], read_only=True)


# ---------------------------------------------------------------- SORT


@_cmd("SORT")
def _sort(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """Only ``SORT ... STORE dest`` writes."""
    args = sort.parse(a[1:])
    if args.store is None:
        return
    o = r.db(db).get(a[0])
    kind = "list" if o is None else o.type
    elements: list[bytes]
    if o is None:
        elements = []
    elif o.type in ("list", "set"):
        elements = list(o.value)
    elif o.type == "zset":
        elements = [m for m, _ in R._zsorted(o.value)]
    else:
        raise CmdError("WRONGTYPE Operation against a key holding the wrong kind of value")

    def lookup(key: bytes, fld: bytes | None) -> bytes | None:
        x = r.db(db).get(key)
        if x is None:
            return None
        if fld is None:
            return bytes(x.value) if x.type == "string" else None
        if x.type != "hash" or fld not in x.value:
            return None
        return bytes(x.value[fld][0])

    out = sort.sort_store(kind, elements, args, lookup)
    if out:
        r.put(db, args.store, R.Obj("list", deque(out)))
    else:
        r.delete(db, args.store)


# ---------------------------------------------------------------- geo


@_cmd("GEOADD")
def _geoadd(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """``GEOADD key [NX|XX] [CH] lon lat member ...``: ``ZADD`` of the geohash scores."""
    i = 1
    flags: list[bytes] = []
    while i < len(a) and a[i].upper() in (b"NX", b"XX", b"CH"):
        flags.append(a[i].upper())
        i += 1
    rest = a[i:]
    if not rest or len(rest) % 3:
        raise CmdError("syntax error. Try GEOADD key [x1] [y1] [name1] [x2] [y2] [name2] ... ")
    if b"NX" in flags and b"XX" in flags:
        raise CmdError("XX and NX options at the same time are not compatible")
    zargs = [a[0], *flags]
    for j in range(0, len(rest), 3):
        lon, lat = geo.lonlat(rest[j], rest[j + 1])
        zargs += [str(int(geo.encode(lon, lat))).encode(), rest[j + 2]]
    R._HANDLERS[b"ZADD"](r, db, zargs, off)


def _geostore(r: Replayer, db: int, dest: bytes, src: bytes, s: geo.Search) -> None:
    o = r.get(db, src, "zset")
    if o is None:
        return  # the server answers 0 and leaves the destination alone
    res = geo.search(o.value, s)
    if res:
        r.put(db, dest, R.Obj("zset", res))
    else:
        r.delete(db, dest)


def _georadius(bymember: bool) -> R.Handler:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        s = geo.parse_search(a[1:], radius_cmd=True, bymember=bymember)
        if not s.store:
            return  # a plain query
        _geostore(r, db, s.store, a[0], s)

    return h


R._HANDLERS[b"GEORADIUS"] = _georadius(False)
R._HANDLERS[b"GEORADIUSBYMEMBER"] = _georadius(True)


@_cmd("GEOSEARCHSTORE")
def _geosearchstore(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    s = geo.parse_search(a[2:], radius_cmd=False, bymember=False)
    _geostore(r, db, a[0], a[1], s)


# ---------------------------------------------------------------- multi-key pops


def _numkeys(a: list[bytes], i: int) -> tuple[list[bytes], int]:
    n = parse_int(a[i])
    if n <= 0:
        raise CmdError("numkeys should be greater than 0")
    keys = a[i + 1 : i + 1 + n]
    if len(keys) != n:
        raise CmdError("syntax error")
    return keys, i + 1 + n


def _count_opt(a: list[bytes], i: int) -> int:
    if i == len(a):
        return 1
    if len(a) != i + 2 or a[i].upper() != b"COUNT":
        raise CmdError("syntax error")
    n = parse_int(a[i + 1])
    if n <= 0:
        raise CmdError("count should be greater than 0")
    return n


def _lmpop(blocking: bool) -> R.Handler:
    """``[B]LMPOP [timeout] numkeys key... LEFT|RIGHT [COUNT n]``: up to n elements of
    the first non-empty list."""

    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        if blocking:
            parse_float(a[0])
        keys, i = _numkeys(a, 1 if blocking else 0)
        where = a[i].upper()
        if where not in (b"LEFT", b"RIGHT"):
            raise CmdError("syntax error")
        count = _count_opt(a, i + 1)
        for k in keys:
            lst = R._list(r, db, k)
            if lst:
                R._pop_n(r, db, k, lst, count, where == b"LEFT")
                return

    return h


def _zmpop(blocking: bool) -> R.Handler:
    """``[B]ZMPOP [timeout] numkeys key... MIN|MAX [COUNT n]``."""

    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        if blocking:
            parse_float(a[0])
        keys, i = _numkeys(a, 1 if blocking else 0)
        where = a[i].upper()
        if where not in (b"MIN", b"MAX"):
            raise CmdError("syntax error")
        count = _count_opt(a, i + 1)
        for k in keys:
            z = R._zset(r, db, k)
            if z:
                R._zpop_n(r, db, k, z, count, where == b"MAX")
                return

    return h


def _bzpop(maximum: bool) -> R.Handler:
    """``BZPOPMIN|BZPOPMAX key... timeout``: one member of the first non-empty set."""

    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        parse_float(a[-1])
        for k in a[:-1]:
            z = R._zset(r, db, k)
            if z:
                R._zpop_n(r, db, k, z, 1, maximum)
                return

    return h


R._HANDLERS[b"LMPOP"] = _lmpop(False)
R._HANDLERS[b"BLMPOP"] = _lmpop(True)
R._HANDLERS[b"ZMPOP"] = _zmpop(False)
R._HANDLERS[b"BZMPOP"] = _zmpop(True)
R._HANDLERS[b"BZPOPMIN"] = _bzpop(False)
R._HANDLERS[b"BZPOPMAX"] = _bzpop(True)


# ---------------------------------------------------------------- hash field expiry (8.0)


_TTL_OPTS = (b"EX", b"PX", b"EXAT", b"PXAT")


def _ttl_arg(r: Replayer, opt: bytes, n: bytes) -> int:
    v = parse_int(n)
    if v <= 0:
        raise CmdError("invalid expire time, must be >= 0")
    return expire_at_ms(opt, n, r._now, latest=HFE_MAX_MS, negative=False)


@_cmd("HSETEX")
def _hsetex(r: Replayer, db: int, a: list[bytes], off: int) -> None:
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
    rest = R._field_list(a, i, pairs=True)
    h = R._hash(r, db, a[0])
    fields = rest[0::2]
    if cond == b"FNX" and h is not None and any(f in h for f in fields):
        return
    if cond == b"FXX" and (h is None or not all(f in h for f in fields)):
        return
    hv = r.make(db, a[0], "hash", dict).value
    for f, v in zip(fields, rest[1::2]):
        ttl = hv[f][1] if (keepttl and f in hv) else when
        hv[f] = (v, ttl)


@_cmd("HGETEX")
def _hgetex(r: Replayer, db: int, a: list[bytes], off: int) -> None:
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
    fields = R._field_list(a, i, pairs=False)
    hv = R._hash(r, db, a[0])
    if hv is None or (when is None and not persist):
        return
    for f in fields:
        if f in hv:
            hv[f] = (hv[f][0], None if persist else when)


@_cmd("HGETDEL")
def _hgetdel(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """``HGETDEL key FIELDS n field ...``: the fields are deleted (the key when empty)."""
    fields = R._field_list(a, 1, pairs=False)
    hv = R._hash(r, db, a[0])
    if hv is not None:
        for f in fields:
            hv.pop(f, None)
        r.cleanup(db, a[0])


# ---------------------------------------------------------------- streams


@_cmd("XAUTOCLAIM")
def _xautoclaim(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    xautoclaim(R._stream(r, db, a[0]), a[1:], r._now)


@_cmd("XREADGROUP")
def _xreadgroup(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    if a[0].upper() != b"GROUP":
        raise CmdError("Missing GROUP option for XREADGROUP")
    upper = [x.upper() for x in a]
    if b"STREAMS" not in upper:
        raise CmdError("syntax error")
    at = upper.index(b"STREAMS")
    rest = a[at + 1 :]
    if not rest or len(rest) % 2:
        raise CmdError("Unbalanced 'xreadgroup' list of streams")
    n = len(rest) // 2
    streams: list[tuple[Stream, bytes]] = []
    for k, id_arg in zip(rest[:n], rest[n:]):
        s = R._stream(r, db, k)
        if s is None:
            raise CmdError("NOGROUP No such key or consumer group")
        streams.append((s, id_arg))
    xreadgroup(streams, a[1:at + 1], r._now)


# ---------------------------------------------------------------- functions


def function_payload(payload: bytes) -> list[bytes]:
    """The library codes of a ``FUNCTION DUMP`` payload: ``FUNCTION2`` opcodes (245) each
    followed by the code as an rdb-string, then the u16 RDB version and the CRC-64 of
    everything before it, as ``verifyDumpPayload`` checks them."""
    if len(payload) < 10:
        raise CmdError("payload version or checksum are wrong")
    crc = int.from_bytes(payload[-8:], "little")
    if crc and crc != crc64.crc64(payload[:-8]):
        raise CmdError("payload version or checksum are wrong")
    body = payload[:-10]
    inp = Input(io.BytesIO(body), "FUNCTION RESTORE payload", size=len(body), checksum=False)
    codes: list[bytes] = []
    try:
        while inp.base + inp.pos < len(body):
            op = inp.read_byte()
            if op == 246:
                raise CmdError("Pre-GA function format not supported")
            if op != 245:
                raise CmdError("given type is not a function")
            codes.append(inp.read_string())
    except ParseError:
        raise CmdError("payload version or checksum are wrong") from None
    return codes


def function_restore(r: Replayer, a: list[bytes]) -> None:
    """``FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`` (``a`` after ``RESTORE``):
    ``APPEND`` (default) fails as a whole when a library exists, ``REPLACE`` overwrites
    libraries of the same name, ``FLUSH`` drops all libraries first."""
    policy = a[1].upper() if len(a) > 1 else b"APPEND"
    if len(a) > 2 or policy not in (b"FLUSH", b"APPEND", b"REPLACE"):
        raise CmdError("Wrong restore policy given")
    libs: dict[bytes, bytes] = {}
    for code in function_payload(a[0]):
        name = R._library_name(code)
        if name in libs:
            raise CmdError(f"Library '{name!r}' already exists")
        libs[name] = code
    if policy == b"APPEND" and any(n in r.functions for n in libs):
        raise CmdError("Library already exists")
    if policy == b"FLUSH":
        r.functions.clear()
        r.function_events.clear()
    for name, code in libs.items():
        r.functions[name] = code
        r.function_events.pop(name, None)


# ---------------------------------------------------------------- effects unknown offline


@_cmd("FCALL")
def _fcall(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """A function's effects depend on running its Lua code against the keyspace (and
    on the replies it reads), which replay does not do; servers write the commands it
    ran instead."""
    _unreplayable(r, "FCALL", "script effects cannot be known offline: they depend on "
                  "running the function; servers write the commands it ran instead", off)


_plain_eval = R._eval


def _remember(r: Replayer, script: bytes) -> None:
    r.scripts[hashlib.sha1(script).hexdigest().encode()] = script


@_cmd("EVAL")
def _eval(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """``EVAL`` of plain ``redis.call`` statements (``replay._eval``); any other script
    is counted and skipped with ``skip_unknown``. The script is remembered for
    ``EVALSHA``."""
    _remember(r, a[0])
    try:
        _plain_eval(r, db, a, off)
    except UnsupportedType:
        if not r.skip_unknown:
            raise
        r.skipped["EVAL"] += 1


@_cmd("EVALSHA")
def _evalsha(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """``EVALSHA sha numkeys ...`` of a script this file loaded before (``EVAL`` or
    ``SCRIPT LOAD``: servers before 5.0 wrote ``EVALSHA`` only for those) runs as that
    ``EVAL``; another is not replayable: its effects cannot be known offline."""
    script = r.scripts.get(a[0].lower())
    if script is None:
        _unreplayable(r, "EVALSHA", "script effects cannot be known offline: the script "
                      "was not loaded earlier in this file", off)
        return
    try:
        _plain_eval(r, db, [script, *a[1:]], off)
    except UnsupportedType:
        if not r.skip_unknown:
            raise
        r.skipped["EVALSHA"] += 1


@_cmd("SCRIPT")
def _script(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """``SCRIPT LOAD`` remembers a script, ``SCRIPT FLUSH`` forgets them all."""
    sub = a[0].upper()
    if sub == b"LOAD":
        _remember(r, a[1])
    elif sub == b"FLUSH":
        r.scripts.clear()


@_cmd("SPOP")
def _spop(r: Replayer, db: int, a: list[bytes], off: int) -> None:
    """Random, so replayed only where the result is forced: a missing key, or a count at
    least the set's size (or one member left). Servers write ``SREM``/``UNLINK``."""
    s = R._set_of(r, db, a[0])
    n = parse_int(a[1]) if len(a) > 1 else 1
    if n < 0:
        raise CmdError("value is out of range, must be positive")
    if s is None or n == 0:
        return
    if n >= len(s):
        r.delete(db, a[0])
        return
    _unreplayable(r, "SPOP", "members are picked at random; servers write SREM instead", off)


@_cmd("MIGRATE")
def _migrate(r: Replayer, db: int, a: list[bytes], off: int) -> None:
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


R._HANDLERS[b"RESTORE-ASKING"] = R._HANDLERS[b"RESTORE"]

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
for _name in READ_ONLY:
    R._HANDLERS[_name.encode()] = R._noop
