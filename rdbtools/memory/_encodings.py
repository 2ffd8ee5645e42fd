"""Byte sizes of the compact encodings, rebuilt from element values, and the server's
default encoding thresholds (FORMAT.md §4.A–§4.C, §9.2, §10.3, §10.6).

A loading server keeps listpack, ziplist and intset blobs byte for byte, and the writer
rules of these blobs are deterministic, so the size of a blob follows from its elements:
the estimate needs no copy of the blob.
"""

from __future__ import annotations

import math

from rdbtools.rdb._encoders import canonical_int_py
from rdbtools.rdb._encodings import backlen_size

canonical_int = canonical_int_py
"""``string2ll``: the value of a canonical int64 decimal of 1–20 bytes, else ``None``."""

# §9.2 default thresholds (all versions that have them)
HASH_MAX_ENTRIES = 512
HASH_MAX_VALUE = 64
ZSET_MAX_ENTRIES = 128
ZSET_MAX_VALUE = 64
SET_MAX_INTSET_ENTRIES = 512
SET_MAX_LISTPACK_ENTRIES = 128
SET_MAX_LISTPACK_VALUE = 64
LIST_NODE_MAX_BYTES = 8192  # list-max-listpack-size -2
STREAM_NODE_MAX_BYTES = 4096
STREAM_NODE_MAX_ENTRIES = 100


def sds_header(n: int, *, old: bool = False) -> int:
    """§10.3: sds header bytes for a string of ``n`` bytes (``old``: before 3.2, 8)."""
    if old:
        return 8
    if n == 0:
        return 3
    if n < 32:
        return 1
    if n < 256:
        return 3
    if n < 65536:
        return 5
    if n < 1 << 32:
        return 9
    return 17


def lp_int_size(v: int) -> int:
    """§4.B: encoding+data bytes of an integer listpack entry."""
    if 0 <= v <= 127:
        return 1
    if -4096 <= v <= 4095:
        return 2
    if -32768 <= v <= 32767:
        return 3
    if -8388608 <= v <= 8388607:
        return 4
    if -2147483648 <= v <= 2147483647:
        return 5
    return 9


def lp_entry_size(e: bytes) -> int:
    """§4.B: bytes of one listpack element (encoding, data and backlen). "An element is
    stored as an integer iff it is a canonical int64 decimal string of 1–20 chars"."""
    v = canonical_int(e) if len(e) <= 20 else None
    if v is not None:
        n = lp_int_size(v)
    else:
        ln = len(e)
        n = ln + (1 if ln < 64 else 2 if ln < 4096 else 5)
    return n + backlen_size(n)


def lp_int_entry_size(v: int) -> int:
    """Bytes of a listpack entry holding the integer ``v``."""
    n = lp_int_size(v)
    return n + backlen_size(n)


LP_OVERHEAD = 7
"""Listpack header (6) and end byte (1)."""


def zl_entry_size(e: bytes) -> int:
    """§4.A: bytes of one ziplist entry without its prevlen field. Integers: "try integer
    encoding when the element is 1–31 bytes and a canonical int64 decimal"."""
    v = canonical_int(e) if len(e) <= 20 else None
    if v is not None:
        if 0 <= v <= 12:
            return 1
        if -128 <= v <= 127:
            return 2
        if -32768 <= v <= 32767:
            return 3
        if -8388608 <= v <= 8388607:
            return 4
        if -2147483648 <= v <= 2147483647:
            return 5
        return 9
    ln = len(e)
    return ln + (1 if ln <= 63 else 2 if ln <= 16383 else 5)


ZL_OVERHEAD = 11
"""Ziplist header (10) and end byte (1)."""


def intset_width(v: int) -> int:
    """§4.C: the member width an intset needs for ``v``."""
    if -32768 <= v <= 32767:
        return 2
    if -2147483648 <= v <= 2147483647:
        return 4
    return 8


def score_text(score: float, shortest: bool) -> bytes:
    """The text a listpack/ziplist stores for a sorted-set score: integers as integers,
    else ``%.17g`` (before 7.2) or the shortest round-trip form (7.2+)."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    if math.isnan(score):
        return b"nan"
    if score == int(score) and abs(score) < 1e17:
        return b"%d" % int(score)
    if shortest:
        return repr(score).encode()
    return (b"%.17g" % score)
