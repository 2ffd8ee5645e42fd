"""Per-key rows of ``rdbtool memory`` as JSON Lines or CSV (columns: ``rows.COLUMNS``).

JSON Lines: one object per key with every column (``null`` where a value is absent);
``key`` as the dump schema writes byte strings (``docs/jsonl-schema.md``): a JSON string
when the bytes are valid UTF-8, else ``{"b64": ...}``.

CSV: a header row, then one row per key, ``\\n``-terminated, quoted where needed
(RFC 4180 quoting of ``,`` ``"`` and line breaks); an absent value is an empty cell. The
``key`` cell is ``csv_key(key)``: the key as UTF-8 text, where a backslash is written
``\\\\`` and every byte that is not part of a printable UTF-8 character (control bytes,
invalid UTF-8) as ``\\xHH``; ``csv_unkey`` reverses it. A cell therefore never holds a
line break.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import BinaryIO

from rdbtools.formats.jsontext import jbytes, quote
from rdbtools.memory.rows import COLUMNS, MemoryRow

_FLUSH_ROWS = 2048
"""Rows formatted before one write to the output."""


def _opt(value: int | None) -> str:
    return "null" if value is None else str(value)


def jsonl_line(row: MemoryRow, file_text: str | None = None) -> str:
    """One row as a JSON object (with its newline), members in ``COLUMNS`` order;
    ``file_text``: ``row.file`` already as JSON text."""
    if file_text is None:
        file_text = quote(row.file)
    return (
        f'{{"file":{file_text},"db":{row.db},'
        f'"key":{jbytes(row.key)},"type":"{row.type}","encoding":"{row.encoding}",'
        f'"memory":{row.memory},"size":{row.size},"elements":{row.elements},'
        f'"largest_element":{row.largest_element},"expire_at_ms":{_opt(row.expire_at_ms)},'
        f'"idle":{_opt(row.idle)},"freq":{_opt(row.freq)}}}\n'
    )


def write_jsonl(rows: Iterable[MemoryRow], out: BinaryIO) -> int:
    """Write ``rows`` as JSON Lines to ``out``; return how many."""
    count = 0
    chunk: list[str] = []
    files: dict[str, str] = {}
    for row in rows:
        file_text = files.get(row.file)
        if file_text is None:
            file_text = files[row.file] = quote(row.file)
        chunk.append(jsonl_line(row, file_text))
        if len(chunk) >= _FLUSH_ROWS:
            out.write("".join(chunk).encode("utf-8"))
            count += len(chunk)
            chunk.clear()
    out.write("".join(chunk).encode("utf-8"))
    return count + len(chunk)


def csv_key(key: bytes) -> str:
    """``key`` as a CSV cell: printable UTF-8 text, ``\\\\`` for a backslash, ``\\xHH``
    for any other byte."""
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable() and "\\" not in text:
        return text
    out = []
    for ch in key.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8")))
    return "".join(out)


_ESCAPE = re.compile(rb"\\(\\|x[0-9a-fA-F]{2})")


def csv_unkey(cell: str) -> bytes:
    """The key bytes of a ``csv_key`` cell."""
    return _ESCAPE.sub(
        lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1)[1:], 16)]),
        cell.encode("utf-8"),
    )


class _Lines:
    """A ``write`` target for ``csv.writer`` that collects text."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def write_csv(rows: Iterable[MemoryRow], out: BinaryIO) -> int:
    """Write a header and ``rows`` as CSV to ``out``; return how many rows."""
    lines = _Lines()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(COLUMNS)
    add = lines.parts.append
    count = 0
    plain_files: dict[str, bool] = {}
    for row in rows:
        key = csv_key(row.key)
        plain = plain_files.get(row.file)
        if plain is None:
            plain = plain_files[row.file] = not any(c in row.file for c in ',"\r\n')
        if plain and "," not in key and '"' not in key:
            # nothing to quote (csv_key never holds a line break): what csv.writer
            # would write, without its per-cell work
            add(f"{row.file},{row.db},{key},{row.type},{row.encoding},{row.memory},"
                f"{row.size},{row.elements},{row.largest_element},"
                f"{_cell(row.expire_at_ms)},{_cell(row.idle)},{_cell(row.freq)}\n")
        else:
            writer.writerow(
                (
                    row.file, row.db, key, row.type, row.encoding, row.memory,
                    row.size, row.elements, row.largest_element, row.expire_at_ms,
                    row.idle, row.freq,
                )
            )
        count += 1
        if len(lines.parts) >= _FLUSH_ROWS:
            out.write("".join(lines.parts).encode("utf-8"))
            lines.parts.clear()
    out.write("".join(lines.parts).encode("utf-8"))
    return count
