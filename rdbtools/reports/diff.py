"""``Change`` records as text lines for people and as JSON Lines (``docs/diff.md``).

Text: one line per change, ``-`` (only in A), ``+`` (only in B) or ``~`` (changed), the
database, the key as ``dump --keys`` and reports show it (printable UTF-8 as is, else
quoted with ``redis-cli`` escapes), the place inside the value and the values, long ones
shortened to ``TEXT_LIMIT`` characters with their full length after them.

JSON Lines: one object per change, ``{"db", "key", "change", "path", "a", "b"}``; byte
strings as in the dump formats (a string when valid UTF-8, else ``{"b64": ...}``),
scores as numbers or ``"inf"`` / ``"-inf"``, stream ids as ``"ms-seq"``, tuples as
arrays. Nothing is shortened.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rdbtools.formats.display import json_bytes, show
from rdbtools.ops.diff import Change, DiffSummary, PrefixRow
from rdbtools.quoting import quote_key

TEXT_LIMIT = 60
"""Characters of a value shown in text output before it is shortened."""
ITEMS_LIMIT = 8
"""Items of a tuple shown in text output before the rest is counted."""
_SIGN = {"added": "+", "removed": "-"}


def _short(text: str, size: int) -> str:
    if len(text) <= TEXT_LIMIT:
        return text
    return f"{text[:TEXT_LIMIT]}... ({size} bytes)"


def _utf8(head: bytes, cut: bool) -> str | None:
    """``head`` decoded, or ``None``; when ``head`` was cut from a longer value, a
    character split by the cut is dropped."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as err:
        if cut and err.reason == "unexpected end of data":
            return head[: err.start].decode("utf-8", "strict")
        return None


def quoted(data: bytes) -> str:
    """A byte string in double quotes: printable UTF-8 as a JSON string, anything else
    with the ``redis-cli`` escapes; shortened past ``TEXT_LIMIT`` characters (only the
    head of a long value is looked at)."""
    head = data[: 4 * TEXT_LIMIT]
    text = _utf8(head, len(head) < len(data))
    if text is not None and text.isprintable():
        shown = json.dumps(text, ensure_ascii=False)
    else:
        shown = quote_key(head).decode("ascii")
    if len(head) < len(data):
        shown = shown[:-1]  # no closing quote: the value goes on
    return _short(shown, len(data)) if len(head) == len(data) else \
        f"{shown[:TEXT_LIMIT]}... ({len(data)} bytes)"


def score_text(score: float) -> str:
    """A score as ``ZSCORE`` prints it: ``1``, ``-0``, ``2.5``, ``inf``, ``-inf``."""
    if math.isinf(score):
        return "inf" if score > 0 else "-inf"
    text = repr(score)
    return text[:-2] if text.endswith(".0") else text


def text_value(value: Any) -> str:
    """One value of a change for people."""
    if value is None:
        return "none"
    if isinstance(value, bytes):
        return quoted(value)
    if isinstance(value, float):
        return score_text(value)
    if isinstance(value, tuple):
        shown = [text_value(v) for v in value[:ITEMS_LIMIT]]
        if len(value) > ITEMS_LIMIT:
            shown.append(f"... {len(value) - ITEMS_LIMIT} more")
        return "[" + ", ".join(shown) + "]"
    return str(value)


def _fields(pairs: Any) -> str:
    shown = [f"{quoted(f)} {quoted(v)}" for f, v in pairs[:ITEMS_LIMIT]]
    if len(pairs) > ITEMS_LIMIT:
        shown.append(f"... {len(pairs) - ITEMS_LIMIT} more")
    return " ".join(shown)


def _stream_value(path: tuple[Any, ...], value: Any) -> str | None:
    """Stream values in words, or ``None`` for the generic form."""
    if path[0] == "entry":
        return _fields(value)
    if path[0] != "group" or not isinstance(value, tuple):
        return None
    if len(path) == 2:
        last, read, pending, consumers = value
        return (f"last delivered {last}, entries read {text_value(read)}, {pending} pending, "
                f"{consumers} consumers")
    if len(path) == 4 and path[2] == "pending":
        consumer, delivered, count = value
        return f"consumer {text_value(consumer)}, delivered at {delivered}, {count} deliveries"
    if len(path) == 4 and path[2] == "consumer":
        seen, active, pending = value
        return f"seen at {seen}, active at {text_value(active)}, {pending} pending"
    return None


def _shown(path: tuple[Any, ...], value: Any) -> str:
    if path:
        special = _stream_value(path, value)
        if special is not None:
            return special
    return text_value(value)


def _text_path(path: tuple[Any, ...]) -> str:
    head = path[0]
    if head in ("elements", "range"):
        i1, i2, j1, j2 = path[1:]
        return f" elements [{i1!s}:{i2!s}] -> [{j1!s}:{j2!s}]"
    return " " + " ".join(quoted(x) if isinstance(x, bytes) else str(x) for x in path)


def text_line(change: Change, keys_only: bool = False) -> str:
    """One line for one change (no newline)."""
    sign = _SIGN.get(change.change, "~")
    where = "function" if change.db is None else f"db{change.db}"
    head = f"{sign} {where} {show(change.key)}"
    if keys_only:
        return head if sign != "~" else f"{head} ({change.change})"
    path = change.path
    if not path or path == ("library",):
        if change.change == "added":
            tail = f" ({change.b})" if change.db is not None else ""
        elif change.change == "removed":
            tail = f" ({change.a})" if change.db is not None else ""
        elif change.change == "value" and change.db is None:
            tail = ": code changed"
        else:
            label = "" if change.change == "value" else f" {change.change}"
            tail = f"{label}: {text_value(change.a)} -> {text_value(change.b)}"
        return head + tail
    label = " ttl" if change.change == "ttl" else ""
    if path[0] == "range":
        p, end_a, _, end_b = (int(x) for x in path[1:])
        a_len, b_len = change.a, change.b
        assert isinstance(a_len, int) and isinstance(b_len, int)
        return (f"{head}{_text_path(path)}: {end_a - p} -> {end_b - p} elements differ "
                f"(lengths {a_len} -> {b_len}, common prefix {p}, suffix {a_len - end_a})")
    if change.change == "added":
        values = "" if change.b is None else f": {_shown(path, change.b)}"
    elif change.change == "removed":
        values = "" if change.a is None else f": {_shown(path, change.a)}"
    else:
        values = f": {_shown(path, change.a)} -> {_shown(path, change.b)}"
    return f"{head}{_text_path(path)}{label}{values}"


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return json_bytes(value)
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def json_line(change: Change) -> str:
    """One JSON object for one change (no newline)."""
    return json.dumps(
        {
            "db": change.db,
            "key": _json_value(change.key),
            "change": change.change,
            "path": _json_value(change.path),
            "a": _json_value(change.a),
            "b": _json_value(change.b),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def summary_line(summary: DiffSummary) -> str:
    """The closing summary: keys equal / changed / only in A / only in B."""
    text = (f"keys: {summary.keys_equal} equal, {summary.keys_changed} changed, "
            f"{summary.only_a} only in A, {summary.only_b} only in B")
    if summary.functions_equal or summary.functions_changed:
        text += (f"; functions: {summary.functions_equal} equal, "
                 f"{summary.functions_changed} differ")
    return text


PREFIX_HEADER = ("prefix", "type", "changed", "added", "removed")


def prefix_text(rows: tuple[PrefixRow, ...]) -> str:
    """The ``--summary`` table for people: one row per key prefix and type."""
    table = [PREFIX_HEADER] + [(show(r.prefix), r.type, str(r.changed), str(r.added),
                                str(r.removed)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(PREFIX_HEADER))]
    return "".join(
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  "
        + "  ".join(f"{c:>{w}}" for c, w in zip(row[2:], widths[2:])) + "\n"
        for row in table
    )


def prefix_json_line(row: PrefixRow) -> str:
    """One ``--summary --jsonl`` object (no newline)."""
    return json.dumps({"prefix": json_bytes(row.prefix), "type": row.type,
                       "changed": row.changed, "added": row.added, "removed": row.removed},
                      ensure_ascii=False, separators=(",", ":"))
