"""Serialized sizes for keys that have none: those a replayed AOF builds.

A key read from an RDB carries the size of its record in the file (``KeyEnd.size``). A
key rebuilt by replaying an AOF's commands has no record, so ``with_rdb_sizes`` gives it
the size of the record the RDB writer would write for it (FORMAT.md §3): ``[0xFC <8-byte
expiry>] <type byte> <rdb-string key> <value>``, the value as in a DUMP payload without
its 10-byte footer (``rdbtools.rdb.payload.encode_payload``: ``<type byte> <value> <u16
version> <u64 CRC>``). The RDB version is that of the AOF's RDB preamble or base when
the writer can write it, else ``DEFAULT_VERSION``. One key at a time is held.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rdbtools.errors import WriteError
from rdbtools.events import Event, Header, KeyEnd, KeyStart, StringValue
from rdbtools.rdb.payload import encode_payload
from rdbtools.rdb.targets import WRITABLE_VERSIONS

DEFAULT_VERSION = 12
"""RDB 12 (Redis 7.4): the writer's newest version, which holds every type."""
_FOOTER = 10
_EXPIRE = 9
"""``0xFC`` and the 8-byte expiry in milliseconds."""


def _string_size(data: bytes, version: int) -> int:
    """The bytes of ``data`` as an rdb-string (length-encoded, maybe an integer or LZF):
    the value of a string key's payload is exactly that."""
    start = KeyStart(db=0, key=b"", type="string", encoding="raw", rdb_type=0)
    return len(encode_payload(start, [StringValue(data)], version)) - 1 - _FOOTER


def record_size(start: KeyStart, values: Iterable[Event], version: int = DEFAULT_VERSION,
                ) -> int | None:
    """The bytes of the RDB record of one key (``start`` and its value events), or
    ``None`` when RDB ``version`` cannot hold it (an empty key, a type too new)."""
    try:
        payload = encode_payload(start, values, version, losses=[])
    except WriteError:
        return None
    expire = _EXPIRE if start.expire_ms is not None else 0
    return expire + len(payload) - _FOOTER + _string_size(start.key, version)


def with_rdb_sizes(events: Iterable[Event]) -> Iterator[Event]:
    """``events`` with every ``KeyEnd`` of size 0 given its ``record_size`` (a key the
    RDB version cannot hold keeps 0)."""
    version = DEFAULT_VERSION
    start: KeyStart | None = None
    held: list[Event] = []
    for ev in events:
        if start is None:
            if isinstance(ev, KeyStart):
                start = ev
            elif isinstance(ev, Header) and ev.version in WRITABLE_VERSIONS:
                version = ev.version
            else:
                yield ev
            continue
        if not isinstance(ev, KeyEnd):
            held.append(ev)
            continue
        size = ev.size or record_size(start, held, version)
        yield start
        yield from held
        yield KeyEnd(ev.key, size or 0, ev.value_offset, ev.offset) if size != ev.size else ev
        start = None
        held = []
