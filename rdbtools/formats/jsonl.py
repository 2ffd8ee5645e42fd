"""JSON Lines: one object per key, and one per file-level record (schema in
``docs/jsonl-schema.md``)."""

from __future__ import annotations

from typing import BinaryIO

from rdbtools.events import Event, KeyEnd, KeyStart
from rdbtools.formats._jsonkey import KeyJson
from rdbtools.formats._records import record_json
from rdbtools.sinks import TextSink


class JsonlWriter:
    """Writes an event stream as JSON Lines to the binary file ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self._sink = TextSink(out)
        self._key = KeyJson(self._sink.emit)
        self._start, self._value, self._end = self._key.start, self._key.value, self._key.end
        self.keys = 0
        self.skipped: dict[str, int] = {}

    def write(self, ev: Event) -> None:
        """Write one event (value events go to the key being written)."""
        tp = type(ev)
        if tp is KeyStart:
            self._start(ev)  # type: ignore[arg-type]
        elif tp is KeyEnd:
            self._end(ev, "\n")  # type: ignore[arg-type]
            self.keys += 1
        elif self._key.in_key:
            self._value(ev)
        else:
            text = record_json(ev)
            if text is not None:
                self._sink.emit(text + "\n")

    def close(self) -> None:
        """Write out what is buffered (the file itself stays open)."""
        self._sink.flush()
