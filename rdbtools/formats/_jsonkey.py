"""One key as one JSON object, written while its events arrive.

``KeyJson`` turns ``KeyStart``, the key's value events and ``KeyEnd`` into the object the
JSON Lines and JSON writers share (schema: ``docs/jsonl-schema.md``). Lists, sets, sorted
sets and stream entries are written batch by batch; a string and a hash are held in a
``ItemSpool`` (memory up to a budget, then a temporary file) because their JSON form depends
on the whole value: a string is a JSON string only if all its bytes are valid UTF-8, and
a hash is an object only if every field name is.
"""

from __future__ import annotations

import base64
import codecs
from collections.abc import Callable
from typing import Any

from rdbtools.errors import WriteError, key_text
from rdbtools.events import (
    Event,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    NotReplayed,
    SetMembers,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamIdmp,
    StreamMeta,
    StringValue,
    ZSetMembers,
)
from rdbtools.formats.jsontext import (
    b64,
    decode_all,
    encode_json,
    jbytes,
    jbytes_items,
    jid,
    jopt_bytes,
    jopt_id,
    jopt_int,
    jscored_items,
    quote,
)
from rdbtools.formats.module_json import module_member
from rdbtools.spool import ItemSpool

_ENCODING_TEXT: dict[str, str] = {}
"""JSON text of each encoding name met so far."""
_DEFER_CHECK = 1 << 20
"""A first string piece up to this size is held in memory and judged at the end."""
_B64_CHUNK = 3 * (1 << 16)
"""Bytes base64-encoded at a time when a spilled string is written (a multiple of 3)."""

_EVENTS_OF_TYPE: dict[str, tuple[type, ...]] = {
    "string": (StringValue,),
    "list": (ListItems,),
    "set": (SetMembers,),
    "zset": (ZSetMembers,),
    "hash": (HashFields,),
    "stream": (StreamEntries, StreamMeta, StreamGroup, StreamIdmp),
    "module": (ModuleValue,),
    "not-replayed": (NotReplayed,),
}


def _entry(entry: StreamEntry) -> str:
    pairs = ",".join(f"[{jbytes(f)},{jbytes(v)}]" for f, v in entry.fields)
    return f"[{jid(entry.id)},[{pairs}]]"


def _group(group: StreamGroup) -> str:
    pending = ",".join(
        f"[{jid(p.id)},{jopt_bytes(p.consumer)},{p.delivery_time_ms},{p.delivery_count}]"
        for p in group.pending
    )
    consumers = ",".join(
        f'{{"name":{jbytes(c.name)},"seen_time_ms":{c.seen_time_ms},'
        f'"active_time_ms":{jopt_int(c.active_time_ms)},'
        f'"pending":[{",".join(jid(i) for i in c.pending)}]}}'
        for c in group.consumers
    )
    return (
        f'{{"name":{jbytes(group.name)},"last_delivered_id":{jid(group.last_delivered_id)},'
        f'"entries_read":{jopt_int(group.entries_read)},"pending":[{pending}],'
        f'"consumers":[{consumers}]}}'
    )


def _idmp(idmp: StreamIdmp) -> str:
    producers = ",".join(
        f'{{"name":{jbytes(name)},"iids":[{",".join(f"[{jbytes(i)},{jid(s)}]" for i, s in iids)}]}}'
        for name, iids in idmp.producers
    )
    return (
        f'{{"duration":{idmp.duration},"max_entries":{idmp.max_entries},'
        f'"producers":[{producers}],"iids_added":{idmp.iids_added},'
        f'"iids_duplicates":{idmp.iids_duplicates}}}'
    )


class _HashBatch:
    """One batch of hash fields held until the hash ends: decoded ``names`` and ``values``
    when all are UTF-8, else ready JSON ``texts`` (name, value) pairs."""

    __slots__ = ("names", "values", "ttls", "texts")

    def __init__(self, names: list[str] | None, values: list[str] | None,
                 ttls: list[int | None], texts: list[tuple[str, str]] | None) -> None:
        self.names = names
        self.values = values
        self.ttls = ttls
        self.texts = texts

    def value_text(self, as_object: bool) -> str:
        if self.names is not None and self.values is not None:
            if as_object:
                return encode_json(dict(zip(self.names, self.values)))[1:-1]
            return encode_json([list(p) for p in zip(self.names, self.values)])[1:-1]
        assert self.texts is not None
        if as_object:
            return ",".join([f"{n}:{v}" for n, v in self.texts])
        return ",".join([f"[{n},{v}]" for n, v in self.texts])

    def ttl_text(self, as_object: bool) -> str:
        if self.names is not None:
            names = [quote(n) for n in self.names]
        else:
            assert self.texts is not None
            names = [n for n, _ in self.texts]
        pairs = [(n, t) for n, t in zip(names, self.ttls) if t is not None]
        if as_object:
            return ",".join([f"{n}:{t}" for n, t in pairs])
        return ",".join([f"[{n},{t}]" for n, t in pairs])


class KeyJson:
    """Writes the keys of an event stream as JSON objects through ``emit``.

    Call ``start`` with a ``KeyStart``, ``value`` with each value event, ``end`` with the
    ``KeyEnd``; ``emit`` receives the text in order (no trailing newline).
    """

    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._key: KeyStart | None = None
        self._first = True
        self._chunks: ItemSpool[bytes] = ItemSpool()
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_ok = True
        self._first_unchecked: bytes | None = None
        self._head = ""
        self.in_key = False
        """Whether a key has started and not ended."""
        self._fields: ItemSpool[_HashBatch] = ItemSpool()
        self._names_utf8 = True
        self._has_ttl = False
        self._stream_entries_open = False
        self._stream_meta = False
        self._stream_groups = 0  # 0 none yet, 1 open, 2 closed
        self._stream_idmp = False
        self._module = False
        self._on: dict[type, Callable[[Any], None]] = {
            StringValue: self._string_value,
            ListItems: self._list_items,
            SetMembers: self._set_members,
            ZSetMembers: self._zset_members,
            HashFields: self._hash_fields,
            NotReplayed: self._not_replayed,
            ModuleValue: self._module_value,
            StreamEntries: self._stream_entries,
            StreamMeta: self._stream_meta_value,
            StreamGroup: self._stream_group,
            StreamIdmp: self._stream_idmp_value,
        }

    def start(self, ks: KeyStart) -> None:
        """Begin a key: write its attributes and open its value."""
        if self._key is not None:
            raise WriteError(f"key {key_text(ks.key)} starts inside key {key_text(self._key.key)}")
        if ks.type not in _EVENTS_OF_TYPE:
            raise WriteError(f"key {key_text(ks.key)}: unknown type {ks.type!r}")
        self._key = ks
        self.in_key = True
        self._first = True
        tp = ks.type
        enc = _ENCODING_TEXT.get(ks.encoding)
        if enc is None:
            enc = _ENCODING_TEXT[ks.encoding] = quote(ks.encoding)
        head = (
            f'{{"db":{ks.db},"key":{jbytes(ks.key)},"type":"{tp}","encoding":{enc},'
            f'"expire_at_ms":{jopt_int(ks.expire_ms)}'
        )
        if ks.idle is not None:
            head += f',"idle":{ks.idle}'
        if ks.freq is not None:
            head += f',"freq":{ks.freq}'
        if tp == "string":
            self._first_unchecked = None
            self._utf8.reset()
            self._utf8_ok = True
            self._head = head  # written with the value, in one piece, at the end
            return
        elif tp in ("list", "set", "zset"):
            head += ',"value":['
        elif tp == "hash":
            self._names_utf8 = True
            self._has_ttl = False
        elif tp == "stream":
            head += ',"value":{"entries":['
            self._stream_entries_open = True
            self._stream_meta = False
            self._stream_groups = 0
            self._stream_idmp = False
        else:
            self._module = False
        self._emit(head)

    def value(self, ev: Event) -> None:
        """Write (or hold) one value batch of the current key."""
        ks = self._key
        if ks is None:
            raise WriteError(f"{type(ev).__name__} outside a key")
        tp = type(ev)
        if tp not in _EVENTS_OF_TYPE[ks.type]:
            raise WriteError(f"key {key_text(ks.key)}: {tp.__name__} in a {ks.type} key")
        self._on[tp](ev)

    def _string_value(self, ev: StringValue) -> None:
        self._string_piece(ev.data)

    def _list_items(self, ev: ListItems) -> None:
        self._array(jbytes_items(ev.items))

    def _set_members(self, ev: SetMembers) -> None:
        self._array(jbytes_items(ev.members))

    def _zset_members(self, ev: ZSetMembers) -> None:
        self._array(jscored_items(ev.members))

    def _not_replayed(self, ev: NotReplayed) -> None:
        self._module = True
        self._emit(f',"value":{{"not_replayed":{encode_json(ev.names)}}}')

    def _module_value(self, ev: ModuleValue) -> None:
        ks = self._key
        assert ks is not None
        if self._module:
            raise self._misplaced("two module values")
        self._module = True
        self._emit(
            f',"value":{{"module":{quote(ev.module_name)},'
            f'"module_version":{ev.module_version},"payload":{b64(ev.payload)}'
            + module_member(ev.decoded)
            + (',"pre_ga":true}' if ks.rdb_type == 6 else "}")
        )

    def end(self, ke: KeyEnd, suffix: str = "") -> None:
        """Finish the current key: write what was held, close the object, then write
        ``suffix``."""
        ks = self._key
        if ks is None:
            raise WriteError(f"KeyEnd for {key_text(ke.key)} outside a key")
        tp = ks.type
        try:
            if tp == "string":
                if self._chunks.count == 0:  # the usual lone piece, written in one go
                    head, self._head = self._head, ""
                    single, self._first_unchecked = self._first_unchecked, None
                    self._emit(head + ',"value":' + jbytes(single or b"") + "}" + suffix)
                else:
                    self._string_end(suffix)
            elif tp in ("list", "set", "zset"):
                self._emit("]}" + suffix)
            elif tp == "hash":
                self._hash_end(suffix)
            elif tp == "stream":
                self._stream_end(suffix)
            elif not self._module:
                self._emit(',"value":null}' + suffix)
            else:
                self._emit("}" + suffix)
        finally:
            self._key = None
            self.in_key = False
            if self._chunks.count:
                self._chunks.close()
            if self._fields.count:
                self._fields.close()

    # ------------------------------------------------------------------ arrays

    def _array(self, text: str) -> None:
        if not text:
            return
        if self._first:
            self._first = False
            self._emit(text)
        else:
            self._emit("," + text)

    # ------------------------------------------------------------------ strings

    def _string_piece(self, data: bytes) -> None:
        # A lone small piece (the usual case) is held as it is and judged once, at the
        # end, by jbytes; once a second piece (or a big one, which may go to the spool
        # file) arrives, pieces go to the spool and are checked as they come.
        if self._first_unchecked is None and self._chunks.count == 0:
            if len(data) <= _DEFER_CHECK:
                self._first_unchecked = data
                return
        elif self._first_unchecked is not None:
            first, self._first_unchecked = self._first_unchecked, None
            self._check_utf8(first)
            self._chunks.append(first, len(first))
        self._check_utf8(data)
        self._chunks.append(data, len(data))

    def _check_utf8(self, data: bytes) -> None:
        try:
            self._utf8.decode(data)
        except UnicodeDecodeError:
            self._utf8_ok = False

    def _string_end(self, suffix: str) -> None:
        """A string that went to the spool (several pieces, or a big one); ``end`` writes
        the usual lone piece itself."""
        head, self._head = self._head, ""
        self._emit(head)
        if self._utf8_ok:
            try:
                self._utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                self._utf8_ok = False
        if self._utf8_ok:
            decoder = codecs.getincrementaldecoder("utf-8")()
            self._emit(',"value":"')
            for piece in self._chunks:
                self._emit(quote(decoder.decode(piece))[1:-1])
            self._emit('"}' + suffix)
        else:
            self._emit(',"value":{"b64":"')
            carry = b""
            for piece in self._chunks:
                data = carry + piece
                cut = len(data) - len(data) % 3
                for pos in range(0, cut, _B64_CHUNK):
                    self._emit(base64.b64encode(data[pos : min(pos + _B64_CHUNK, cut)]).decode())
                carry = data[cut:]
            self._emit(base64.b64encode(carry).decode() + '"}}' + suffix)

    # ------------------------------------------------------------------ hashes

    def _hash_fields(self, ev: HashFields) -> None:
        """Hold one batch: as decoded text when every name and value is UTF-8 (then the
        C JSON encoder writes the whole batch at the end), else as JSON pieces."""
        fields = ev.fields
        ttls = [t for _, _, t in fields]
        if ttls.count(None) != len(ttls):
            self._has_ttl = True
        names = decode_all([f for f, _, _ in fields])
        values = decode_all([v for _, v, _ in fields]) if names is not None else None
        if names is not None and values is not None:
            size = sum(map(len, names)) + sum(map(len, values)) + 16 * len(fields)
            self._fields.append(_HashBatch(names, values, ttls, None), size)
            return
        size = sum([len(f) + len(v) for f, v, _ in fields]) + 16 * len(fields)
        texts = []
        for name, value, _ in fields:
            try:
                name_text = quote(name.decode("utf-8"))
            except UnicodeDecodeError:
                name_text = b64(name)
                self._names_utf8 = False
            texts.append((name_text, jbytes(value)))
        self._fields.append(_HashBatch(None, None, ttls, texts), size)

    def _hash_end(self, suffix: str) -> None:
        as_object = self._names_utf8
        self._emit(',"value":{' if as_object else ',"value":[')
        first = True
        for batch in self._fields:
            text = batch.value_text(as_object)
            if text:
                self._emit(text if first else "," + text)
                first = False
        self._emit("}" if as_object else "]")
        if self._has_ttl:
            self._emit(',"field_expires":{' if as_object else ',"field_expires":[')
            first = True
            for batch in self._fields:
                text = batch.ttl_text(as_object)
                if text:
                    self._emit(text if first else "," + text)
                    first = False
            self._emit(("}}" if as_object else "]}") + suffix)
        else:
            self._emit("}" + suffix)

    # ------------------------------------------------------------------ streams

    def _close_entries(self) -> None:
        if self._stream_entries_open:
            self._emit("]")
            self._stream_entries_open = False

    def _misplaced(self, what: str) -> WriteError:
        assert self._key is not None
        return WriteError(f"key {key_text(self._key.key)}: {what}")

    def _stream_entries(self, ev: StreamEntries) -> None:
        if not self._stream_entries_open:
            raise self._misplaced("stream entries after stream metadata")
        self._array(",".join([_entry(e) for e in ev.entries]))

    def _stream_meta_value(self, ev: StreamMeta) -> None:
        if self._stream_meta or self._stream_groups:
            raise self._misplaced("stream metadata out of order")
        self._close_entries()
        self._stream_meta = True
        self._emit(
            f',"last_id":{jid(ev.last_id)},"first_id":{jopt_id(ev.first_id)},'
            f'"max_deleted_id":{jopt_id(ev.max_deleted_id)},'
            f'"entries_added":{jopt_int(ev.entries_added)}'
        )

    def _stream_group(self, ev: StreamGroup) -> None:
        if self._stream_groups == 2:
            raise self._misplaced("stream group after idempotency state")
        self._close_entries()
        self._emit((',"groups":[' if self._stream_groups == 0 else ",") + _group(ev))
        self._stream_groups = 1

    def _stream_idmp_value(self, ev: StreamIdmp) -> None:
        if self._stream_idmp:
            raise self._misplaced("two stream idempotency states")
        self._close_entries()
        self._close_groups()
        self._stream_idmp = True
        self._emit(f',"idmp":{_idmp(ev)}')

    def _close_groups(self) -> None:
        if self._stream_groups == 0:
            self._emit(',"groups":[]')
        elif self._stream_groups == 1:
            self._emit("]")
        self._stream_groups = 2

    def _stream_end(self, suffix: str) -> None:
        self._close_entries()
        if not self._stream_meta:
            self._emit(',"last_id":null,"first_id":null,"max_deleted_id":null,"entries_added":null')
        self._close_groups()
        self._emit("}}" + suffix)
