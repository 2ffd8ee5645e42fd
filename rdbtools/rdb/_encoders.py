"""Encoders of RDB primitives and compact blobs (FORMAT.md §2, §4.A–§4.C), the inverse of
``_buffer`` and ``_encodings``: lengths, rdb-strings (with the servers' INT and LZF
choices), listpacks, ziplists, intsets, and the score texts servers store in them."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from struct import Struct

from rdbtools import lzf
from rdbtools._accel import speedups

_BE32 = Struct(">I").pack
_BE64 = Struct(">Q").pack
_LE16 = Struct("<H").pack
_LE32 = Struct("<I").pack
_LE16S = Struct("<h").pack
_LE32S = Struct("<i").pack
_LE64S = Struct("<q").pack

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


def enc_len_py(n: int) -> bytes:
    """Length encoding (FORMAT.md §2.1): < 64 one byte; < 16384 two bytes (14 bits BE);
    <= 0xFFFFFFFF 0x80 + 32-bit BE; else 0x81 + 64-bit BE."""
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + _BE32(n)
    return b"\x81" + _BE64(n)


def enc_lens_py(ns: Sequence[int]) -> bytes:
    """The length encodings of ``ns`` (``enc_len``), concatenated."""
    return b"".join([enc_len_py(n) for n in ns])


def canonical_int_py(s: bytes, max_len: int = 20) -> int | None:
    """The integer ``s`` spells if it is canonical decimal (Redis ``string2ll``): optional
    ``-``, digits, no leading zeros (except ``0`` itself), not ``-0``, within int64 and
    at most ``max_len`` bytes; else ``None``."""
    n = len(s)
    if n == 0 or n > max_len:
        return None
    if s == b"0":
        return 0
    first = s[0]
    digits = s[1:] if first == 0x2D else s
    if not digits or not digits.isdigit() or digits[0] == 0x30:
        return None
    v = int(s)
    if v < INT64_MIN or v > INT64_MAX:
        return None
    return v


def enc_string_py(s: bytes, compress: bool = True) -> bytes:
    """An rdb-string as ``rdbSaveRawString`` writes it (FORMAT.md §2.2): a canonical
    integer of <= 11 bytes in int32 range as INT8/16/32; else, with compression on and
    more than 20 bytes, LZF if it fits in ``len - 4`` bytes; else plain."""
    n = len(s)
    if n <= 11:
        v = canonical_int_py(s, 11)
        if v is not None:
            if -128 <= v <= 127:
                return bytes((0xC0, v & 0xFF))
            if -32768 <= v <= 32767:
                return b"\xc1" + _LE16S(v)
            if -(1 << 31) <= v < (1 << 31):
                return b"\xc2" + _LE32S(v)
    if compress and n > 20:
        packed = lzf.compress(s, n - 4)
        if packed is not None:
            return b"\xc3" + enc_len_py(len(packed)) + enc_len_py(n) + packed
    return enc_len_py(n) + s


def enc_strings_py(items: Sequence[bytes], compress: bool = True) -> bytes:
    """The rdb-strings of ``items`` (``enc_string``), concatenated."""
    return b"".join([enc_string_py(s, compress) for s in items])


# --------------------------------------------------------------------------- listpack


def _lp_backlen(n: int) -> bytes:
    """The listpack backlen of an ``n``-byte entry: 7-bit groups, most significant group
    first in memory, every byte but the first with bit 7 set (FORMAT.md §4.B)."""
    if n <= 127:
        return bytes((n,))
    if n < 16383:
        return bytes((n >> 7, (n & 127) | 128))
    if n < 2097151:
        return bytes((n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128))
    if n < 268435455:
        return bytes((n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128,
                      (n & 127) | 128))
    return bytes((n >> 28, ((n >> 21) & 127) | 128, ((n >> 14) & 127) | 128,
                  ((n >> 7) & 127) | 128, (n & 127) | 128))


def lp_entry_py(s: bytes) -> bytes:
    """One listpack entry with its backlen. Canonical integers (<= 20 bytes) take the
    smallest integer form: 7-bit uint, 13-bit, int16, int24, int32, int64; strings the
    6-bit, 12-bit or 32-bit length form."""
    v = canonical_int_py(s) if len(s) <= 20 else None
    if v is not None:
        if 0 <= v <= 127:
            return bytes((v, 1))
        if -4096 <= v <= 4095:
            u = v & 0x1FFF
            return bytes((0xC0 | (u >> 8), u & 0xFF, 2))
        if -32768 <= v <= 32767:
            return b"\xf1" + _LE16S(v) + b"\x03"
        if -(1 << 23) <= v < (1 << 23):
            return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little") + b"\x04"
        if -(1 << 31) <= v < (1 << 31):
            return b"\xf3" + _LE32S(v) + b"\x05"
        return b"\xf4" + _LE64S(v) + b"\x09"
    n = len(s)
    if n < 64:
        return bytes((0x80 | n,)) + s + bytes((n + 1,))
    if n < 4096:
        return bytes((0xE0 | (n >> 8), n & 0xFF)) + s + _lp_backlen(n + 2)
    return b"\xf0" + _LE32(n) + s + _lp_backlen(n + 5)


def lp_int_entry(v: int) -> bytes:
    """A listpack integer entry for ``v`` (stream internals, field expiries)."""
    return lp_entry(b"%d" % v)


def lp_entries_py(items: Sequence[bytes]) -> bytes:
    """The listpack entries of ``items`` (``lp_entry``), concatenated."""
    return b"".join([lp_entry_py(e) for e in items])


def lp_fill_py(items: Sequence[bytes], start: int, count: int, node_size: int, limit: int,
               overhead: int, plain_min: int | None) -> tuple[bytes, int, int]:
    """The listpack entries of ``items[start:]`` that go into the current quicklist node
    (``count`` entries, ``node_size`` bytes), as ``_quicklistNodeAllowInsert`` admits
    elements pushed one by one: the run stops before an element that takes a PLAIN node
    (length >= ``plain_min``) or that a non-empty node cannot take (``node_size + length
    + overhead > limit``). Returns ``(entries, index of the next element, node size)``;
    an empty node starts at 7 bytes (header and end byte)."""
    if not 0 <= start <= len(items):
        raise ValueError("lp_fill: start out of range")
    parts = []
    i = start
    for i in range(start, len(items)):
        item = items[i]
        n = len(item)
        if plain_min is not None and n >= plain_min:
            break
        if count and node_size + n + overhead > limit:
            break
        if not count:
            node_size = 7
        entry = lp_entry_py(item)
        parts.append(entry)
        node_size += len(entry)
        count += 1
    else:
        i = len(items)
    return b"".join(parts), i, node_size


def listpack_py(entries: Sequence[bytes]) -> bytes:
    """A listpack blob: ``<u32 total> <u16 count, 0xFFFF if >= 65535> entries 0xFF``."""
    body = lp_entries_py(entries)
    return listpack_from_encoded(body, len(entries))


def listpack_from_encoded(body: bytes, count: int) -> bytes:
    """Wrap already encoded listpack entries in the header and end byte."""
    return _LE32(len(body) + 7) + _LE16(count if count < 65535 else 65535) + body + b"\xff"


def key_record_py(out: bytearray, expire_ms: int | None, tp: int, key: bytes, compress: bool,
                  head: bytes, body: bytes | bytearray, tail: bytes) -> None:
    """Append one key record to ``out`` (FORMAT.md §3): ``[0xFC <i64 LE expire_ms>]
    <type byte> <rdb-string key> head body tail``."""
    if expire_ms is not None:
        out += b"\xfc" + _LE64S(expire_ms)
    out.append(tp)
    out += enc_string_py(key, compress)
    out += head
    out += body
    out += tail


# --------------------------------------------------------------------------- ziplist


def zl_encoding(s: bytes) -> bytes:
    """Encoding header and data of a ziplist entry (FORMAT.md §4.A): canonical integers
    under 32 bytes as 0..12 immediate, int8, int16, int24, int32 or int64; strings with
    a 6-bit, 14-bit BE or 32-bit BE length."""
    v = canonical_int_py(s, 31)
    if v is not None:
        if 0 <= v <= 12:
            return bytes((0xF1 + v,))
        if -128 <= v <= 127:
            return bytes((0xFE, v & 0xFF))
        if -32768 <= v <= 32767:
            return b"\xc0" + _LE16S(v)
        if -(1 << 23) <= v < (1 << 23):
            return b"\xf0" + (v & 0xFFFFFF).to_bytes(3, "little")
        if -(1 << 31) <= v < (1 << 31):
            return b"\xd0" + _LE32S(v)
        return b"\xe0" + _LE64S(v)
    n = len(s)
    if n < 64:
        return bytes((n,)) + s
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF)) + s
    return b"\x80" + _BE32(n) + s


def ziplist_py(entries: Sequence[bytes]) -> bytes:
    """A ziplist blob: ``<u32 zlbytes> <u32 zltail> <u16 zllen> entries 0xFF``, each entry
    prefixed by the previous entry's size (1 byte if < 254, else 0xFE + u32)."""
    parts = []
    prev = 0
    offset = 10
    tail = 10
    for e in entries:
        enc = zl_encoding(e)
        prevlen = bytes((prev,)) if prev < 254 else b"\xfe" + _LE32(prev)
        entry = prevlen + enc
        parts.append(entry)
        tail = offset
        offset += len(entry)
        prev = len(entry)
    body = b"".join(parts)
    count = len(entries) if len(entries) < 65535 else 65535
    return _LE32(len(body) + 11) + _LE32(tail) + _LE16(count) + body + b"\xff"


# --------------------------------------------------------------------------- intset


def intset(values: list[int]) -> bytes:
    """An intset: ``<u32 width> <u32 count>`` then the values ascending, each ``width``
    bytes LE; the width is the smallest of 2, 4, 8 that holds every value."""
    values = sorted(values)
    lo, hi = values[0], values[-1]
    if -32768 <= lo and hi <= 32767:
        width, fmt = 2, "h"
    elif -(1 << 31) <= lo and hi < (1 << 31):
        width, fmt = 4, "i"
    else:
        width, fmt = 8, "q"
    return _LE32(width) + _LE32(len(values)) + Struct(f"<{len(values)}{fmt}").pack(*values)


# --------------------------------------------------------------------------- scores


def score_pre70(x: float) -> bytes:
    """Score text of Redis <= 6.2 ``d2string``: nan/inf/-inf; ``0``/``-0``; integral values
    within +-2**52 as integers; else ``%.17g``."""
    if math.isnan(x):
        return b"nan"
    if math.isinf(x):
        return b"inf" if x > 0 else b"-inf"
    if x == 0:
        return b"-0" if math.copysign(1.0, x) < 0 else b"0"
    if -4503599627370495 < x < 4503599627370496 and x == int(x):
        return b"%d" % int(x)
    return b"%.17g" % x


def _as_int64(x: float) -> int | None:
    """Redis ``double2ll``: the integer equal to ``x`` if it is integral and within
    +-LLONG_MAX/2; ``-0.0`` gives 0."""
    if math.isfinite(x) and -4611686018427387903 <= x <= 4611686018427387903 and x == int(x):
        return int(x)
    return None


def score_70(x: float) -> bytes:
    """Score text of Redis 7.0: integral values as integers, else ``%.17g``. A negative
    zero (which 7.0 itself would store as ``0``) is kept as ``-0`` so that a converted
    value stays what the source held."""
    if x == 0 and math.copysign(1.0, x) < 0:
        return b"-0"
    if math.isinf(x):
        return b"inf" if x > 0 else b"-inf"
    v = _as_int64(x)
    return b"%d" % v if v is not None else b"%.17g" % x


def score_72(x: float) -> bytes:
    """Score text of Redis 7.2+ and Valkey: integral values as integers, else the shortest
    round-trip digits laid out as ``fpconv_dtoa`` does (plain integer while the exponent
    is small, plain decimal for 1e-7 < |x| with few leading zeros, else ``d.ddde±X``);
    ``-0`` kept as in ``score_70``."""
    if x == 0 and math.copysign(1.0, x) < 0:
        return b"-0"
    if math.isinf(x):
        return b"inf" if x > 0 else b"-inf"
    v = _as_int64(x)
    if v is not None:
        return b"%d" % v
    if math.isnan(x):
        return b"nan"
    return fpconv(x).encode()


def fpconv(x: float) -> str:
    """``fpconv_dtoa`` layout of the shortest round-trip digits of a finite ``x``."""
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    # the shortest round-trip digits are those of repr(): split it into sign,
    # coefficient digits and exponent (what Decimal(repr(x)).as_tuple() would give)
    text = repr(x)
    sign = text[0] == "-"
    mant, _, exp_text = text[sign:].partition("e")
    whole, _, frac = mant.partition(".")
    coeff = (whole + frac).lstrip("0")
    digits = coeff.rstrip("0") or "0"
    k = (int(exp_text) if exp_text else 0) - len(frac) + len(coeff) - len(digits)
    n = len(digits)
    neg = "-" if sign else ""
    e = abs(k + n - 1)
    if k >= 0 and e < n + 7:
        return neg + digits + "0" * k
    if k < 0 and (k > -7 or e < 4):
        offset = n + k
        if offset <= 0:
            return neg + "0." + "0" * (-offset) + digits
        return neg + digits[:offset] + "." + digits[offset:]
    n = min(n, 18 - (1 if sign else 0))
    mant = digits[0] + ("." + digits[1:n] if n > 1 else "")
    return f"{neg}{mant}e{'-' if k + len(digits) - 1 < 0 else '+'}{e}"


# --------------------------------------------------------------------------- C twins

# The C twins (rdbtools._speedups) give the same bytes; tests/test_speedups.py holds
# them to that. Names without ``_py`` are what the writer calls.
enc_len: Callable[[int], bytes] = speedups.enc_len if speedups else enc_len_py
canonical_int: Callable[..., int | None] = (
    speedups.canonical_int if speedups else canonical_int_py)
enc_string: Callable[..., bytes] = speedups.enc_string if speedups else enc_string_py
enc_strings: Callable[..., bytes] = speedups.enc_strings if speedups else enc_strings_py
lp_entry: Callable[[bytes], bytes] = speedups.lp_entry if speedups else lp_entry_py
lp_entries: Callable[[Sequence[bytes]], bytes] = (
    speedups.lp_entries if speedups else lp_entries_py)
listpack: Callable[[Sequence[bytes]], bytes] = speedups.listpack_of if speedups else listpack_py
ziplist: Callable[[Sequence[bytes]], bytes] = speedups.ziplist_of if speedups else ziplist_py
key_record: Callable[..., None] = speedups.key_record if speedups else key_record_py
enc_lens: Callable[[Sequence[int]], bytes] = speedups.enc_lens if speedups else enc_lens_py
lp_fill: Callable[..., tuple[bytes, int, int]] = speedups.lp_fill if speedups else lp_fill_py
