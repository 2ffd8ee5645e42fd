"""Decoders of the compact blobs stored inside rdb-strings: listpack, ziplist, intset and
zipmap (FORMAT.md §4.A–§4.D). Pure functions from ``bytes`` to a list of elements.

Integer entries stand for their decimal text (``-5`` is ``b"-5"``); pass ``ints=True``
to get them as ``int`` instead (stream node internals are numbers). Any structural
problem raises ``CorruptInput`` with the position inside the blob in the message; the
caller attaches the blob's file offset and the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from struct import Struct
from struct import error as StructError
from typing import ParamSpec, Protocol, TypeVar

from rdbtools._accel import speedups
from rdbtools.errors import CorruptInput

_LP_HEADER = Struct("<IH").unpack_from
_ZL_HEADER = Struct("<IIH").unpack_from
_IS_HEADER = Struct("<II").unpack_from
_LE16S = Struct("<h").unpack_from
_LE32 = Struct("<I").unpack_from
_LE32S = Struct("<i").unpack_from
_LE64S = Struct("<q").unpack_from
_BE32 = Struct(">I").unpack_from

_UINT7_TEXT = [b"%d" % i for i in range(128)]
_INT13 = [u - 8192 if u >= 4096 else u for u in range(8192)]
_INT13_TEXT = [b"%d" % v for v in _INT13]

Element = bytes | int

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _corrupt_input(decode: Callable[_P, _R]) -> Callable[_P, _R]:
    """The C decoder ``decode`` raising ``CorruptInput`` where it raises ``ValueError``
    (the C module knows no rdbtools error)."""
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return decode(*args, **kwargs)
        except ValueError as exc:
            raise CorruptInput(str(exc)) from None
    return checked


class _ListpackDecoder(Protocol):
    def __call__(self, blob: bytes, ints: bool = False) -> list[Element]: ...


def _corrupt_listpack(decode: Callable[[bytes, bool], list[Element]]) -> _ListpackDecoder:
    """As ``_corrupt_input``, with the signature of ``listpack_py`` (``ints`` may be
    named; the C function takes positions only)."""
    def listpack(blob: bytes, ints: bool = False) -> list[Element]:
        try:
            return decode(blob, ints)
        except ValueError as exc:
            raise CorruptInput(str(exc)) from None
    return listpack


def backlen_size(n: int) -> int:
    """Bytes taken by a listpack backlen for an entry of ``n`` bytes (FORMAT.md §4.B:
    1 if n <= 127, 2 if n < 16383, 3 if n < 2097151, 4 if n < 268435455, else 5)."""
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def _lp_walk(blob: bytes, ints: bool, p: int, end: int, limit: int,
             out: list[Element] | None) -> tuple[int, int]:
    """Walk up to ``limit`` listpack entries from byte ``p`` (an entry start) to the end
    byte at ``end``, appending them to ``out`` (``None``: only count). Returns (entries
    walked, where the next one starts)."""
    app = out.append if out is not None else _discard
    found = 0
    while p < end and found < limit:
        b = blob[p]
        if b < 0x80:  # 7-bit unsigned int
            app(b if ints else _UINT7_TEXT[b])
            p += 2
        elif b < 0xC0:  # 6-bit length string
            q = p + 1 + (b & 0x3F)
            if q > end:
                raise CorruptInput(f"listpack string at +{p} overruns")
            app(blob[p + 1 : q])
            p = q + 1
        elif b < 0xE0:  # 13-bit signed int
            u = ((b & 0x1F) << 8) | blob[p + 1]
            app(_INT13[u] if ints else _INT13_TEXT[u])
            p += 3
        elif b < 0xF0:  # 12-bit length string
            ln = ((b & 0x0F) << 8) | blob[p + 1]
            q = p + 2 + ln
            if q > end:
                raise CorruptInput(f"listpack string at +{p} overruns")
            app(blob[p + 2 : q])
            p = q + (1 if ln <= 125 else 2)
        elif b == 0xF0:  # 32-bit length string
            ln = _LE32(blob, p + 1)[0]
            q = p + 5 + ln
            if q > end:
                raise CorruptInput(f"listpack string of {ln} bytes at +{p} overruns")
            app(blob[p + 5 : q])
            p = q + backlen_size(ln + 5)
        else:
            if b == 0xF1:
                v = _LE16S(blob, p + 1)[0]
                p += 4
            elif b == 0xF2:
                v = int.from_bytes(blob[p + 1 : p + 4], "little", signed=True)
                p += 5
            elif b == 0xF3:
                v = _LE32S(blob, p + 1)[0]
                p += 6
            elif b == 0xF4:
                v = _LE64S(blob, p + 1)[0]
                p += 10
            else:
                raise CorruptInput(f"bad listpack entry encoding {b:#04x} at +{p}")
            if p > end + 1:
                raise CorruptInput("listpack entry runs past the end of the blob")
            app(v if ints else b"%d" % v)
        found += 1
    return found, p


def _discard(_: object) -> None:
    pass


def _lp_all(blob: bytes, ints: bool, out: list[Element] | None) -> int:
    n = len(blob)
    try:
        if n < 7:
            raise CorruptInput(f"listpack of {n} bytes is shorter than its header")
        total, count = _LP_HEADER(blob, 0)
        if total != n:
            raise CorruptInput(f"listpack header says {total} bytes, blob holds {n}")
        if blob[-1] != 0xFF:
            raise CorruptInput(f"listpack does not end with 0xff (last byte {blob[-1]:#04x})")
        found, p = _lp_walk(blob, ints, 6, n - 1, n, out)
        if p != n - 1:
            raise CorruptInput(f"listpack entries overrun its end (+{p} vs +{n - 1})")
        if count != 0xFFFF and count != found:
            raise CorruptInput(f"listpack header counts {count} entries, found {found}")
        return found
    except (IndexError, StructError):
        raise CorruptInput("listpack entry runs past the end of the blob") from None


def listpack_py(blob: bytes, ints: bool = False) -> list[Element]:
    """Decode a listpack: ``<u32 total_bytes> <u16 count> <entry>* <0xFF>``; each entry is
    ``<encoding+data> <backlen>`` (FORMAT.md §4.B). ``count`` 0xFFFF means unknown."""
    out: list[Element] = []
    _lp_all(blob, ints, out)
    return out


RUN = 1024
"""Most elements ``listpack_runs`` / ``ziplist_runs`` give at once."""
WHOLE = 1 << 16
"""A blob of at most this many bytes (32 768 elements at most) is decoded in one call,
then cut into runs: the usual blob costs one pass."""


def _cut(items: list[Element], run: int) -> tuple[int, Iterator[list[Element]]]:
    if len(items) <= run:
        return len(items), iter([items] if items else [])
    return len(items), (items[i : i + run] for i in range(0, len(items), run))


def listpack_runs(blob: bytes, ints: bool = False,
                  run: int = RUN) -> tuple[int, Iterator[list[Element]]]:
    """Check all of a listpack and count its entries without creating them, then give
    them in lists of at most ``run``: a blob of millions of tiny entries never exists as
    millions of objects at once."""
    if len(blob) <= WHOLE:
        return _cut(listpack(blob, ints), run)
    count = _lp_count(blob)
    return count, _lp_runs(blob, ints, count, run, _lp_slice)


def _lp_count_py(blob: bytes) -> int:
    return _lp_all(blob, False, None)


def _lp_slice_py(blob: bytes, ints: bool, p: int, run: int) -> tuple[list[Element], int]:
    out: list[Element] = []
    _, p = _lp_walk(blob, ints, p, len(blob) - 1, run, out)
    return out, p


def _lp_runs(blob: bytes, ints: bool, count: int, run: int, slice_: Callable[
             [bytes, bool, int, int], tuple[list[Element], int]]) -> Iterator[list[Element]]:
    p = 6
    while count > 0:
        out, p = slice_(blob, ints, p, run)
        if not out:
            return
        count -= len(out)
        yield out


def _zl_walk(blob: bytes, p: int, end: int, prev: int, limit: int,
             out: list[bytes] | None) -> tuple[int, int, int, int]:
    """Walk up to ``limit`` ziplist entries from byte ``p`` (an entry start; ``prev`` the
    size of the entry before it) to the end byte at ``end``, appending them to ``out``
    (``None``: only count). Returns (entries walked, next entry start, size of the last
    entry walked, start of the last entry walked or -1)."""
    app = out.append if out is not None else _discard
    found = 0
    last = -1
    while p < end and found < limit:
        start = p
        b = blob[p]
        if b < 0xFE:
            prevlen = b
            p += 1
        elif b == 0xFE:
            prevlen = _LE32(blob, p + 1)[0]
            p += 5
        else:
            raise CorruptInput(f"ziplist entry at +{p} starts with 0xff")
        if prevlen != prev:
            raise CorruptInput(f"ziplist entry at +{p} has prevlen {prevlen}, not {prev}")
        e = blob[p]
        t = e >> 6
        if t == 0:
            q = p + 1 + (e & 0x3F)
            app(blob[p + 1 : q])
            p = q
        elif t == 1:
            q = p + 2 + (((e & 0x3F) << 8) | blob[p + 1])
            app(blob[p + 2 : q])
            p = q
        elif e == 0x80:
            q = p + 5 + _BE32(blob, p + 1)[0]
            app(blob[p + 5 : q])
            p = q
        elif e == 0xC0:
            app(b"%d" % _LE16S(blob, p + 1)[0])
            p += 3
        elif e == 0xD0:
            app(b"%d" % _LE32S(blob, p + 1)[0])
            p += 5
        elif e == 0xE0:
            app(b"%d" % _LE64S(blob, p + 1)[0])
            p += 9
        elif e == 0xF0:
            app(b"%d" % int.from_bytes(blob[p + 1 : p + 4], "little", signed=True))
            p += 4
        elif e == 0xFE:
            app(_UINT7_TEXT[blob[p + 1]] if blob[p + 1] < 128 else b"%d" % (blob[p + 1] - 256))
            p += 2
        elif 0xF1 <= e <= 0xFD:
            app(_UINT7_TEXT[(e & 0x0F) - 1])
            p += 1
        else:
            raise CorruptInput(f"bad ziplist entry encoding {e:#04x} at +{p}")
        if p > end:
            raise CorruptInput("ziplist entry runs past the end of the blob")
        prev = p - start
        last = start
        found += 1
    return found, p, prev, last


def _zl_all(blob: bytes, out: list[bytes] | None) -> int:
    n = len(blob)
    try:
        if n < 11:
            raise CorruptInput(f"ziplist of {n} bytes is shorter than its header")
        zlbytes, zltail, zllen = _ZL_HEADER(blob, 0)
        if zlbytes != n:
            raise CorruptInput(f"ziplist header says {zlbytes} bytes, blob holds {n}")
        if blob[-1] != 0xFF:
            raise CorruptInput(f"ziplist does not end with 0xff (last byte {blob[-1]:#04x})")
        end = n - 1
        found, p, _, last = _zl_walk(blob, 10, end, 0, n, out)
        if p != end:
            raise CorruptInput(f"ziplist entries overrun its end (+{p} vs +{end})")
        if last < 0:
            last = 10
        if zltail != last:
            raise CorruptInput(f"ziplist tail offset {zltail} does not point at the last "
                               f"entry (+{last})")
        if zllen != 0xFFFF and zllen != found:
            raise CorruptInput(f"ziplist header counts {zllen} entries, found {found}")
        return found
    except (IndexError, StructError):
        raise CorruptInput("ziplist entry runs past the end of the blob") from None


def ziplist_py(blob: bytes) -> list[bytes]:
    """Decode a ziplist: ``<u32 zlbytes> <u32 zltail> <u16 zllen> <entry>* <0xFF>``; each
    entry is ``<prevlen: 1 byte, or 0xFE + u32> <encoding> [data]`` (FORMAT.md §4.A)."""
    out: list[bytes] = []
    _zl_all(blob, out)
    return out


def ziplist_runs(blob: bytes, run: int = RUN) -> tuple[int, Iterator[list[bytes]]]:
    """As ``listpack_runs``, for a ziplist."""
    if len(blob) <= WHOLE:
        return _cut(ziplist(blob), run)  # type: ignore[arg-type,return-value]
    count = _zl_count(blob)
    return count, _zl_runs(blob, run, _zl_slice)


def _zl_count_py(blob: bytes) -> int:
    return _zl_all(blob, None)


def _zl_slice_py(blob: bytes, p: int, prev: int, run: int) -> tuple[list[bytes], int, int]:
    out: list[bytes] = []
    _, p, prev, _ = _zl_walk(blob, p, len(blob) - 1, prev, run, out)
    return out, p, prev


def _zl_runs(blob: bytes, run: int, slice_: Callable[[bytes, int, int, int],
             tuple[list[bytes], int, int]]) -> Iterator[list[bytes]]:
    p, prev, end = 10, 0, len(blob) - 1
    while p < end:
        out, p, prev = slice_(blob, p, prev, run)
        if not out:
            return
        yield out


_INTSET_FORMAT = {2: "h", 4: "i", 8: "q"}


# --------------------------------------------------------------------------- C twins

# The C decoders (rdbtools/_speedups/rdb_decode.c) give the same elements and refuse the
# same blobs with the same messages; tests/test_speedups.py holds them to that.
listpack: _ListpackDecoder = _corrupt_listpack(speedups.listpack) if speedups else listpack_py
"""Decode a listpack (``listpack_py``)."""
ziplist: Callable[[bytes], list[bytes]] = (
    _corrupt_input(speedups.ziplist) if speedups else ziplist_py)
"""Decode a ziplist (``ziplist_py``)."""
_lp_count: Callable[[bytes], int] = (
    _corrupt_input(speedups.listpack_count) if speedups else _lp_count_py)
_lp_slice: Callable[[bytes, bool, int, int], tuple[list[Element], int]] = (
    speedups.listpack_slice if speedups else _lp_slice_py)
_zl_count: Callable[[bytes], int] = (
    _corrupt_input(speedups.ziplist_count) if speedups else _zl_count_py)
_zl_slice: Callable[[bytes, int, int, int], tuple[list[bytes], int, int]] = (
    speedups.ziplist_slice if speedups else _zl_slice_py)


def intset(blob: bytes) -> list[bytes]:
    """Decode an intset: ``<u32 width 2|4|8> <u32 count> <count LE signed ints>``
    (FORMAT.md §4.C); the blob is exactly ``8 + count * width`` bytes, count >= 1."""
    count, runs = intset_runs(blob, max(1, len(blob)))
    return next(runs)


def intset_runs(blob: bytes, run: int = RUN) -> tuple[int, Iterator[list[bytes]]]:
    """As ``listpack_runs``, for an intset (see ``intset``)."""
    if len(blob) < 8:
        raise CorruptInput(f"intset of {len(blob)} bytes is shorter than its header")
    width, count = _IS_HEADER(blob, 0)
    fmt = _INTSET_FORMAT.get(width)
    if fmt is None:
        raise CorruptInput(f"intset with element width {width}")
    if 8 + count * width != len(blob):
        raise CorruptInput(f"intset of {count} x {width} bytes in a {len(blob)}-byte blob")
    if count == 0:
        raise CorruptInput("empty intset")

    def runs() -> Iterator[list[bytes]]:
        for i in range(0, count, run):
            n = min(run, count - i)
            yield [b"%d" % v for v in Struct(f"<{n}{fmt}").unpack_from(blob, 8 + i * width)]

    return count, runs()


def _zm_walk(blob: bytes, p: int, limit: int, out: list[bytes] | None) -> tuple[int, int]:
    """Walk up to ``limit`` zipmap pairs from byte ``p`` (a pair start), appending field
    and value to ``out`` (``None``: only count); stops at the end byte. Returns (pairs
    walked, where the next one starts)."""
    n = len(blob)
    found = 0
    while found < limit and blob[p] != 0xFF:
        for is_value in (False, True):
            b = blob[p]
            if b < 254:
                ln = b
                p += 1
            elif b == 254:
                ln = _LE32(blob, p + 1)[0]
                p += 5
            else:
                raise CorruptInput(f"zipmap value length missing at +{p}")
            free = 0
            if is_value:
                free = blob[p]
                p += 1
            if p + ln > n - 1:
                raise CorruptInput(f"zipmap entry of {ln} bytes at +{p} overruns")
            if out is not None:
                out.append(blob[p : p + ln])
            p += ln + free
        found += 1
    return found, p


def zipmap_runs(blob: bytes, run: int = RUN) -> tuple[int, Iterator[list[bytes]]]:
    """As ``listpack_runs``, for a zipmap (see ``zipmap``): the count is of pairs, a run
    holds at most ``run`` pairs (field, value, field, value ...)."""
    n = len(blob)
    try:
        pairs, p = _zm_walk(blob, 1, n, None)
        if p != n - 1:
            raise CorruptInput(f"zipmap ends at +{p}, blob at +{n - 1}")
        if blob[0] < 254 and blob[0] != pairs:
            raise CorruptInput(f"zipmap header counts {blob[0]} pairs, found {pairs}")
    except (IndexError, StructError):
        raise CorruptInput("zipmap entry runs past the end of the blob") from None

    def runs() -> Iterator[list[bytes]]:
        q = 1
        while q < n - 1:
            out: list[bytes] = []
            _, q = _zm_walk(blob, q, run, out)
            yield out

    return pairs, runs()


def zipmap(blob: bytes) -> list[bytes]:
    """Decode a zipmap: ``<zmlen> { <len> key <len> <free> value <free bytes> }* <0xFF>``;
    a ``<len>`` is one byte < 254, or 0xFE + u32 (FORMAT.md §4.D). Returns field, value,
    field, value ..."""
    _, runs = zipmap_runs(blob, max(1, len(blob)))
    return next(runs, [])
