"""One JSON document for a whole file, written as the events arrive::

    {"header": {"magic": "REDIS", "version": 10},
     "records": [ ...file-level records before the first key... ],
     "dbs": {"0": [ ...key objects... ], "1": [ ... ]},
     "records_after_keys": [ ...file-level records met after the first key... ],
     "end": {"checksum": "...", "computed": "...", "checksum_state": "ok"}}

Key objects and records are those of the JSON Lines format. Records that a file holds
after its first key (SLOT_INFO, Valkey ``slot-info`` aux fields, ``lua`` aux fields,
after-RDB module aux data) are held in memory until the end; they are small.
"""

from __future__ import annotations

from typing import BinaryIO

from rdbtools.errors import WriteError, key_text
from rdbtools.events import End, Event, Header, KeyEnd, KeyStart
from rdbtools.formats._jsonkey import KeyJson
from rdbtools.formats._records import end_json, header_json, record_json
from rdbtools.sinks import TextSink


class JsonDocumentWriter:
    """Writes an event stream as one JSON document to the binary file ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self._sink = TextSink(out)
        self._key = KeyJson(self._sink.emit)
        self._opened = False
        self._records = 0
        self._db: int | None = None
        self._dbs_done: set[int] = set()
        self._after: list[str] = []
        self._end: End | None = None
        self.keys = 0
        self.skipped: dict[str, int] = {}

    def _open(self, header: Header | None) -> None:
        self._opened = True
        head = "null" if header is None else header_json(header)
        self._sink.emit(f'{{"header":{head},\n"records":[')

    def write(self, ev: Event) -> None:
        """Write one event."""
        if not self._opened:
            self._open(ev if isinstance(ev, Header) else None)
            if isinstance(ev, Header):
                return
        if isinstance(ev, KeyStart):
            self._start_key(ev)
        elif isinstance(ev, KeyEnd):
            self._key.end(ev)
            self.keys += 1
        elif self._key.in_key:
            self._key.value(ev)
        elif isinstance(ev, End):
            self._end = ev
        else:
            text = record_json(ev)
            if text is None:
                return
            if self._db is None:
                self._sink.emit(("\n" if self._records == 0 else ",\n") + text)
                self._records += 1
            else:
                self._after.append(text)

    def _start_key(self, ks: KeyStart) -> None:
        if self._db is None:
            self._sink.emit('],\n"dbs":{\n' + f'"{ks.db}":[\n')
        elif ks.db != self._db:
            if ks.db in self._dbs_done:
                raise WriteError(f"key {key_text(ks.key)}: the keys of db {ks.db} are not "
                                 "contiguous")
            self._dbs_done.add(self._db)
            self._sink.emit(f'],\n"{ks.db}":[\n')
        else:
            self._sink.emit(",\n")
        self._db = ks.db
        self._key.start(ks)

    def close(self) -> None:
        """Close the document (call once, after the last event) and write it out."""
        if not self._opened:
            self._open(None)
        if self._db is None:
            self._sink.emit('],\n"dbs":{},\n"records_after_keys":[')
        else:
            self._sink.emit(']},\n"records_after_keys":[')
        if self._after:
            self._sink.emit("\n" + ",\n".join(self._after))
        end = "null" if self._end is None else end_json(self._end)
        self._sink.emit(f'],\n"end":{end}}}\n')
        self._sink.flush()
