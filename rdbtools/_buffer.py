"""The input buffer: one growing window over any binary file object, exact byte offsets,
a running CRC-64 of what has been consumed, and the RDB primitives that sit on the hot
path (length encoding, rdb-strings).

Nothing here ever asks the operating system for more than ``MAX_READ`` bytes at once, so
a hostile length in the input can never make us allocate more than the input actually
holds: a string that claims 2**62 bytes fails as truncated after reading what is there.
When the total size is known (a regular file), such a length fails before any read.
One value read whole (a key, an element, a blob, an LZF string's inflated bytes) is at
most ``MAX_STRING``: what a server accepts as one string (``proto-max-bulk-len``).
"""

from __future__ import annotations

from struct import Struct
from typing import BinaryIO

from rdbtools import crc64, lzf
from rdbtools._accel import speedups
from rdbtools.errors import CorruptInput, LimitExceeded, ParseError, TruncatedInput

CHUNK = 1 << 20
MAX_READ = 16 << 20
MAX_STRING = 512 << 20
"""Redis's default ``proto-max-bulk-len``: no command can make a longer string."""

_BE32 = Struct(">I").unpack_from
_BE64 = Struct(">Q").unpack_from
_LE16S = Struct("<h").unpack_from
_LE32S = Struct("<i").unpack_from
_LE_DOUBLE = Struct("<d").unpack_from

INT8_TEXT = [b"%d" % (i - 256 if i >= 128 else i) for i in range(256)]
"""Decimal text of every signed 8-bit value, indexed by the unsigned byte."""

# Runs of rdb-strings and of type-5 sorted-set pairs read in C (rdb_decode.c); they stop
# at anything they cannot finish, which ``read_string`` then reads. No Python twin: the
# pure-Python path reads every string with ``read_string``.
_strings = speedups.strings if speedups else None
_zset2 = speedups.zset2 if speedups else None


class Input:
    """A pull buffer over ``fp``. ``pos`` indexes ``buf``; ``base`` is the absolute offset
    of ``buf[0]``, so ``tell() == base + pos`` is the exact offset in the source."""

    __slots__ = ("fp", "source", "buf", "pos", "base", "eof", "size", "crc", "crc_pos",
                 "crc_on", "max_string", "mark")

    def __init__(
        self,
        fp: BinaryIO,
        source: str,
        *,
        size: int | None = None,
        checksum: bool = True,
        max_string: int = MAX_STRING,
        initial: bytes = b"",
        base: int = 0,
    ) -> None:
        self.fp = fp
        self.source = source
        self.buf = initial
        self.pos = 0
        self.base = base
        self.eof = False
        self.size = size
        self.crc = 0
        self.crc_pos = 0
        self.crc_on = checksum
        self.max_string = max_string
        self.mark = -1

    # ------------------------------------------------------------------ raw access

    def tell(self) -> int:
        return self.base + self.pos

    def error(self, cls: type[ParseError], message: str, offset: int | None = None) -> ParseError:
        """Build an error located at ``offset`` (default: the current position)."""
        return cls(message, source=self.source, offset=self.tell() if offset is None else offset)

    def _fill(self, n: int) -> int:
        """Make ``n`` bytes available from ``pos`` unless the input ends first; return
        how many are available. Consumed bytes are folded into the CRC and dropped
        (except those after a ``mark``, kept for ``since_mark``)."""
        buf, pos = self.buf, self.pos
        if self.crc_on and self.crc_pos < pos:
            self.crc = crc64.update(memoryview(buf)[self.crc_pos:pos], self.crc)
        keep = pos if self.mark < 0 else min(pos, self.mark)
        parts = [buf[keep:]] if keep < len(buf) else []
        have = len(buf) - pos
        self.base += keep
        # a pipe or socket: take what has arrived (read1) instead of waiting for a full
        # chunk, so that the first keys come out while the producer is still writing
        read = self.fp.read if self.size is not None else getattr(self.fp, "read1", self.fp.read)
        while have < n and not self.eof:
            chunk = read(min(max(CHUNK, n - have), MAX_READ))
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.buf = b"".join(parts) if len(parts) != 1 else bytes(parts[0])
        self.pos = pos - keep
        self.crc_pos = self.pos
        if self.mark >= 0:
            self.mark -= keep
        return have

    def set_mark(self) -> None:
        """Start keeping every byte consumed from here on (see ``since_mark``)."""
        self.mark = self.pos

    def since_mark(self) -> bytes:
        """The bytes consumed since ``set_mark``; ends the mark."""
        out = self.buf[self.mark:self.pos]
        self.mark = -1
        return out

    def truncated(self, need: int, what: str) -> TruncatedInput:
        avail = len(self.buf) - self.pos
        return TruncatedInput(
            f"input ends inside {what}: needs {need} bytes, {avail} left",
            source=self.source,
            offset=self.tell() + avail,
        )

    def read(self, n: int, what: str = "a value") -> bytes:
        """Exactly ``n`` bytes."""
        p = self.pos
        end = p + n
        if end <= len(self.buf):
            self.pos = end
            return self.buf[p:end]
        if n < 0:
            raise self.error(CorruptInput, f"negative length {n}")
        if self.size is not None and self.tell() + n > self.size:
            raise TruncatedInput(
                f"{what} of {n} bytes runs past the end of the input "
                f"({self.size - self.tell()} bytes left)",
                source=self.source,
                offset=self.tell(),
            )
        if n > self.max_string:
            raise self.error(LimitExceeded, f"{what} of {n} bytes exceeds the limit "
                                            f"{self.max_string}")
        if self._fill(n) < n:
            raise self.truncated(n, what)
        p = self.pos
        self.pos = p + n
        return self.buf[p:p + n]

    def skip(self, n: int, what: str = "a value") -> None:
        """Consume ``n`` bytes without keeping them (they still count for the CRC)."""
        while n > 0:
            k = min(n, CHUNK)
            self.read(k, what)
            n -= k

    def peek_byte(self) -> int | None:
        """The next byte without consuming it, or ``None`` at the end of the input."""
        if self.pos >= len(self.buf) and self._fill(1) < 1:
            return None
        return self.buf[self.pos]

    def read_byte(self) -> int:
        p = self.pos
        buf = self.buf
        if p < len(buf):
            self.pos = p + 1
            return buf[p]
        if self._fill(1) < 1:
            raise self.truncated(1, "a type or opcode byte")
        p = self.pos
        self.pos = p + 1
        return self.buf[p]

    def leftover(self) -> bytes:
        """The bytes read from ``fp`` but not consumed yet (e.g. the AOF tail after an
        RDB preamble)."""
        return self.buf[self.pos:]

    def checksum(self) -> int:
        """CRC-64 of every byte consumed so far."""
        if self.crc_pos < self.pos:
            self.crc = crc64.update(memoryview(self.buf)[self.crc_pos:self.pos], self.crc)
            self.crc_pos = self.pos
        return self.crc

    # ------------------------------------------------------------------ RDB primitives

    def read_len(self) -> int:
        """A length (FORMAT.md §2.1): ``00xxxxxx`` 6 bits; ``01xxxxxx yyyyyyyy`` 14 bits
        big-endian; ``0x80`` + 32-bit BE; ``0x81`` + 64-bit BE. ``11xxxxxx`` (a special
        string encoding) and ``0x82..0xBF`` are not lengths."""
        buf, p = self.buf, self.pos
        if len(buf) - p < 9:
            self._fill(9)
            buf, p = self.buf, self.pos
            avail = len(buf) - p
            if avail < 1:
                raise self.truncated(1, "a length")
            need = (1, 2, 5 if buf[p] == 0x80 else 9, 1)[buf[p] >> 6]
            if avail < need:
                raise self.truncated(need, "a length")
        b = buf[p]
        t = b >> 6
        if t == 0:
            self.pos = p + 1
            return b
        if t == 1:
            self.pos = p + 2
            return ((b & 0x3F) << 8) | buf[p + 1]
        if b == 0x80:
            self.pos = p + 5
            return int(_BE32(buf, p + 1)[0])
        if b == 0x81:
            self.pos = p + 9
            return int(_BE64(buf, p + 1)[0])
        raise self.error(CorruptInput, f"bad length byte {b:#04x}")

    def read_string(self) -> bytes:
        """An rdb-string (FORMAT.md §2.2): a plain length and bytes, or ``C0``/``C1``/``C2``
        an INT8/16/32 (LE) standing for its decimal text, or ``C3`` LZF: compressed
        length, uncompressed length, compressed bytes."""
        buf, p = self.buf, self.pos
        if len(buf) - p < 9:
            return self._read_string_slow()
        b = buf[p]
        t = b >> 6
        if t == 0:
            n = b
            p += 1
        elif t == 1:
            n = ((b & 0x3F) << 8) | buf[p + 1]
            p += 2
        elif b == 0x80:
            n = _BE32(buf, p + 1)[0]
            p += 5
        elif b == 0x81:
            n = _BE64(buf, p + 1)[0]
            p += 9
        elif b == 0xC0:
            self.pos = p + 2
            return INT8_TEXT[buf[p + 1]]
        elif b == 0xC1:
            self.pos = p + 3
            return b"%d" % _LE16S(buf, p + 1)[0]
        elif b == 0xC2:
            self.pos = p + 5
            return b"%d" % _LE32S(buf, p + 1)[0]
        elif t == 3:
            return self._read_special(b)
        else:
            raise self.error(CorruptInput, f"bad string length byte {b:#04x}")
        end = p + n
        if end <= len(buf):
            self.pos = end
            return buf[p:end]
        self.pos = p
        return self.read(n, "a string")

    def read_strings(self, count: int) -> list[bytes]:
        """``count`` rdb-strings; the C extension reads runs of them in one call and
        leaves any it cannot finish in the buffer (or LZF ones) to ``read_string``."""
        strings = _strings
        if strings is None:
            return [self.read_string() for _ in range(count)]
        out: list[bytes] = []
        while count > 0:
            got, self.pos = strings(self.buf, self.pos, count)
            if got:
                out += got
                count -= len(got)
            if count:
                out.append(self.read_string())
                count -= 1
        return out

    def read_zset2_members(self, count: int) -> list[tuple[bytes, float]]:
        """``count`` (member rdb-string, 8-byte LE binary double) pairs (type 5)."""
        out: list[tuple[bytes, float]] = []
        zset2 = _zset2
        while count > 0:
            if zset2 is not None:
                got, self.pos = zset2(self.buf, self.pos, count)
                if got:
                    out += got
                    count -= len(got)
                    continue
            member = self.read_string()
            out.append((member, _LE_DOUBLE(self.read(8, "a score"))[0]))
            count -= 1
        return out

    def _read_string_slow(self) -> bytes:
        b = self.peek_byte()
        if b is None:
            raise self.truncated(1, "a string")
        if b >> 6 == 3:
            return self._read_special(b)
        return self.read(self.read_len(), "a string")

    def _read_special(self, b: int) -> bytes:
        start = self.tell()
        self.read_byte()
        enc = b & 0x3F
        if enc == 0:
            return INT8_TEXT[self.read(1, "an INT8 string")[0]]
        if enc == 1:
            return b"%d" % _LE16S(self.read(2, "an INT16 string"))[0]
        if enc == 2:
            return b"%d" % _LE32S(self.read(4, "an INT32 string"))[0]
        if enc == 3:
            clen = self.read_len()
            ulen = self.read_len()
            if ulen > self.max_string:
                raise self.error(LimitExceeded, f"LZF string inflating to {ulen} bytes exceeds "
                                                f"the limit {self.max_string}", start)
            data = self.read(clen, "an LZF string")
            try:
                return lzf.decompress(data, ulen)
            except ParseError as exc:
                raise exc.located(self.source, start, None) from None
        raise self.error(CorruptInput, f"unknown string encoding {b:#04x}", start)

    def string_length(self) -> int | None:
        """If the next rdb-string is a plain one, consume its length and return it
        (the caller then reads the bytes, possibly in pieces); else consume nothing and
        return ``None``."""
        b = self.peek_byte()
        if b is None:
            raise self.truncated(1, "a string")
        if b >> 6 == 3:
            return None
        return self.read_len()
