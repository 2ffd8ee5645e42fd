"""The event model: what every reader yields and every writer and operation accepts.

Readers turn bytes into a flat stream of these events. File-level records (``Header``,
``Aux``, ``SelectDb`` ...) stand alone; a key arrives as ``KeyStart``, then zero or more
bounded value batches (``StringValue``, ``ListItems``, ``SetMembers``, ``ZSetMembers``,
``HashFields``, ``StreamEntries``, ``StreamMeta``, ``StreamGroup``, ``ModuleValue``), then
``KeyEnd``. Values stay ``bytes``; decoding text is the business of output formats.
Every event carries ``offset``: the byte position in its source where it starts.

``KeyFolder`` folds the events of one key into its whole value, once for every caller:
``records()`` (whole ``Record`` objects for callers that want one value at a time),
``diff``'s canonical form and the keyspace AOF replay loads. It is built on the event
stream, not on a second parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

StreamId = tuple[int, int]
"""A stream entry id ``(ms, seq)``."""


# --------------------------------------------------------------------------- file level


@dataclass(frozen=True, slots=True)
class Header:
    """``REDIS0011`` / ``VALKEY080``: the magic (``"REDIS"`` or ``"VALKEY"``) and version."""

    version: int
    magic: str
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Aux:
    """Opcode 0xFA AUX: a ``name`` / ``value`` pair of rdb-strings."""

    name: bytes
    value: bytes
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SelectDb:
    """Opcode 0xFE SELECTDB: following keys belong to database ``db``."""

    db: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ResizeDb:
    """Opcode 0xFB RESIZEDB: size hints for the current database."""

    keys: int
    expires: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Function:
    """A function library: opcode 0xF5 FUNCTION2 (``code`` only) or 0xF6 FUNCTION_PRE_GA
    (Redis 7.0 release candidates: ``name``, ``engine``, ``description`` and ``code``)."""

    code: bytes
    offset: int = 0
    name: bytes | None = None
    engine: bytes | None = None
    description: bytes | None = None
    pre_ga: bool = False

    @property
    def library(self) -> bytes:
        """The library's name: ``name`` of a pre-GA record, else the ``name=`` of the
        code's shebang line (``library_name_in``), else the whole code (a damaged library
        still gets a name)."""
        if self.name is not None:
            return bytes(self.name)
        code = bytes(self.code)
        return library_name_in(code) or code


_LIBRARY_NAME = re.compile(rb"#!\w+[^\n]*?\bname=(\S+)")


def library_name_in(code: bytes) -> bytes | None:
    """The ``name=`` of a library's shebang line (``#!lua name=mylib``), as ``FUNCTION
    LOAD`` reads it; ``None`` when the code has none."""
    m = _LIBRARY_NAME.match(code)
    return m.group(1) if m else None


@dataclass(frozen=True, slots=True)
class ModuleAux:
    """Opcode 0xF7 MODULE_AUX. ``payload`` is the module-opcode stream after ``when``,
    including the terminating EOF opcode, kept verbatim so it can be written back."""

    module_id: int
    module_name: str
    module_version: int
    when: int
    payload: bytes
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """Opcode 0xF4 SLOT_INFO (Redis 7.4+ cluster mode)."""

    slot: int
    keys: int
    expires: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SlotImport:
    """Opcode 0xF3 in Valkey-magic files: SLOT_IMPORT, an in-progress slot migration."""

    job_name: bytes
    ranges: tuple[tuple[int, int], ...]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class End:
    """Opcode 0xFF EOF and the checksum trailer.

    ``checksum_state`` is one of ``"ok"`` (stored CRC64 equals the computed one),
    ``"zero"`` (eight zero bytes: the writer did not compute it), ``"absent"`` (RDB
    version < 5 has no trailer), ``"skipped"`` (verification turned off). A mismatch is
    never an event: it raises ``ChecksumMismatch``.
    """

    checksum: int | None
    computed: int | None
    checksum_state: str
    offset: int = 0


# --------------------------------------------------------------------------- per key


@dataclass(frozen=True, slots=True)
class KeyStart:
    """The start of a key record.

    ``type`` is the logical type (``string list set zset hash stream module``),
    ``encoding`` the encoding stored in the file (``raw int lzf linkedlist ziplist
    quicklist intset listpack listpackex hashtable skiplist zipmap stream module``),
    ``rdb_type`` the type byte. ``length`` is the element count when the file states it
    before the elements (``None`` otherwise). ``offset`` is where the key's record starts
    (its first attribute opcode, else its type byte).
    """

    db: int
    key: bytes
    type: str
    encoding: str
    rdb_type: int
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None
    length: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class StringValue:
    """A piece of a string value; a big string arrives in several pieces, in order."""

    data: bytes
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ListItems:
    """Consecutive list elements, head to tail."""

    items: tuple[bytes, ...]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class SetMembers:
    """Set members (no order)."""

    members: tuple[bytes, ...]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ZSetMembers:
    """Sorted-set ``(member, score)`` pairs in file order."""

    members: tuple[tuple[bytes, float], ...]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class HashFields:
    """Hash ``(field, value, field_expire_ms)`` triples; ``field_expire_ms`` is ``None``
    when the field has no TTL."""

    fields: tuple[tuple[bytes, bytes, int | None], ...]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One live stream entry: its id and its ``(field, value)`` pairs."""

    id: StreamId
    fields: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class StreamEntries:
    """Live entries of a stream, ascending by id (deleted entries are not reported)."""

    entries: tuple[StreamEntry, ...]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class StreamMeta:
    """Stream metadata that follows the entries. Fields a version does not store are
    ``None`` (``first_id``, ``max_deleted_id``, ``entries_added`` before stream v2)."""

    length: int
    last_id: StreamId
    first_id: StreamId | None = None
    max_deleted_id: StreamId | None = None
    entries_added: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class StreamPending:
    """A group PEL entry: id, owning consumer (``None`` if no consumer claims it),
    last delivery time (ms) and delivery count."""

    id: StreamId
    consumer: bytes | None
    delivery_time_ms: int
    delivery_count: int


@dataclass(frozen=True, slots=True)
class StreamConsumer:
    """A consumer: name, seen time, active time (stream v3+, else ``None``) and the ids
    of its pending entries."""

    name: bytes
    seen_time_ms: int
    active_time_ms: int | None
    pending: tuple[StreamId, ...]


@dataclass(frozen=True, slots=True)
class StreamGroup:
    """A consumer group with its PEL and consumers. ``entries_read`` is ``None`` before
    stream v2 and ``-1`` when the server did not know it."""

    name: bytes
    last_delivered_id: StreamId
    entries_read: int | None
    pending: tuple[StreamPending, ...]
    consumers: tuple[StreamConsumer, ...]
    offset: int = 0


@dataclass(frozen=True, slots=True)
class StreamIdmp:
    """Redis 8.6 stream v4 (type 26) idempotent-producer state, kept for round trips."""

    duration: int
    max_entries: int
    producers: tuple[tuple[bytes, tuple[tuple[bytes, StreamId], ...]], ...]
    iids_added: int
    iids_duplicates: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ModuleData:
    """What a known module type's payload holds (``rdbtools.rdb.module_types``).

    ``type`` is ``json`` (RedisJSON ``ReJSON-RL``), ``bf`` (``MBbloom--``), ``cf``
    (``MBbloomCF``), ``topk`` (``TopK-TYPE``), ``cms`` (``CMSk-TYPE``) or ``tdigest``
    (``TDIS-TYPE``). ``document`` is the JSON document (``json`` only, as ``json.loads``
    gives it); ``header`` the structure's settings and counters under the names its
    ``*.INFO`` command uses; ``allocations`` the byte sizes of the blocks the module
    allocates for the value (its struct, arrays, strings), in order."""

    type: str
    header: dict[str, object]
    document: object = None
    allocations: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ModuleValue:
    """A module value (type 7, or 6 from 4.0 release candidates). ``payload`` is the
    module-opcode stream after the module id, including the terminating EOF opcode, kept
    verbatim so the value can be written back unchanged. ``decoded`` is what the reader
    decoded of a known module type (``None`` for any other module); it takes no part in
    comparisons: the payload is the value."""

    module_id: int
    module_name: str
    module_version: int
    payload: bytes
    offset: int = 0
    decoded: ModuleData | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class NotReplayed:
    """The value of a key (``type`` ``not-replayed``) that AOF replay did not compute: a
    command it does not model touched it. ``commands`` are the commands on the key from
    that one on, in order, as they were; ``aoftool rewrite`` writes them back verbatim.
    ``names`` counts them by command name, in order of first use."""

    commands: tuple[Command, ...]
    offset: int = 0

    @property
    def names(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.commands:
            name = bytes(c.args[0]).upper().decode("utf-8", "replace")
            out[name] = out.get(name, 0) + 1
        return out


@dataclass(frozen=True, slots=True)
class KeyEnd:
    """The end of a key record. The record occupies ``size`` bytes from ``KeyStart.offset``
    (attribute opcodes and type byte included); the value alone is the bytes from
    ``value_offset`` to ``KeyStart.offset + size``."""

    key: bytes
    size: int
    value_offset: int
    offset: int = 0


# --------------------------------------------------------------------------- AOF


@dataclass(frozen=True, slots=True)
class Command:
    """One AOF command: its arguments, the database it applies to, where it starts, and
    the latest ``#TS:`` annotation before it (unix seconds) if any."""

    db: int
    args: tuple[bytes, ...]
    offset: int = 0
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class AofPart:
    """A boundary between the files of a multi-part AOF (``kind`` base/incr/single)."""

    path: str
    kind: str
    offset: int = 0


ValueEvent = (
    StringValue
    | ListItems
    | SetMembers
    | ZSetMembers
    | HashFields
    | StreamEntries
    | StreamMeta
    | StreamGroup
    | StreamIdmp
    | ModuleValue
    | NotReplayed
)
FileEvent = Header | Aux | SelectDb | ResizeDb | Function | ModuleAux | SlotInfo | SlotImport | End
Event = FileEvent | KeyStart | ValueEvent | KeyEnd | Command | AofPart


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class StreamValue:
    """A whole stream, as ``records()`` folds it."""

    entries: tuple[StreamEntry, ...]
    meta: StreamMeta | None
    groups: tuple[StreamGroup, ...]
    idmp: StreamIdmp | None = None


RecordValue = (
    bytes
    | list[bytes]
    | list[tuple[bytes, float]]
    | list[tuple[bytes, bytes, int | None]]
    | StreamValue
    | ModuleValue
    | NotReplayed
)


@dataclass(frozen=True, slots=True)
class Record:
    """One whole key. ``value`` is: ``bytes`` (string); ``list[bytes]`` (list, set);
    ``list[(member, score)]`` (zset); ``list[(field, value, field_expire_ms)]`` (hash);
    ``StreamValue`` (stream); ``ModuleValue`` (module); ``NotReplayed`` (not-replayed)."""

    db: int
    key: bytes
    type: str
    encoding: str
    value: RecordValue
    expire_ms: int | None = None
    idle: int | None = None
    freq: int | None = None
    rdb_type: int = 0
    offset: int = 0
    size: int = 0
    extra: dict[str, object] = field(default_factory=dict)


class KeyFolder:
    """Folds the value events of one key into its whole value: ``begin(KeyStart)``, then
    ``feed()`` each event up to the ``KeyEnd``, then ``end()``. The value is what
    ``Record.value`` holds for the key's type: the string's pieces joined; the list,
    set, sorted-set or hash batches concatenated in file order into one list; a
    ``StreamValue``; the ``ModuleValue`` or ``NotReplayed`` itself. Events that carry
    no value (file-level ones) are ignored.

    ``records()``, the canonical form of ``diff`` and the keyspace that AOF replay
    loads are all built on this one folding."""

    __slots__ = ("start", "_on", "_parts", "_entries", "_groups", "_meta", "_idmp", "_module")

    def __init__(self) -> None:
        self.start: KeyStart | None = None
        self._parts: list[Any] = []
        self._entries: list[StreamEntry] = []
        self._groups: list[StreamGroup] = []
        self._meta: StreamMeta | None = None
        self._idmp: StreamIdmp | None = None
        self._module: ModuleValue | NotReplayed | None = None
        self._on: dict[type, Callable[[Any], None]] = {
            StringValue: self._string,
            ListItems: self._items,
            SetMembers: self._members,
            ZSetMembers: self._members,
            HashFields: self._fields,
            StreamEntries: self._stream_entries,
            StreamMeta: self._stream_meta,
            StreamGroup: self._groups.append,
            StreamIdmp: self._stream_idmp,
            ModuleValue: self._module_value,
            NotReplayed: self._module_value,
        }

    def begin(self, start: KeyStart) -> None:
        """Start folding the key ``start`` opens."""
        self.start = start
        self._parts = []
        if self._entries:
            self._entries.clear()
        if self._groups:
            self._groups.clear()
        self._meta = self._idmp = self._module = None

    def feed(self, ev: Event) -> bool:
        """Take in one event of the key's value; ``False`` (and nothing done) for an
        event that carries no value."""
        on = self._on.get(type(ev))
        if on is None:
            return False
        on(ev)
        return True

    def end(self) -> RecordValue:
        """The whole value of the key begun last (see the class docstring)."""
        assert self.start is not None
        t = self.start.type
        self.start = None
        if t == "string":
            return b"".join(self._parts)
        if t == "stream":
            return StreamValue(tuple(self._entries), self._meta, tuple(self._groups), self._idmp)
        if t == "module" or t == "not-replayed":
            assert self._module is not None
            return self._module
        return self._parts

    def _string(self, ev: StringValue) -> None:
        self._parts.append(ev.data)

    def _items(self, ev: ListItems) -> None:
        self._parts.extend(ev.items)

    def _members(self, ev: SetMembers | ZSetMembers) -> None:
        self._parts.extend(ev.members)

    def _fields(self, ev: HashFields) -> None:
        self._parts.extend(ev.fields)

    def _stream_entries(self, ev: StreamEntries) -> None:
        self._entries.extend(ev.entries)

    def _stream_meta(self, ev: StreamMeta) -> None:
        self._meta = ev

    def _stream_idmp(self, ev: StreamIdmp) -> None:
        self._idmp = ev

    def _module_value(self, ev: ModuleValue | NotReplayed) -> None:
        self._module = ev


def fold_keys(events: Iterable[Event], other: Callable[[Event], None] | None = None,
              skip: Callable[[bytes], bool] | None = None,
              ) -> Iterator[tuple[KeyStart, RecordValue, KeyEnd]]:
    """``(KeyStart, whole value, KeyEnd)`` per key of ``events`` (``KeyFolder``).
    ``other`` is called with each event that carries no part of a value (file-level
    events). A key for which ``skip(key)`` is true is passed over, its value never
    gathered."""
    folder = KeyFolder()
    begin, feed, end = folder.begin, folder.feed, folder.end
    start: KeyStart | None = None
    skipping = False
    for ev in events:
        if isinstance(ev, KeyEnd):
            if start is not None:
                yield start, end(), ev
                start = None
            skipping = False
        elif skipping:
            continue
        elif isinstance(ev, KeyStart):
            if skip is not None and skip(ev.key):
                skipping, start = True, None
                continue
            begin(ev)
            start = ev
        elif not (start is not None and feed(ev)) and other is not None:
            other(ev)


def records(events: Iterable[Event]) -> Iterator[Record]:
    """Fold key events into whole ``Record`` objects (file-level events are dropped).

    This holds one whole key in memory at a time: use the event stream directly where a
    key may be too big for that.
    """
    for start, value, end in fold_keys(events):
        yield Record(
            db=start.db,
            key=start.key,
            type=start.type,
            encoding=start.encoding,
            value=value,
            expire_ms=start.expire_ms,
            idle=start.idle,
            freq=start.freq,
            rdb_type=start.rdb_type,
            offset=start.offset,
            size=end.size,
        )
