"""The RDB event reader (FORMAT.md §1, §3, §11.1).

``read_rdb(src)`` pulls bytes from a path, ``"-"`` (standard input) or any binary file
object and yields events (``rdbtools.events``) as it goes: the first key is yielded
before the rest of the file is read, and no value is held whole when it arrives in
batches. Reading stops right after the EOF opcode and its checksum, so the same reader
serves RDB-preamble AOF files (the RESP tail is left unread, see ``RdbReader.input``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from struct import Struct
from typing import BinaryIO

from rdbtools import _spec as S
from rdbtools._accel import speedups
from rdbtools._buffer import Input
from rdbtools._make import KeyEnd, KeyStart, StringValue
from rdbtools.errors import (
    ChecksumMismatch,
    CorruptInput,
    ParseError,
    UnsupportedType,
    UnsupportedVersion,
)
from rdbtools.events import (
    Aux,
    End,
    Event,
    Function,
    Header,
    ModuleAux,
    ResizeDb,
    SelectDb,
    SlotImport,
    SlotInfo,
)
from rdbtools.rdb import _values as V
from rdbtools.sources import Source, from_stream, open_binary

_LE64S = Struct("<q").unpack_from
_LE64U = Struct("<Q").unpack_from
_LE32S = Struct("<i").unpack_from

# Runs of plain string keys read in C (rdb_decode.c); no Python twin: without it the
# record loop reads those keys like any other.
_string_keys = speedups.string_keys if speedups else None



def parse_header(head: bytes) -> tuple[str, int]:
    """``REDIS`` + 4 ASCII digits, or ``VALKEY`` + 3 digits (FORMAT.md §1.2); returns the
    magic and version or raises."""
    if head[:5] == b"REDIS" and head[5:9].isdigit():
        magic, version = "REDIS", int(head[5:9])
        if not 1 <= version <= S.REDIS_MAX_VERSION:
            raise UnsupportedVersion(
                f"RDB version {version} is not supported (newest known: "
                f"{S.REDIS_MAX_VERSION} for REDIS files, "
                f"{max(S.VALKEY_VERSIONS)} for VALKEY files)", offset=5)
        return magic, version
    if head[:6] == b"VALKEY" and head[6:9].isdigit():
        version = int(head[6:9])
        if version not in S.VALKEY_VERSIONS:
            raise UnsupportedVersion(
                f"Valkey RDB version {version} is not supported (newest known: "
                f"{max(S.VALKEY_VERSIONS)})", offset=6)
        return "VALKEY", version
    raise CorruptInput(f"not an RDB file: starts with {head[:9]!r}", offset=0)


class RdbReader:
    """Reads one RDB stream from an ``Input``. Iterate ``events()`` once."""

    def __init__(self, inp: Input, *, verify_checksum: bool = True,
                 source: Source | None = None, alone: bool = False) -> None:
        self.input = inp
        # the Source the input reads, when the reader owns it: closed when the events
        # end, and it marks the offsets of errors (Source.note)
        self.source = source
        self.alone = alone
        self.verify = verify_checksum
        self.version = 0
        self.valkey = False

    def events(self) -> Iterator[Event]:
        src = self.source
        if src is None:
            return self._events()
        return self._owned(src)

    def _owned(self, src: Source) -> Iterator[Event]:
        try:
            yield from self._events()
            if self.alone:
                self._refuse_commands_after()
        except ParseError as err:
            src.note(err)
            raise
        finally:
            src.close()

    def _refuse_commands_after(self) -> None:
        """An AOF may start with an RDB preamble, its commands after the RDB's checksum
        (FORMAT.md §8.4): read as an RDB alone, those commands would be lost unseen."""
        inp = self.input
        if inp.peek_byte() in (ord("*"), ord("#")):
            raise CorruptInput("AOF commands follow the end of the RDB: an AOF with an RDB "
                               "preamble (name it *.aof to replay it)", source=inp.source,
                               offset=inp.tell())

    def _events(self) -> Iterator[Event]:
        inp = self.input
        head = inp.read(9, "the RDB header")
        try:
            magic, self.version = parse_header(head)
        except ParseError as exc:
            raise exc.located(inp.source, inp.tell() - 9, None) from None
        self.valkey = magic == "VALKEY"
        yield Header(self.version, magic, inp.tell() - 9)
        readers = V.readers(self.valkey)
        db = 0
        expire: int | None = None
        idle: int | None = None
        freq: int | None = None
        record_at: int | None = None
        read_byte, read_len, read_string = inp.read_byte, inp.read_len, inp.read_string
        string_keys = _string_keys
        while True:
            if string_keys is not None and record_at is None and expire is None \
                    and idle is None and freq is None:
                # a run of plain string keys, parsed in C in one call
                p = inp.pos
                recs, end = string_keys(inp.buf, p, 512) if p < len(inp.buf) else ((), p)
                if recs:
                    base = inp.base
                    inp.pos = end
                    ends = [r[0] for r in recs[1:]]
                    ends.append(end)
                    for (rat, exp, key, value, vat, is_int), rend in zip(recs, ends):
                        yield KeyStart(db, key, "string", "int" if is_int else "raw", 0, exp,
                                       None, None, len(value), base + rat)
                        yield StringValue(value, base + vat)
                        yield KeyEnd(key, rend - rat, base + vat, base + rend)
                    continue
            at = inp.base + inp.pos
            op = read_byte()
            reader = readers.get(op)
            if reader is not None:
                key_at = at if record_at is None else record_at
                try:
                    key = read_string()
                except ParseError as exc:
                    raise exc.located(inp.source, at, None) from None
                value_at = inp.base + inp.pos
                first = inp.buf[inp.pos] if inp.pos < len(inp.buf) else 0x80
                try:
                    if op == 0 and (first < 0x80 or 0xC0 <= first <= 0xC2):
                        # the common case, without the generic reader's generator: a
                        # string value short enough to arrive in one piece
                        data = read_string()
                        enc = "raw" if first < 0x80 else "int"
                        yield KeyStart(db, key, "string", enc, 0, expire, idle, freq,
                                       len(data), key_at)
                        yield StringValue(data, value_at)
                    else:
                        ctx = V.KeyCtx(db, key, op, expire, idle, freq, key_at, self.valkey)
                        yield from reader(inp, ctx)
                except ParseError as exc:
                    raise exc.located(inp.source, value_at, key) from None
                end = inp.base + inp.pos
                yield KeyEnd(key, end - key_at, value_at, end)
                expire = idle = freq = record_at = None
                continue
            if op >= S.OPCODE_KEY_META_OR_SLOT_IMPORT and record_at is None:
                record_at = at
            if op == S.OPCODE_EXPIRETIME_MS:
                expire = _LE64S(inp.read(8, "an expire time"))[0]
            elif op == S.OPCODE_EXPIRETIME:
                expire = _LE32S(inp.read(4, "an expire time"))[0] * 1000
            elif op == S.OPCODE_IDLE:
                idle = read_len()
            elif op == S.OPCODE_FREQ:
                freq = inp.read(1, "an LFU counter")[0]
            elif op == S.OPCODE_KEY_META_OR_SLOT_IMPORT and not self.valkey:
                self._skip_key_meta(at)
            else:
                if expire is not None or idle is not None or freq is not None:
                    raise CorruptInput(f"opcode {op:#04x} follows a key attribute instead of a key",
                                       source=inp.source, offset=at)
                record_at = None
                if op == S.OPCODE_SELECTDB:
                    db = read_len()
                    yield SelectDb(db, at)
                elif op == S.OPCODE_RESIZEDB:
                    yield ResizeDb(read_len(), read_len(), at)
                elif op == S.OPCODE_AUX:
                    yield Aux(read_string(), read_string(), at)
                elif op == S.OPCODE_EOF:
                    yield self._end(at)
                    return
                else:
                    yield self._file_record(op, at)

    def _file_record(self, op: int, at: int) -> Event:
        inp = self.input
        if op == S.OPCODE_FUNCTION2:
            return Function(inp.read_string(), at)
        if op == S.OPCODE_FUNCTION_PRE_GA:
            name = inp.read_string()
            engine = inp.read_string()
            description = inp.read_string() if inp.read_len() else None
            return Function(inp.read_string(), at, name, engine, description, pre_ga=True)
        if op == S.OPCODE_MODULE_AUX:
            return self._module_aux(at)
        if op == S.OPCODE_SLOT_INFO:
            return SlotInfo(inp.read_len(), inp.read_len(), inp.read_len(), at)
        if op == S.OPCODE_KEY_META_OR_SLOT_IMPORT:  # Valkey-magic: SLOT_IMPORT
            job = inp.read_string()
            ranges = tuple((inp.read_len(), inp.read_len()) for _ in range(inp.read_len()))
            return SlotImport(job, ranges, at)
        flavour = "VALKEY" if self.valkey else "REDIS"
        raise UnsupportedType(f"unknown type or opcode {op} in a {flavour} RDB "
                              f"version {self.version} file", source=inp.source, offset=at)

    def _module_aux(self, at: int) -> ModuleAux:
        """``F7 <len module_id> <len 2> <len when> <module-opcode stream ending in 0>``."""
        inp = self.input
        module_id = inp.read_len()
        name, version = S.module_name(module_id)
        opcode = inp.read_len()
        if opcode != S.MODULE_OP_UINT:
            raise CorruptInput(f"MODULE_AUX of {name!r}: expected opcode 2 before 'when', "
                               f"got {opcode}", source=inp.source, offset=at)
        when = inp.read_len()
        inp.set_mark()
        try:
            V.skip_module_opcodes(inp)
            payload = inp.since_mark()
        finally:
            inp.mark = -1
        return ModuleAux(module_id, name, version, when, payload, at)

    def _skip_key_meta(self, at: int) -> None:
        """Redis 8.6 KEY_META prefix of a key record (FORMAT.md §3.13): a count, then per
        metadata class a 4-byte class spec and a module-opcode stream. Skipped."""
        inp = self.input
        if self.version < 13:
            raise UnsupportedType(f"opcode 0xf3 (KEY_META) in an RDB version {self.version} "
                                  "file", source=inp.source, offset=at)
        for _ in range(inp.read_len()):
            inp.read(4, "a key metadata class")
            V.skip_module_opcodes(inp)

    def _end(self, at: int) -> End:
        """EOF: from version 5 on, 8 bytes LE CRC-64 of everything before them; all zero
        means the writer did not compute it (FORMAT.md §6.2)."""
        inp = self.input
        if self.version < 5:
            return End(None, None, "absent", at)
        computed = inp.checksum() if self.verify else None
        stored = int(_LE64U(inp.read(8, "the checksum"))[0])
        if not self.verify:
            return End(stored, None, "skipped", at)
        if stored == 0:
            return End(stored, computed, "zero", at)
        if stored != computed:
            raise ChecksumMismatch(f"checksum mismatch: file says {stored:016x}, "
                                   f"content gives {computed:016x}",
                                   source=inp.source, offset=at + 1)
        return End(stored, computed, "ok", at)


def read_rdb(
    src: str | os.PathLike[str] | BinaryIO | Source,
    *,
    source: str | None = None,
    verify_checksum: bool = True,
    alone: bool = False,
) -> Iterator[Event]:
    """Yield the events of the RDB at ``src`` (a path, ``"-"`` for standard input, a
    binary file object or an opened ``Source``). Bad input raises a ``ParseError`` naming
    the source, the byte offset and the key; ``verify_checksum=False`` skips the CRC-64
    check. A path is opened at once (so a missing file fails here) and closed when the
    iteration ends. A path may be a URL, and any input may be compressed
    (``rdbtools.sources``). Reading stops after the RDB's checksum; with ``alone``, AOF
    commands after it (``*`` or ``#``: an AOF with an RDB preamble) are a
    ``CorruptInput`` rather than left unread."""
    if isinstance(src, Source):
        opened = src
    elif isinstance(src, (str, os.PathLike)):
        opened = open_binary(src)
    else:
        opened = from_stream(src, str(getattr(src, "name", "<stream>")))
    if source is not None:
        opened.name = source
    inp = Input(opened.fp, opened.name, size=opened.size, checksum=verify_checksum)
    return RdbReader(inp, verify_checksum=verify_checksum, source=opened, alone=alone).events()
