"""JSON Lines: one object per key, and one per file-level record (schema in
``docs/jsonl-schema.md``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from rdbtools.events import Event, KeyEnd, KeyStart
from rdbtools.formats._jsonkey import KeyJson
from rdbtools.formats._records import record_json
from rdbtools.sinks import TextSink


class JsonlWriter:
    """Writes an event stream as JSON Lines to the binary file ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self._sink = TextSink(out)
        self._key = KeyJson(self._sink.emit)
        self._value = self._key.value
        self._on: dict[type, Callable[[Any], None]] = {KeyStart: self._key.start,
                                                       KeyEnd: self._key_end}
        self.keys = 0
        self.skipped: dict[str, int] = {}

    def write(self, ev: Event) -> None:
        """Write one event (value events go to the key being written)."""
        on = self._on.get(type(ev))
        if on is not None:
            on(ev)
        elif self._key.in_key:
            self._value(ev)
        else:
            text = record_json(ev)
            if text is not None:
                self._sink.emit(text + "\n")

    def _key_end(self, ev: KeyEnd) -> None:
        self._key.end(ev, "\n")
        self.keys += 1

    def close(self) -> None:
        """Write out what is buffered (the file itself stays open)."""
        self._sink.flush()
