"""Helpers of ``rdbtools.replay``: argument parsing as the server does it, Redis number
formatting (``INCRBYFLOAT``'s long-double arithmetic), and the HyperLogLog hash."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction


class CmdError(Exception):
    """A command the server would have answered with an error (a no-op on load)."""


_INT_RE = re.compile(rb"-?(0|[1-9][0-9]*)\Z")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""The range of a C ``int`` (``getIntFromObjectOrReply``: database numbers)."""


def parse_int(b: bytes, what: str = "value") -> int:
    """``string2ll``: plain decimal, no spaces, no ``+``, no leading zeros, in int64."""
    if len(b) > 20 or not _INT_RE.match(b) or b == b"-0":
        raise CmdError(f"{what} is not an integer or out of range")
    n = int(b)
    if not INT64_MIN <= n <= INT64_MAX:
        raise CmdError(f"{what} is not an integer or out of range")
    return n


def parse_int32(b: bytes, what: str = "value") -> int:
    """``getIntFromObjectOrReply``: ``string2ll``, then within a C ``int``."""
    n = parse_int(b, what)
    if not INT_MIN <= n <= INT_MAX:
        raise CmdError(f"{what} is not an integer or out of range")
    return n


def parse_count(a: list[bytes]) -> int:
    """The optional ``count`` of ``LPOP``/``RPOP``/``SPOP``/``ZPOPMIN``/``ZPOPMAX``
    (``a[1]``, default 1): ``getPositiveLongFromObjectOrReply``, else "value is out of
    range, must be positive"."""
    n = parse_int(a[1]) if len(a) > 1 else 1
    if n < 0:
        raise CmdError("value is out of range, must be positive")
    return n


def set_expire_ms(unit: bytes, arg: bytes, now: int) -> int:
    """The absolute expiry (unix ms) of ``SET``/``SETEX``/``PSETEX``/``GETEX``'s ``unit``
    (``EX``, ``PX``, ``EXAT``, ``PXAT``) ``arg``, as ``getExpireMillisecondsOrReply``
    (t_string.c): the number must be > 0, seconds must not overflow when made
    milliseconds, and ``EX``/``PX`` added to ``now`` must stay within int64; else the
    server answers "invalid expire time"."""
    n = parse_int(arg)
    seconds = unit in (b"EX", b"EXAT")
    if n <= 0 or (seconds and n > INT64_MAX // 1000):
        raise CmdError("invalid expire time")
    if seconds:
        n *= 1000
    if unit in (b"EX", b"PX"):
        n += now
    if n > INT64_MAX:  # the C sum wraps negative: "Overflow detected"
        raise CmdError("invalid expire time")
    return n


HFE_MAX_MS = (2**48 - 1) >> 2
"""The latest hash field expiry (unix ms) Redis 7.4+ takes (``HFE_MAX_ABS_TIME_MSEC``)."""


def expire_at_ms(unit: bytes, arg: bytes, now: int, *, latest: int = INT64_MAX,
                 negative: bool = True) -> int:
    """The absolute expiry (unix ms) of ``EXPIRE``/``PEXPIRE``/``EXPIREAT``/``PEXPIREAT``
    (``unit`` ``EX``, ``PX``, ``EXAT``, ``PXAT``), as ``expireGenericCommand`` (expire.c):
    negative numbers are allowed, but seconds beyond ±LLONG_MAX/1000 and a sum with the
    base time beyond LLONG_MAX are "invalid expire time". Hash field expiries
    (``hexpireGenericCommand``, t_hash.c 7.4) pass ``latest=HFE_MAX_MS`` and
    ``negative=False``."""
    n = parse_int(arg)
    if not negative and n < 0:
        raise CmdError("invalid expire time, must be >= 0")
    if unit in (b"EX", b"EXAT"):
        if not -(INT64_MAX // 1000) <= n <= latest // 1000:
            raise CmdError("invalid expire time")
        n *= 1000
    base = now if unit in (b"EX", b"PX") else 0
    if n > latest - base:
        raise CmdError("invalid expire time")
    return n + base


_INF_WORDS = frozenset({"inf", "infinity"})
_HEX = re.compile(r"[+-]?0[xX]")


def _strtod_text(b: bytes) -> str:
    """The text of a float argument, or "not a valid float" for what ``strtod`` cannot
    take whole: empty, leading or trailing space, and ``_`` (Python's digit separator)."""
    s = b.decode("latin-1")
    if not s or s[0].isspace() or s[-1].isspace() or "_" in s or len(s) > 5000:
        raise CmdError("value is not a valid float")
    return s


def parse_float(b: bytes) -> float:
    """``strtod`` as ``getDoubleFromObject`` uses it: decimal or hexadecimal (``0x10``,
    ``0x1.8p3``), ``inf`` / ``infinity`` allowed; NaN, and a number that overflows to
    infinity or underflows to zero (``ERANGE``), are not."""
    s = _strtod_text(b)
    try:
        v = float.fromhex(s) if _HEX.match(s) else float(s)
    except (ValueError, OverflowError):
        raise CmdError("value is not a valid float") from None
    if math.isnan(v):
        raise CmdError("value is not a valid float")
    if math.isinf(v) and s.lstrip("+-").lower() not in _INF_WORDS:
        raise CmdError("value is not a valid float")  # ERANGE, HUGE_VAL
    if v == 0 and any(c in "123456789" for c in s.lower().split("e")[0].split("p")[0]
                      .removeprefix("-").removeprefix("+").removeprefix("0x")):
        raise CmdError("value is not a valid float")  # ERANGE, rounded to zero
    return v


def parse_score_bound(b: bytes) -> tuple[float, bool]:
    """A ZRANGEBYSCORE bound: ``(value, exclusive)``. ``zslParseRange`` calls ``strtod``
    itself and checks only that it took the whole text and that it is not NaN: leading
    white space is skipped, an empty text is 0, and overflow / underflow give ±inf / 0."""
    exclusive = b.startswith(b"(")
    s = b[1:] if exclusive else b
    s = s.lstrip(b" \t\n\v\f\r")
    if not s:
        return 0.0, exclusive
    text = s.decode("latin-1")
    if text[-1].isspace() or "_" in text or len(text) > 5000:
        raise CmdError("min or max is not a float")
    try:
        if _HEX.match(text):
            try:
                v = float.fromhex(text)
            except OverflowError:
                v = -math.inf if text.startswith("-") else math.inf
        else:
            v = float(text)
    except ValueError:
        raise CmdError("min or max is not a float") from None
    if math.isnan(v):
        raise CmdError("min or max is not a float")
    return v, exclusive


def fmt_int(n: int) -> bytes:
    return str(n).encode()


# --------------------------------------------------------------------------- long double


def _round_ld(x: Fraction) -> Fraction:
    """Round to the x87 80-bit long double: a 64-bit mantissa, round half to even."""
    if x == 0:
        return x
    sign = -1 if x < 0 else 1
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    scale = Fraction(2) ** (63 - e)
    m = a * scale
    q, r = divmod(m.numerator, m.denominator)
    twice = 2 * r
    if twice > m.denominator or (twice == m.denominator and q & 1):
        q += 1
    return sign * (q / scale)


LD_MAX_EXP = 16384
"""An x87 long double is finite below 2**16384 and nonzero from 2**-16445 on."""


def parse_long_double(b: bytes) -> Fraction:
    """``strtold`` of a value as ``string2ld`` takes it: no spaces, not NaN, and not a
    number that overflows (``HUGE_VAL``) or underflows to zero (``ERANGE``); decimal or
    hexadecimal. ``inf`` itself is taken by the server, whose sum is then refused: it is
    refused here at once."""
    s = _strtod_text(b)
    try:
        if _HEX.match(s):
            exact = Fraction(float.fromhex(s))
        else:
            exact = Fraction(s)
    except (ValueError, OverflowError, ZeroDivisionError):
        raise CmdError("value is not a valid float") from None
    if abs(exact) >= Fraction(2) ** LD_MAX_EXP:
        raise CmdError("value is not a valid float")
    if exact and abs(exact) < Fraction(1, 2 ** (LD_MAX_EXP + 62)):
        raise CmdError("value is not a valid float")
    return _round_ld(exact)


def incr_long_double(current: bytes, incr: bytes) -> bytes:
    """``INCRBYFLOAT`` / ``HINCRBYFLOAT``: long-double sum printed ``%.17Lf`` with the
    trailing zeros (and a bare ``.``) removed, ``-0`` as ``0``."""
    a = parse_long_double(current)
    b = parse_long_double(incr)
    total = _round_ld(a + b)
    if abs(total) >= Fraction(2) ** 16384:
        raise CmdError("increment would produce NaN or Infinity")
    return format_ld_human(total)


def format_ld_human(v: Fraction) -> bytes:
    with localcontext() as ctx:
        ctx.prec = 6000
        d = Decimal(v.numerator) / Decimal(v.denominator)
        q = d.quantize(Decimal(1).scaleb(-17), rounding=ROUND_HALF_EVEN)
    s = f"{q:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s == "-0":
        s = "0"
    return s.encode()


# --------------------------------------------------------------------------- HyperLogLog

_M64 = (1 << 64) - 1


def murmurhash64a(data: bytes, seed: int = 0xADC83B19) -> int:
    m = 0xC6A4A7935BD1E995
    r = 47
    n = len(data)
    h = (seed ^ (n * m)) & _M64
    end = n - (n & 7)
    for i in range(0, end, 8):
        k = int.from_bytes(data[i : i + 8], "little")
        k = (k * m) & _M64
        k ^= k >> r
        k = (k * m) & _M64
        h ^= k
        h = (h * m) & _M64
    rest = data[end:]
    if rest:
        for i in range(len(rest) - 1, -1, -1):
            h ^= rest[i] << (8 * i)
        h = (h * m) & _M64
    h ^= h >> r
    h = (h * m) & _M64
    h ^= h >> r
    return h


# --------------------------------------------------------------------------- sorting

Cmp = Callable[[int, int], int]


def pqsort(n: int, cmp: Cmp, lrange: int, rrange: int) -> list[int]:
    """The order of ``range(n)`` after the server's ``pqsort`` (NetBSD's Bentley-McIlroy
    quicksort, which skips the partitions outside ``[lrange, rrange]``): used where the
    server sorts a partial range, so that equal elements end where the server puts them.
    Only positions ``lrange..rrange`` of the result are sorted."""
    v = list(range(n))

    def swap(i: int, j: int) -> None:
        v[i], v[j] = v[j], v[i]

    def c(i: int, j: int) -> int:
        return cmp(v[i], v[j])

    def med3(a: int, b: int, d: int) -> int:
        if c(a, b) < 0:
            return b if c(b, d) < 0 else (d if c(a, d) < 0 else a)
        return b if c(b, d) > 0 else (a if c(a, d) < 0 else d)

    def outside(lo: int, cnt: int) -> bool:
        return (lrange < lo and rrange < lo) or (lrange >= lo + cnt and rrange >= lo + cnt)

    stack = [(0, n)]
    while stack:
        a, cnt = stack.pop()
        while True:
            if cnt < 7:
                for pm in range(a + 1, a + cnt):
                    pl = pm
                    while pl > a and c(pl - 1, pl) > 0:
                        swap(pl, pl - 1)
                        pl -= 1
                break
            pm = a + cnt // 2
            if cnt > 7:
                pl, pn = a, a + cnt - 1
                if cnt > 40:
                    d = cnt // 8
                    pl = med3(pl, pl + d, pl + 2 * d)
                    pm = med3(pm - d, pm, pm + d)
                    pn = med3(pn - 2 * d, pn - d, pn)
                pm = med3(pl, pm, pn)
            swap(a, pm)
            pa = pb = a + 1
            pc = pd = a + cnt - 1
            while True:
                while pb <= pc:
                    r = c(pb, a)
                    if r > 0:
                        break
                    if r == 0:
                        swap(pa, pb)
                        pa += 1
                    pb += 1
                while pb <= pc:
                    r = c(pc, a)
                    if r < 0:
                        break
                    if r == 0:
                        swap(pc, pd)
                        pd -= 1
                    pc -= 1
                if pb > pc:
                    break
                swap(pb, pc)
                pb += 1
                pc -= 1
            pn = a + cnt
            s = min(pa - a, pb - pa)
            for k in range(s):
                swap(a + k, pb - s + k)
            s = min(pd - pc, pn - pd - 1)
            for k in range(s):
                swap(pb + k, pn - s + k)
            left = pb - pa
            right = pd - pc
            # the left part is sorted first (recursion), then the right part (the loop)
            if right > 1 and not outside(pn - right, right):
                stack.append((pn - right, right))
            if left > 1 and not outside(a, left):
                a, cnt = a, left
                continue
            break
    return v


def _numkeys(a: list[bytes], i: int) -> tuple[list[bytes], int]:
    """``numkeys key...`` at ``a[i]``: the keys and the index after them."""
    n = parse_int(a[i])
    if n <= 0:
        raise CmdError("numkeys should be greater than 0")
    keys = a[i + 1 : i + 1 + n]
    if len(keys) != n:
        raise CmdError("syntax error")
    return keys, i + 1 + n


def _count_option(a: list[bytes], i: int) -> int:
    """An optional trailing ``COUNT n`` at ``a[i]`` (1 when absent)."""
    if i == len(a):
        return 1
    if len(a) != i + 2 or a[i].upper() != b"COUNT":
        raise CmdError("syntax error")
    n = parse_int(a[i + 1])
    if n <= 0:
        raise CmdError("count should be greater than 0")
    return n


def mpop_args(a: list[bytes], blocking: bool, sides: tuple[bytes, bytes]
              ) -> tuple[list[bytes], bytes, int]:
    """``[timeout] numkeys key... SIDE [COUNT n]`` of ``[B]LMPOP`` / ``[B]ZMPOP``, checked
    in the server's order: the keys, the side given (one of ``sides``, upper case) and
    the count (1 when absent)."""
    if blocking:
        parse_float(a[0])
    keys, i = _numkeys(a, 1 if blocking else 0)
    where = a[i].upper()
    if where not in sides:
        raise CmdError("syntax error")
    return keys, where, _count_option(a, i + 1)
