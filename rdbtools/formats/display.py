"""Byte strings for people (text reports) and for JSON reports; aligned text tables."""

from __future__ import annotations

from rdbtools.formats.jsontext import json_bytes as json_bytes
from rdbtools.quoting import quote_key


def show(data: bytes) -> str:
    """``data`` as text when it is printable UTF-8, else quoted with redis-cli escapes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return quote_key(data).decode("ascii")
    if text.isprintable() and not text.startswith('"'):
        return text
    return quote_key(data).decode("ascii")


def table(rows: list[list[str]], align: str) -> list[str]:
    """Rows as aligned text, indented by two spaces; ``align`` has one letter per
    column, ``l`` or ``r``."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(align))]
    out = []
    for row in rows:
        cells = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)]
        out.append(("  " + "  ".join(cells)).rstrip())
    return out
