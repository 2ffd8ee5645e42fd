"""The error hierarchy.

``RdbToolsError`` is the root. Bad input raises ``ParseError`` (also a ``ValueError``)
carrying ``source`` (a file name or ``"-"``), ``offset`` (byte position in that source)
and ``key`` (the key being read, if any). Its message reads
``dump.rdb@0x1a2f: bad ziplist end byte 0x00 (key b'user:1')``.

Damage in the RESP framing of an AOF is an ``AofTruncated`` / ``AofCorrupt`` (the
package's ``TruncatedInput`` / ``CorruptInput``, with what ``aoftool check`` and
``aoftool fix`` need besides: ``ok_up_to``, ``in_multi``, ``last_file``). A server that
cannot be reached or used is a ``ServerError``; ``restore`` raises its ``RestoreError``.

Exit codes used by the command-line tools (see ``docs/cli.md``):

====  =========================================================
0     success (``diff``: no difference)
1     ``diff``: the inputs differ; ``AofTimestampError``
2     usage error (bad options); ``BadUrl``
3     input damaged: ``CorruptInput`` / ``TruncatedInput`` (``AofCorrupt`` /
      ``AofTruncated``); ``AofFixError``
4     ``ChecksumMismatch``
5     ``UnsupportedVersion`` / ``UnsupportedType``
6     ``LimitExceeded``
7     ``WriteError``
8     input file could not be opened or written (OS error; a bad or unreachable URL)
9     ``ServerError`` / ``RestoreError``: the server could not be used or refused keys
10    ``MissingExtra``: an optional package is not installed (the message names the
      extra to install, e.g. ``pip install 'rdbtools[arrow]'``)
====  =========================================================
"""

from __future__ import annotations

KEY_SHOWN = 100
"""Bytes of a key shown whole in a message; a longer key is shortened (``key_text``)."""


def key_text(key: bytes | bytearray | memoryview) -> str:
    """``key`` as a bytes literal for a message, ``b'user:1'``; a key longer than
    ``KEY_SHOWN`` bytes shows its first 64 and last 16 bytes and its length, so that one
    hostile key cannot make a message megabytes long:
    ``b'aaaa...'...b'...zz' (4194304 bytes)``."""
    data = bytes(key)
    if len(data) <= KEY_SHOWN:
        return repr(data)
    return f"{data[:64]!r}...{data[-16:]!r} ({len(data)} bytes)"


class RdbToolsError(Exception):
    """The root of every error this package raises on purpose."""

    exit_code = 1


class ParseError(RdbToolsError, ValueError):
    """The input is not what its format says it must be."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        offset: int | None = None,
        key: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.offset = offset
        self.key = key
        self.offset_note: str | None = None
        """What the offset counts, when not the bytes of the file (``"uncompressed"``)."""

    def located(self, source: str | None, offset: int | None, key: bytes | None) -> ParseError:
        """Fill in where the error happened (only what is not known yet) and return self."""
        if self.source is None:
            self.source = source
        if self.offset is None:
            self.offset = offset
        if self.key is None:
            self.key = key
        return self

    def __str__(self) -> str:
        where = self.source if self.source is not None else "<input>"
        if self.offset is not None:
            where += f"@{self.offset:#x}"
            if self.offset_note:
                where += f" ({self.offset_note})"
        text = f"{where}: {self.message}"
        if self.key is not None:
            text += f" (key {key_text(self.key)})"
        return text


class TruncatedInput(ParseError):
    """The input ended before the format said it would."""


class CorruptInput(ParseError):
    """A byte or a structure that the format does not allow."""


class ChecksumMismatch(ParseError):
    """The CRC64 stored in the file differs from the one computed over its bytes."""

    exit_code = 4


class UnsupportedVersion(ParseError):
    """An RDB version newer than any this package knows."""

    exit_code = 5


class UnsupportedType(ParseError):
    """A type byte or opcode whose layout this package does not know."""

    exit_code = 5


class LimitExceeded(ParseError):
    """A length larger than the configured limit (or than the input could hold)."""

    exit_code = 6


class MissingExtra(RdbToolsError):
    """An optional package that this input or output needs is not installed."""

    exit_code = 10

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(f"{message}: pip install 'rdbtools[{extra}]'")
        self.extra = extra


class WriteError(RdbToolsError, ValueError):
    """A writer was given something it cannot write (the message names the key)."""

    exit_code = 7


class BadUrl(RdbToolsError, ValueError):
    """The URL or a connection option is malformed, or names what the server lacks
    (a database out of range): a usage error."""

    exit_code = 2


class ServerError(RdbToolsError):
    """The server could not be reached or used (refused, silent, not Redis, TLS or
    authentication failed, lost mid-way)."""

    exit_code = 9


class RestoreError(ServerError):
    """The server refused keys (the message names them) or could not be used."""

    exit_code = 9


# --------------------------------------------------------------------------- AOF


class AofFramingError(ParseError):
    """Damage in the RESP framing of an AOF: the base of ``AofTruncated`` and
    ``AofCorrupt`` (for ``except`` clauses). Besides ``source`` and ``offset``:

    * ``ok_up_to``: the offset, in ``source``, of the end of the last complete command
      that is not inside an open MULTI — the position ``redis-check-aof`` reports as
      ``ok_up_to`` and truncates to with ``--fix`` (FORMAT.md §8.6);
    * ``in_multi``: whether the damage is inside an open MULTI (``ok_up_to`` is then
      where that MULTI starts);
    * ``last_file``: whether ``source`` is the last file of the AOF (only the last file
      may be truncated; set by ``rdbtools.aof.reader``).
    """

    def __init__(self, message: str, *, source: str | None, offset: int | None,
                 ok_up_to: int, in_multi: bool = False) -> None:
        super().__init__(message, source=source, offset=offset)
        self.ok_up_to = ok_up_to
        self.in_multi = in_multi
        self.last_file = True


class AofTruncated(AofFramingError, TruncatedInput):
    """The AOF ends inside a command, or inside a MULTI block (no EXEC)."""


class AofCorrupt(AofFramingError, CorruptInput):
    """A line or a byte of the AOF that the RESP framing does not allow."""


def ok_up_to(err: ParseError) -> int | None:
    """``err.ok_up_to`` for a framing error, else ``None`` (e.g. a damaged RDB preamble,
    which truncation cannot repair)."""
    if isinstance(err, AofFramingError):
        return err.ok_up_to
    return None


class AofTimestampError(RdbToolsError):
    """``--truncate-to-timestamp`` cannot be applied (the annotation is in a file that is
    not the last one, or nothing precedes it), as ``redis-check-aof`` refuses too."""

    exit_code = 1


class AofFixError(RdbToolsError):
    """The AOF cannot be repaired this way (damage not in the last file, or not in the
    RESP framing); nothing was written."""

    exit_code = 3
