"""Opening an input by name, and the layer under every reader: local paths, ``-``
(standard input) and URLs (``s3://``, ``gs://``, ``https://``, ``memory://`` … through
fsspec), each decompressed when its first bytes are those of a compressed stream.

The compression is told by magic bytes, never by the name (RFC 1952 gzip ``1F 8B``;
zstd frame ``28 B5 2F FD``; LZ4 frame ``04 22 4D 18``; bzip2 ``BZh``; xz
``FD 37 7A 58 5A 00``). The head is read once and put back in front of the stream, so a
pipe is never seeked; decompression is streamed (no temporary file, memory bounded by
the decoder's window and the reader's chunk). Offsets in errors are then offsets in the
uncompressed stream, and their message says so (``x.rdb.gz@0x1234 (uncompressed): …``).

gzip, bzip2 and xz come with Python; zstd, LZ4 and URLs need optional packages
(``rdbtools[zstd]``, ``rdbtools[lz4]``, ``rdbtools[remote]``, ``rdbtools[s3]``,
``rdbtools[gcs]``; ``rdbtools[compress]`` holds both decoders). A missing one is a
``MissingExtra`` error naming the extra.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Literal, TypeVar, cast

from rdbtools.errors import CorruptInput, MissingExtra, ParseError, RdbToolsError, TruncatedInput

__all__ = ["COMPRESSIONS", "RDB_MAGICS", "Opened", "Source", "StoredReadError", "from_stream",
           "is_url", "looks_like_manifest", "open_binary", "open_sniffed", "sniff_compression",
           "sniff_kind"]

COMPRESSIONS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
"""Magic bytes of each compressed format read."""

HEAD = max(len(magic) for magic, _ in COMPRESSIONS)
PEEK = 64
"""A read of the layer returns at least this many bytes unless the input ends, so that
``peek`` on the buffered stream sees any file magic whole."""
_URL = re.compile(r"\A[A-Za-z][A-Za-z0-9+.-]*://")
_BUFFER = 1 << 20

T = TypeVar("T")


def is_url(name: str) -> bool:
    """Whether ``name`` is a URL (``scheme://…``) rather than a local path."""
    return _URL.match(name) is not None


def sniff_compression(head: bytes) -> str | None:
    """The compression whose magic ``head`` starts with, or ``None``."""
    for magic, kind in COMPRESSIONS:
        if head.startswith(magic):
            return kind
    return None


class StoredReadError(OSError):
    """Reading the stored (compressed or remote) bytes failed: an I/O error, not damage
    in the data."""


class _Stored(io.RawIOBase):
    """The stored bytes: ``head`` (already read to sniff them), then the rest of ``fp``;
    counts what has been handed out (the position in the stored bytes)."""

    def __init__(self, head: bytes, fp: IO[bytes], name: str) -> None:
        self.head = head
        self.fp = fp
        self.name_ = name
        self.position = 0
        self._read1 = getattr(fp, "read1", fp.read)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = 0
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
        # at least PEEK bytes (unless the input ends) so that a peek sees a whole magic
        while n < min(len(b), PEEK):
            try:
                data = self._read1(len(b) - n)
            except Exception as exc:  # a remote file system raises its own errors
                code = exc.errno if isinstance(exc, OSError) and exc.errno else errno.EIO
                raise StoredReadError(code, f"read failed: {exc}", self.name_) from None
            if not data:
                break
            b[n:n + len(data)] = data
            n += len(data)
        self.position += n
        return n


def _decoder(kind: str, raw: IO[bytes]) -> Any:
    """A streaming decoder of ``kind`` reading ``raw``."""
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bzip2":
        import bz2

        return bz2.BZ2File(raw, "rb")
    if kind == "xz":
        return _XzReader(raw)
    if kind == "zstd":
        try:
            import zstandard
        except ImportError:
            raise MissingExtra("zstd-compressed input needs the zstandard package",
                               extra="zstd") from None
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True,
                                                          closefd=False)
    try:
        import lz4.frame
    except ImportError:
        raise MissingExtra("LZ4-compressed input needs the lz4 package", extra="lz4") from None
    return lz4.frame.LZ4FrameFile(raw, "rb")


XZ_MEMLIMIT = 512 << 20
"""The most memory an xz stream may ask for (its dictionary is named in its header: up
to 1.5 GiB; ``xz -9`` uses 64 MiB). A stream that asks for more is refused as damaged."""


class _XzReader:
    """xz streams one after the other (``xz`` concatenates them), decoded with
    ``XZ_MEMLIMIT``; ``lzma.LZMAFile`` has no memory limit."""

    def __init__(self, raw: IO[bytes]) -> None:
        import lzma

        self.lzma = lzma
        self.raw = raw
        self.decoder = lzma.LZMADecompressor(memlimit=XZ_MEMLIMIT)
        self.pending = b""
        self.done = False

    def read(self, n: int) -> bytes:
        while not self.done:
            if self.decoder.eof:  # the next stream, if any (xz allows zero padding)
                rest = self.decoder.unused_data.lstrip(b"\0") or self._more().lstrip(b"\0")
                if not rest:
                    self.done = True
                    break
                self.decoder = self.lzma.LZMADecompressor(memlimit=XZ_MEMLIMIT)
                self.pending = rest
            if not self.pending and self.decoder.needs_input:
                self.pending = self._more()
                if not self.pending:
                    raise EOFError("the xz stream ends before its end mark")
            data = self.decoder.decompress(self.pending, n)
            self.pending = b""
            if data:
                return data
        return b""

    def _more(self) -> bytes:
        return self.raw.read(CHUNK_IN)

    def close(self) -> None:
        self.done = True


CHUNK_IN = 1 << 16
"""Compressed bytes handed to a decoder at a time."""


class _Decoded(io.RawIOBase):
    """The uncompressed bytes of ``stored``; a damaged or cut stream raises a
    ``ParseError`` located at the uncompressed offset. Has no ``fileno``: the size of
    the file on disk says nothing about the size of what it holds."""

    def __init__(self, stored: _Stored, kind: str, name: str) -> None:
        self.stored = stored
        self.kind = kind
        self.name_ = name
        self.position = 0
        self.decoder = _decoder(kind, cast(IO[bytes], stored))
        # read1: what one block gives, so that a cut stream yields all it holds first
        self._decode = getattr(self.decoder, "read1", self.decoder.read)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = 0
        while n < min(len(b), PEEK):
            data = self._read(len(b) - n)
            if not data:
                break
            b[n:n + len(data)] = data
            n += len(data)
        return n

    def _read(self, n: int) -> bytes:
        try:
            data: bytes = self._decode(n)
        except (StoredReadError, RdbToolsError):
            raise
        except EOFError:
            raise self._error(TruncatedInput, f"the {self.kind} stream ends before its "
                                              "end mark (the file is cut short)") from None
        except Exception as exc:  # each decoder has its own error type
            raise self._error(CorruptInput, f"damaged {self.kind} data: {exc}") from None
        self.position += len(data)
        return data

    def _error(self, cls: type[ParseError], message: str) -> ParseError:
        err = cls(message, source=self.name_, offset=self.position)
        err.offset_note = "uncompressed"
        return err

    def close(self) -> None:
        if not self.closed:
            self.decoder.close()
        super().close()


class Source:
    """An opened input. ``fp``: its (uncompressed) bytes; ``name``: what errors call it;
    ``size``: the uncompressed size when known before reading (a plain regular file);
    ``compression``: ``"gzip"`` … or ``None``; ``stored_size`` / ``stored_position()``:
    the size of the bytes as stored and how far they have been read (for progress)."""

    def __init__(self, fp: BinaryIO, name: str, *, size: int | None, compression: str | None,
                 stored_size: int | None, position: Callable[[], int],
                 closers: tuple[Callable[[], None], ...]) -> None:
        self.fp = fp
        self.name = name
        self.size = size
        self.compression = compression
        self.stored_size = stored_size
        self._position = position
        self._closers = closers
        self._closed_at: int | None = None

    def peek(self, n: int) -> bytes:
        """Up to ``n`` of the next bytes (fewer only when the input is shorter), left
        unread: every layer returns at least ``PEEK`` bytes a read."""
        return cast(io.BufferedReader, self.fp).peek(n)[:n]

    def stored_position(self) -> int:
        """How many bytes of the input as stored have been read."""
        return self._closed_at if self._closed_at is not None else self._position()

    def close(self) -> None:
        if self._closed_at is None:
            try:
                self._closed_at = self._position()
            except (OSError, ValueError):  # a caller's file, closed by the caller
                self._closed_at = 0
        for close in self._closers:
            close()
        self._closers = ()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def note(self, err: ParseError) -> None:
        """Mark ``err``'s offset as one in the uncompressed stream where it is one."""
        if self.compression is not None and err.source == self.name \
                and err.offset is not None:
            err.offset_note = "uncompressed"

    def watch(self, items: Iterator[T]) -> Iterator[T]:
        """``items`` (read from this source) again; closes the source when they end and
        marks the offsets of their errors (``note``)."""
        try:
            yield from items
        except ParseError as err:
            self.note(err)
            raise
        finally:
            self.close()


def _read_head(fp: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes, reading until they are there or the input ends."""
    head = b""
    while len(head) < n:
        chunk = fp.read(n - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _regular_size(fp: IO[bytes]) -> int | None:
    try:
        st = os.fstat(fp.fileno())
    except (OSError, AttributeError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


_SCHEME_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
"""The extra that brings the file system of a scheme that fsspec itself lacks."""


def _open_url(url: str) -> tuple[IO[bytes], int | None]:
    """``url`` opened through fsspec for reading in order, and its size if told."""
    scheme = url.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise MissingExtra(f"{scheme}:// inputs need fsspec",
                           extra=_SCHEME_EXTRAS.get(scheme, "remote")) from None
    try:
        fp: IO[bytes] = fsspec.open(url, "rb").open()
    except ImportError as exc:  # the file system of this scheme is a package of its own
        raise MissingExtra(f"{url}: {exc}", extra=_SCHEME_EXTRAS.get(scheme, "remote")) \
            from None
    except FileNotFoundError as exc:
        cause = exc.__cause__  # fsspec's http file system: "not found" for any failure
        if cause is None:
            raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), url) from None
        raise OSError(errno.EIO, f"cannot open: {cause}", url) from None
    except Exception as exc:  # an unknown scheme, a malformed URL, a connection refused
        text = str(exc) if str(exc) and str(exc) != url else type(exc).__name__
        code = exc.errno if isinstance(exc, OSError) and exc.errno else errno.EIO
        raise OSError(code, f"cannot open: {text}", url) from None
    size = getattr(fp, "size", None)
    return fp, size if isinstance(size, int) else None


def open_binary(name: str | os.PathLike[str]) -> Source:
    """Open a path, ``-`` (standard input, left open on close) or a URL, and decompress
    it when its first bytes say it is compressed. Raises ``OSError`` when it cannot be
    opened, ``MissingExtra`` when an optional package it needs is not installed."""
    name = os.fspath(name)
    if name == "-":
        return from_stream(sys.stdin.buffer, "-")
    if is_url(name) and not name.startswith("file://"):
        fp, stored_size = _open_url(name)
    else:
        fp = open(name.removeprefix("file://"), "rb")  # noqa: SIM115 - closed by Source
        stored_size = None
    try:
        return from_stream(fp, name, stored_size=stored_size, closers=(fp.close,))
    except BaseException:
        fp.close()
        raise


def from_stream(fp: IO[bytes], name: str, *, stored_size: int | None = None,
                closers: tuple[Callable[[], None], ...] = ()) -> Source:
    """``fp`` as a ``Source`` named ``name``, decompressed when it starts with a
    compression magic. A plain seekable file is used as it is; anything else (a pipe, a
    remote stream) is read in order, its first bytes put back in front."""
    size = _regular_size(fp)
    if size is not None:
        at = fp.tell()
        size -= at
        kind = sniff_compression(fp.read(HEAD))
        fp.seek(at)
        if kind is None:  # a plain file: read as it is, no layer in between
            return Source(cast(BinaryIO, fp), name, size=size, compression=None, stored_size=size,
                          position=lambda: fp.tell() - at, closers=closers)
    stored_size = size if size is not None else stored_size
    head = _read_head(fp, HEAD)
    stored = _Stored(head, fp, name)
    kind = sniff_compression(head)
    if kind is None:
        out = cast(BinaryIO, io.BufferedReader(stored, _BUFFER))
        return Source(out, name, size=None, compression=None, stored_size=stored_size,
                      position=lambda: stored.position, closers=closers)
    decoded = _Decoded(stored, kind, name)
    out = cast(BinaryIO, io.BufferedReader(decoded, _BUFFER))
    return Source(out, name, size=None, compression=kind, stored_size=stored_size,
                  position=lambda: stored.position, closers=(decoded.close, *closers))


RDB_MAGICS = (b"REDIS", b"VALKEY")
"""The first bytes of an RDB file (FORMAT.md §1.2), and of an AOF's RDB preamble."""

SNIFF = 1024
"""Bytes of the head looked at to tell what an input holds (a manifest's first line)."""

_ANNOTATION = re.compile(rb"#TS:\d+\r\n")
"""The one annotation a server writes into an AOF (``aof-timestamp-enabled``)."""

InputKind = Literal["rdb", "aof", "manifest", "aof-dir", "jsonl", "text", "other"]
"""What an input holds, told by ``sniff_kind`` (``aof-dir``: a directory)."""


def looks_like_manifest(head: bytes) -> bool:
    """``redis-check-aof``'s test: the first line that is not a ``#`` comment starts
    with ``file``."""
    for line in head.split(b"\n"):
        if line.startswith(b"#"):
            continue
        return line.startswith(b"file")
    return False


def sniff_kind(head: bytes, *, regular: bool = False) -> InputKind:
    """What an input whose (uncompressed) bytes start with ``head`` holds:

    * ``rdb`` when it starts with ``REDIS`` or ``VALKEY`` (an AOF with an RDB preamble
      starts so too: only a name can tell it apart);
    * ``manifest`` when it is a plain ``regular`` file whose first line that is not a
      ``#`` comment starts with ``file`` (§8.5);
    * ``aof`` when it starts with a RESP command (``*``) or a ``#TS:<digits>\\r\\n``
      annotation;
    * ``text`` when it starts with any other ``#`` (a README, a script: neither RDB nor
      AOF), ``jsonl`` when its first byte that is no white space is ``{``;
    * ``other`` for anything else (the reader asked for names what it finds)."""
    if head.startswith(RDB_MAGICS):
        return "rdb"
    if regular and looks_like_manifest(head):
        return "manifest"
    if head[:1] == b"*" or _ANNOTATION.match(head) is not None:
        return "aof"
    if head[:1] == b"#":
        return "text"
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    return "other"


@dataclass(frozen=True)
class Opened:
    """An input opened once and sniffed: ``kind`` (``sniff_kind``), the ``name`` it was
    opened by, and ``source``, its still unread bytes (``None`` for a directory)."""

    kind: InputKind
    name: str
    source: Source | None

    def close(self) -> None:
        """Close the source (when the input is to be read by its name instead)."""
        if self.source is not None:
            self.source.close()


def open_sniffed(name: str | os.PathLike[str]) -> Opened:
    """Open ``name`` once (``open_binary``: a path, ``-``, a URL, compressed or not) and
    tell what it holds from its first bytes, which stay unread: a pipe or a FIFO is read
    once, front to back. A local directory holding a ``*.manifest`` file is an
    ``aof-dir`` (read by its name); any other directory fails to open
    (``IsADirectoryError``). Raises as ``open_binary`` does, and the ``ParseError`` of a
    damaged compressed head."""
    name = os.fspath(name)
    if name != "-" and not is_url(name) and os.path.isdir(name):
        try:
            if any(n.endswith(".manifest") for n in os.listdir(name)):
                return Opened("aof-dir", name, None)
        except OSError:
            pass
    src = open_binary(name)
    try:
        head = src.peek(SNIFF)
    except BaseException:
        src.close()
        raise
    # a manifest names its parts relative to its own directory: a plain file by name
    regular = name != "-" and src.size is not None and src.compression is None
    return Opened(sniff_kind(head, regular=regular), name, src)
