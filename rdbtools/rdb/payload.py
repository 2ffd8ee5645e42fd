"""DUMP / RESTORE payloads (FORMAT.md §7): ``<type byte> <value as in an RDB key record>
<u16 LE RDB version> <u64 LE CRC-64 of everything before it>``."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from rdbtools import _spec as S
from rdbtools import crc64
from rdbtools._buffer import Input
from rdbtools.errors import (
    ChecksumMismatch,
    CorruptInput,
    ParseError,
    UnsupportedVersion,
    WriteError,
    key_text,
)
from rdbtools.events import Event, KeyStart
from rdbtools.rdb import _values as V
from rdbtools.rdb._keyenc import EmptyKey
from rdbtools.rdb.targets import Target, Thresholds
from rdbtools.rdb.writer import ENCODERS, Loss, unsupported


def encode_payload(
    start: KeyStart,
    values: Iterable[Event],
    version: int | str = 11,
    *,
    thresholds: Thresholds | None = None,
    losses: list[Loss] | None = None,
) -> bytes:
    """The DUMP payload of one key (its ``KeyStart`` and value events) for a server of
    RDB ``version``. What the version cannot hold is appended to ``losses``. Holds the
    whole payload in memory: it is one bulk string on the wire."""
    target = Target.of(version)
    why = unsupported(start, target)
    if why is not None:
        raise WriteError(f"no DUMP payload of RDB {target.version} for key "
                         f"{key_text(start.key)}: {why}")
    found: list[Loss] = losses if losses is not None else []
    enc = ENCODERS[start.type](start, target, thresholds or Thresholds(),
                               lambda what: found.append(Loss(what, start.db, start.key)))
    try:
        for ev in values:
            enc.add(ev)
        tp, head, spool, tail = enc.finish()
        body = bytes((tp,)) + head + b"".join(spool.chunks()) + tail
    except EmptyKey:
        raise WriteError(f"key {key_text(start.key)} is empty: it has no DUMP payload") from None
    finally:
        enc.spool.close()
    body += target.version.to_bytes(2, "little")
    return body + crc64.crc64(body).to_bytes(8, "little")


def payload_version(payload: bytes) -> int:
    """The RDB version a payload declares."""
    if len(payload) < 10:
        raise CorruptInput(f"DUMP payload of {len(payload)} bytes is shorter than its footer")
    return int.from_bytes(payload[-10:-8], "little")


def decode_payload(payload: bytes, key: bytes = b"", *, db: int = 0,
                   verify_checksum: bool = True, source: str = "payload") -> Iterator[Event]:
    """The key events of a DUMP payload (``KeyStart``, value batches; no ``KeyEnd``).
    Checks the CRC-64 (a zero CRC is not special here) and the version; version >= 80
    means Valkey's type table (byte 22 is HASH_2)."""
    version = payload_version(payload)
    if verify_checksum:
        stored = int.from_bytes(payload[-8:], "little")
        computed = crc64.crc64(payload[:-8])
        if stored != computed:
            raise ChecksumMismatch(f"DUMP payload checksum {stored:016x}, content gives "
                                   f"{computed:016x}", source=source,
                                   offset=len(payload) - 8, key=key)
    valkey = version >= 80
    if (valkey and version not in S.VALKEY_VERSIONS) or (
            not valkey and version > S.REDIS_MAX_VERSION):
        raise UnsupportedVersion(f"DUMP payload of RDB version {version}", source=source,
                                 offset=len(payload) - 10, key=key)
    body = payload[:-10]
    inp = Input(io.BytesIO(body), source, size=len(body), checksum=False)
    tp = inp.read_byte()
    reader = V.readers(valkey).get(tp)
    if reader is None:
        raise CorruptInput(f"unknown type byte {tp} in a DUMP payload", source=source,
                           offset=0, key=key)
    ctx = V.KeyCtx(db, key, tp, None, None, None, 0, valkey)
    try:
        yield from reader(inp, ctx)
    except ParseError as exc:
        raise exc.located(source, 1, key) from None
    if inp.base + inp.pos != len(body):
        raise CorruptInput(f"{len(body) - inp.base - inp.pos} bytes after the value",
                           source=source, offset=inp.base + inp.pos, key=key)
