"""The RDB writer: accepts the events the readers yield and writes an RDB file of any
target version from 6 (Redis 2.6) to 12 (Redis 7.4/8.x), or Valkey 9 ``VALKEY080``
(FORMAT.md §11.2).

Each key is encoded as the target's server would encode it (``_keyenc``,
``_streamenc``); what the target cannot hold is converted or dropped and reported in
the ``LossReport`` (``strict=True`` makes any loss a ``WriteError``). Output is
streamed: the writer keeps one key at a time, and a big key spills to a temporary file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from struct import Struct
from typing import Any, BinaryIO, cast

from rdbtools import _spec as S
from rdbtools import crc64
from rdbtools.errors import WriteError, key_text
from rdbtools.events import (
    Aux,
    End,
    Event,
    Function,
    Header,
    KeyEnd,
    KeyStart,
    ModuleAux,
    ResizeDb,
    SelectDb,
    SlotImport,
    SlotInfo,
)
from rdbtools.rdb import _encoders as C
from rdbtools.rdb._keyenc import (
    WHOLE,
    EmptyKey,
    HashEncoder,
    KeyEncoder,
    ListEncoder,
    ModuleEncoder,
    SetEncoder,
    StringEncoder,
    ZSetEncoder,
    check_module_payload,
)
from rdbtools.rdb._streamenc import StreamEncoder
from rdbtools.rdb.targets import Target, Thresholds

_LE64S = Struct("<q").pack
_LE64U = Struct("<Q").pack
FLUSH_AT = 1 << 20

ENCODERS: dict[str, type[KeyEncoder]] = {
    "string": StringEncoder,
    "list": ListEncoder,
    "set": SetEncoder,
    "zset": ZSetEncoder,
    "hash": HashEncoder,
    "stream": StreamEncoder,
    "module": ModuleEncoder,
}

GENERATED_AUX = frozenset({b"redis-ver", b"valkey-ver", b"redis-bits", b"ctime", b"used-mem",
                           b"aof-base", b"aof-preamble"})
"""AUX fields the writer writes itself; the source's values of these are not copied."""


@dataclass(slots=True)
class Loss:
    """One thing the target could not hold."""

    what: str
    db: int | None = None
    key: bytes | None = None

    def __str__(self) -> str:
        if self.key is None:
            return self.what
        return f"db {self.db} key {key_text(self.key)}: {self.what}"


@dataclass(slots=True)
class LossReport:
    """What a conversion converted away or dropped."""

    losses: list[Loss] = field(default_factory=list)
    dropped_keys: int = 0
    keys: int = 0

    def __bool__(self) -> bool:
        return bool(self.losses)

    def lines(self) -> list[str]:
        return [str(x) for x in self.losses]


_MAYBE_UNSUPPORTED = frozenset({"stream", "module", "not-replayed"})
"""The key types ``unsupported`` may refuse."""


def unsupported(ks: KeyStart, target: Target) -> str | None:
    """Why ``target`` cannot hold the key at all (``None`` if it can)."""
    if ks.type == "stream" and not target.has_streams:
        return "RDB < 9 has no streams"
    if ks.type == "not-replayed":
        return "AOF replay did not compute its value (aoftool rewrite keeps its commands)"
    if ks.type == "module":
        if not target.has_modules:
            return "RDB < 8 has no modules"
        if ks.rdb_type == S.TYPE_MODULE_PRE_GA:
            return "pre-release module format (only its module can read it)"
    return None


def _ignore(ev: Event) -> None:
    """A record the writer makes itself (the header, the end)."""


class RdbWriter:
    """Write events as an RDB file to ``fp``.

    ``version`` is 6..12 or ``"valkey"``; ``aux`` adds AUX fields; ``thresholds`` sets the
    encoding limits (server defaults otherwise); ``checksum=False`` stores a zero CRC;
    ``strict=True`` raises ``WriteError`` at the first loss. Call ``close()`` (or use
    ``write_all``) to finish the file; nothing after the last complete write is valid
    RDB until then.
    """

    def __init__(
        self,
        fp: BinaryIO,
        version: int | str = 11,
        *,
        thresholds: Thresholds | None = None,
        aux: dict[bytes, bytes] | None = None,
        checksum: bool = True,
        strict: bool = False,
        ctime: int | None = None,
    ) -> None:
        self.fp = fp
        self.target = Target.of(version)
        self.th = thresholds or Thresholds()
        self.checksum = checksum
        self.strict = strict
        self.report = LossReport()
        self.crc = 0
        self.out = bytearray()
        self.db: int | None = None
        self.resize: dict[int, tuple[int, int]] = {}
        self.pending_db: int | None = None
        self.key: KeyEncoder | None = None
        self.skip_key: KeyStart | None = None
        self.current: KeyStart | None = None
        self.closed = False
        self._lru_lfu = self.target.has_lru_lfu
        self._compress = self.th.rdbcompression
        self._records: dict[type[Event], Callable[[Any], None]] = {
            SelectDb: self._select_db, ResizeDb: self._resize_db, Aux: self._aux_event,
            Function: self._function, ModuleAux: self._module_aux, SlotInfo: self._slot_info,
            SlotImport: self._slot_import, Header: _ignore, End: _ignore,
        }
        """The records outside keys, by event class."""
        self._begin(aux or {}, ctime)

    # ------------------------------------------------------------------ output

    def _emit(self, data: bytes) -> None:
        self.out += data
        if len(self.out) >= FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        if self.out:
            if self.checksum:
                self.crc = crc64.update(self.out, self.crc)
            self.fp.write(self.out)
            self.out = bytearray()

    def _begin(self, aux: dict[bytes, bytes], ctime: int | None) -> None:
        t = self.target
        self._emit(t.header)
        if not t.has_aux:
            if aux:
                self.lose("AUX fields dropped: RDB < 7 has none")
            return
        fields = {b"valkey-ver" if t.valkey else b"redis-ver": t.server_version.encode(),
                  b"redis-bits": b"64",
                  b"ctime": b"%d" % (int(time.time()) if ctime is None else ctime),
                  b"used-mem": b"0"}
        if t.level >= 10:
            fields[b"aof-base"] = b"0"
        fields.update(aux)
        for name, value in fields.items():
            self._aux(name, value)

    def _aux(self, name: bytes, value: bytes) -> None:
        self._emit(b"\xfa" + C.enc_string(name) + C.enc_string(value))

    # ------------------------------------------------------------------ losses

    def lose(self, what: str, key: KeyStart | None = None) -> None:
        loss = Loss(what, key.db if key else None, key.key if key else None)
        if self.strict:
            raise WriteError(f"RDB {self.target.version} cannot hold this: {loss}")
        self.report.losses.append(loss)

    # ------------------------------------------------------------------ events

    def write(self, ev: Event) -> None:
        """Write one event (events must come in reader order: a key's value events
        between its ``KeyStart`` and ``KeyEnd``)."""
        if self.closed:
            raise WriteError("write after close")
        tp = type(ev)
        key = self.key
        if key is not None:
            if tp is KeyEnd:
                self._finish_key(key)
            else:
                key.add(ev)
            return
        if tp is KeyStart and self.skip_key is None:
            self._start_key(cast(KeyStart, ev))
            return
        if self.skip_key is not None:
            if tp is KeyEnd:
                self.skip_key = None
            return
        handler = self._records.get(tp)
        if handler is None:
            raise WriteError(f"the RDB writer does not take {tp.__name__} events")
        handler(ev)

    def write_all(self, events: Iterable[Event]) -> LossReport:
        """Write every event, then ``close()``; return the loss report."""
        if self.closed:
            raise WriteError("write after close")
        write = self.write
        target, th = self.target, self.th
        start_key = self._start_key
        finish_key = self._finish_key
        it = iter(events)
        for ev in it:
            # the common cases of ``write``, inlined
            key = self.key
            if key is not None:
                if type(ev) is KeyEnd:
                    finish_key(key)
                else:
                    key.add(ev)
            elif type(ev) is KeyStart and self.skip_key is None:
                assert isinstance(ev, KeyStart)  # narrows for mypy
                whole = WHOLE.get(ev.type)
                if whole is not None:
                    # a value in one event (then KeyEnd) is written at once when it is
                    # simple enough (``_keyenc.WHOLE``), else it goes to the encoder
                    value = next(it, None)
                    end = (next(it, None) if value is not None and type(value) is not KeyEnd
                           else None)
                    if type(end) is KeyEnd:
                        assert value is not None
                        done = whole(ev, value, target, th)
                        if done is not None:
                            self._record(ev, done[0], done[1], b"", b"")
                            continue
                    start_key(ev)
                    for pending in (value, end):
                        if pending is not None:
                            write(pending)
                else:
                    start_key(ev)
                key = self.key
                if key is None:
                    continue
                # the key's value events, up to its KeyEnd
                add = key.add
                for ev in it:
                    if type(ev) is KeyEnd:
                        finish_key(key)
                        break
                    add(ev)
            else:
                write(ev)
        self.close()
        return self.report

    def _select_db(self, ev: SelectDb) -> None:
        self.pending_db = ev.db

    def _resize_db(self, ev: ResizeDb) -> None:
        if self.pending_db is not None:
            self.resize[self.pending_db] = (ev.keys, ev.expires)

    def _aux_event(self, ev: Aux) -> None:
        if ev.name in GENERATED_AUX:
            return
        if self.target.has_aux:
            self._aux(ev.name, ev.value)
        elif not any(x.key is None and x.what.startswith("AUX") for x in self.report.losses):
            self.lose("AUX fields dropped: RDB < 7 has none")

    def _slot_info(self, ev: SlotInfo) -> None:
        if self.target.has_slot_info:
            self._emit(b"\xf4" + C.enc_len(ev.slot) + C.enc_len(ev.keys) + C.enc_len(ev.expires))

    def _slot_import(self, ev: SlotImport) -> None:
        self.lose("a Valkey slot-import record dropped")

    def _function(self, ev: Function) -> None:
        """FUNCTION2 (0xF5): the library code as one rdb-string (RDB 10+)."""
        if not self.target.has_functions:
            self.lose(f"function library dropped: RDB {self.target.version} has no functions")
            return
        code = ev.code
        if ev.pre_ga and ev.name is not None and not code.startswith(b"#!"):
            engine = (ev.engine or b"lua").lower()
            code = b"#!" + engine + b" name=" + ev.name + b"\n" + code
        self._emit(b"\xf5" + C.enc_string(code))

    def _module_aux(self, ev: ModuleAux) -> None:
        """MODULE_AUX (0xF7): module id, UINT opcode 2, ``when``, the opcode stream."""
        if not self.target.has_module_aux:
            self.lose(f"module aux data of {ev.module_name!r} dropped: RDB < 9")
            return
        check_module_payload(
            ev.payload, lambda m: WriteError(f"module aux {ev.module_name!r}: {m}"))
        self._emit(b"\xf7" + C.enc_len(ev.module_id) + C.enc_len(2) + C.enc_len(ev.when)
                   + ev.payload)

    def _start_key(self, ks: KeyStart) -> None:
        t = self.target
        if ks.type in _MAYBE_UNSUPPORTED:
            why = unsupported(ks, t)
            if why is not None:
                self.lose(f"{ks.type} key dropped: {why}", ks)
                self.report.dropped_keys += 1
                self.skip_key = ks
                return
        enc = ENCODERS.get(ks.type)
        if enc is None:
            raise WriteError(f"unknown key type {ks.type!r} (key {key_text(ks.key)})")
        self.current = ks
        self.key = enc(ks, t, self.th, self._lose_current)

    def _lose_current(self, what: str) -> None:
        """A loss of the key being written (the encoders report through this)."""
        self.lose(what, self.current)

    def _finish_key(self, key: KeyEncoder) -> None:
        ks = key.start
        self.key = None
        try:
            try:
                tp, head, spool, tail = key.finish()
            except EmptyKey:
                self.lose(f"empty {ks.type} dropped: servers do not keep empty keys", ks)
                self.report.dropped_keys += 1
                return
            if spool.file is None:
                self._record(ks, tp, head, spool.buf, tail)
                return
            self._record(ks, tp, head, b"", b"")
            for chunk in spool.chunks():
                self._emit(chunk)
            self._emit(tail)
        finally:
            if key.spool.file is not None:  # an unspilled spool goes with its encoder
                key.spool.close()

    def _record(self, ks: KeyStart, tp: int, head: bytes, body: bytes | bytearray,
                tail: bytes) -> None:
        """Write one key record: its attributes, type, key, then ``head body tail``."""
        if ks.db != self.db:
            self._select(ks.db)
        expire = ks.expire_ms
        if self._lru_lfu and (ks.idle is not None or ks.freq is not None):
            out = self.out
            if expire is not None:
                out += b"\xfc" + _LE64S(expire)
                expire = None
            if ks.idle is not None:
                out += b"\xf8" + C.enc_len(ks.idle)
            if ks.freq is not None:
                out += bytes((0xF9, ks.freq & 0xFF))
        C.key_record(self.out, expire, tp, ks.key, self._compress, head, body, tail)
        if len(self.out) >= FLUSH_AT:
            self._flush()
        self.report.keys += 1

    def _select(self, db: int) -> None:
        self._emit(b"\xfe" + C.enc_len(db))
        self.db = db
        hint = self.resize.get(db)
        if hint is not None and self.target.has_aux:
            self._emit(b"\xfb" + C.enc_len(hint[0]) + C.enc_len(hint[1]))

    def close(self) -> None:
        """Write EOF and the CRC-64 trailer (zero when checksums are off) and flush."""
        if self.closed:
            return
        if self.key is not None:
            raise WriteError(f"input ended inside key {key_text(self.key.start.key)}")
        self._emit(b"\xff")
        self._flush()
        self._emit(_LE64U(self.crc if self.checksum else 0))
        self._flush()
        self.closed = True


def write_rdb(events: Iterable[Event], fp: BinaryIO, version: int | str = 11,
              **options: object) -> LossReport:
    """Write ``events`` to ``fp`` as an RDB of ``version``; return the loss report."""
    return RdbWriter(fp, version, **options).write_all(events)  # type: ignore[arg-type]
