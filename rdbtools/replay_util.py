"""Helpers of ``rdbtools.replay``: argument parsing as the server does it, Redis number
formatting (``INCRBYFLOAT``'s long-double arithmetic), and HyperLogLog ``PFADD``."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction


class CmdError(Exception):
    """A command the server would have answered with an error (a no-op on load)."""


_INT_RE = re.compile(rb"-?(0|[1-9][0-9]*)\Z")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def parse_int(b: bytes, what: str = "value") -> int:
    """``string2ll``: plain decimal, no spaces, no ``+``, no leading zeros, in int64."""
    if not _INT_RE.match(b) or b == b"-0":
        raise CmdError(f"{what} is not an integer or out of range")
    n = int(b)
    if not INT64_MIN <= n <= INT64_MAX:
        raise CmdError(f"{what} is not an integer or out of range")
    return n


def parse_float(b: bytes) -> float:
    """``strtod`` as ``getDoubleFromObject`` uses it (``inf`` allowed, ``nan`` not)."""
    s = b.decode("latin-1")
    if not s or s[0].isspace() or s[-1].isspace() or "_" in s:
        raise CmdError("value is not a valid float")
    try:
        v = float(s)
    except ValueError:
        raise CmdError("value is not a valid float") from None
    if math.isnan(v):
        raise CmdError("value is not a valid float")
    return v


def parse_score_bound(b: bytes) -> tuple[float, bool]:
    """A ZRANGEBYSCORE bound: ``(value, exclusive)``."""
    if b.startswith(b"("):
        return parse_float(b[1:]), True
    return parse_float(b), False


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


def parse_long_double(b: bytes) -> Fraction:
    """``strtold`` of a value (``string2ld``: no spaces, finite)."""
    s = b.decode("latin-1")
    if not s or s[0].isspace() or s[-1].isspace() or len(s) > 5000 or "_" in s:
        raise CmdError("value is not a valid float")
    try:
        f = float(s)
    except ValueError:
        raise CmdError("value is not a valid float") from None
    if math.isnan(f) or math.isinf(f):
        raise CmdError("value is not a valid float")
    try:
        exact = Fraction(s.strip())
    except ValueError:
        exact = Fraction(f)
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

HLL_P = 14
HLL_REGISTERS = 1 << HLL_P
HLL_SPARSE_MAX_BYTES = 3000  # hll-sparse-max-bytes default
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


def hll_pat_len(element: bytes) -> tuple[int, int]:
    """(register index, run length) of an element, as ``hllPatLen``."""
    h = murmurhash64a(element)
    index = h & (HLL_REGISTERS - 1)
    h >>= HLL_P
    h |= 1 << (64 - HLL_P)
    count = 1
    bit = 1
    while not h & bit:
        count += 1
        bit <<= 1
    return index, count


def is_hll(value: bytes) -> bool:
    return len(value) >= 16 and value[:4] == b"HYLL" and value[4] in (0, 1)


def hll_registers(value: bytes) -> list[int]:
    """The 16384 registers of a sparse or dense HLL string."""
    regs = [0] * HLL_REGISTERS
    body = value[16:]
    if value[4] == 0:  # dense
        if len(body) < HLL_REGISTERS * 6 // 8:
            raise CmdError("WRONGTYPE Key is not a valid HyperLogLog string value.")
        for i in range(HLL_REGISTERS):
            byte = i * 6 // 8
            fb = (i * 6) & 7
            b0 = body[byte]
            b1 = body[byte + 1] if byte + 1 < len(body) else 0
            regs[i] = ((b0 >> fb) | (b1 << (8 - fb))) & 63
        return regs
    idx = 0
    p = 0
    while p < len(body):
        op = body[p]
        if op & 0xC0 == 0:  # ZERO
            idx += (op & 0x3F) + 1
            p += 1
        elif op & 0xC0 == 0x40:  # XZERO
            idx += (((op & 0x3F) << 8) | body[p + 1]) + 1
            p += 2
        else:
            val = ((op >> 2) & 0x1F) + 1
            run = (op & 3) + 1
            for _ in range(run):
                if idx < HLL_REGISTERS:
                    regs[idx] = val
                idx += 1
            p += 1
    if idx != HLL_REGISTERS:
        raise CmdError("WRONGTYPE Key is not a valid HyperLogLog string value.")
    return regs


def _sparse(regs: list[int]) -> bytes | None:
    out = bytearray()
    i = 0
    n = len(regs)
    while i < n:
        v = regs[i]
        j = i
        while j < n and regs[j] == v:
            j += 1
        run = j - i
        if v == 0:
            while run > 0:
                if run > 64:
                    k = min(run, 16384)
                    out += bytes([0x40 | ((k - 1) >> 8), (k - 1) & 0xFF])
                else:
                    k = run
                    out.append(k - 1)
                run -= k
        else:
            if v > 32:
                return None
            while run > 0:
                k = min(run, 4)
                out.append(0x80 | ((v - 1) << 2) | (k - 1))
                run -= k
        i = j
    return bytes(out)


def _dense(regs: list[int]) -> bytes:
    out = bytearray(HLL_REGISTERS * 6 // 8 + 1)
    for i, v in enumerate(regs):
        byte = i * 6 // 8
        fb = (i * 6) & 7
        out[byte] |= (v << fb) & 0xFF
        out[byte + 1] |= v >> (8 - fb)
    return bytes(out[: HLL_REGISTERS * 6 // 8])


def hll_add(value: bytes | None, elements: list[bytes]) -> tuple[bytes, bool]:
    """``PFADD``: the new string and whether a register changed. A sparse HLL stays
    sparse while every register is at most 32 and it fits ``hll-sparse-max-bytes``."""
    if value is None:
        header = bytearray(b"HYLL\x01\x00\x00\x00" + b"\x00" * 8)
        regs = [0] * HLL_REGISTERS
        changed = True  # a new key is always written
    else:
        if not is_hll(value):
            raise CmdError("WRONGTYPE Key is not a valid HyperLogLog string value.")
        header = bytearray(value[:16])
        regs = hll_registers(value)
        changed = False
    updated = False
    for e in elements:
        i, c = hll_pat_len(e)
        if c > regs[i]:
            regs[i] = c
            updated = True
    if not updated and not changed:
        return value or b"", False
    if updated:
        header[15] |= 0x80  # HLL_INVALIDATE_CACHE
    body: bytes | None = None
    if header[4] == 1:
        body = _sparse(regs)
        if body is None or len(body) + 16 > HLL_SPARSE_MAX_BYTES:
            header[4] = 0
            body = None
    if body is None:
        body = _dense(regs)
    return bytes(header) + body, True
