"""JSON text fragments for the values the event model carries.

Byte strings become a JSON string when they are valid UTF-8, else ``{"b64": "..."}``;
scores become JSON numbers, or the strings ``"inf"``, ``"-inf"`` and ``"nan"``; stream
ids become ``"ms-seq"`` strings. Every function returns a ready-to-write ``str``.
"""

from __future__ import annotations

import base64
import json
import json.encoder
import math
from collections.abc import Callable, Iterable, Sequence

from rdbtools.events import StreamId

quote: Callable[[str], str] = json.encoder.encode_basestring
"""A JSON string literal for a ``str`` (the C accelerator), non-ASCII kept as is."""


def json_bytes(data: bytes) -> str | dict[str, str]:
    """A byte string as a JSON value (for ``json.dumps``): a string when ``data`` is
    valid UTF-8, else ``{"b64": "<base64>"}``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(data).decode("ascii")}


def jbytes(data: bytes) -> str:
    """``json_bytes(data)`` as JSON text."""
    value = json_bytes(data)
    if isinstance(value, str):
        return quote(value)
    return '{"b64":"' + value["b64"] + '"}'


def _no_default(obj: object) -> object:
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)


def _make_encoder() -> Callable[[object], str]:
    if _c_make_encoder is None:  # pragma: no cover - CPython always has the C encoder
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                allow_nan=False).encode
    c_encoder = _c_make_encoder(None, _no_default, json.encoder.encode_basestring, None,
                                ":", ",", False, False, False)

    def encode(obj: object) -> str:
        return "".join(c_encoder(obj, 0))

    return encode


encode_json: Callable[[object], str] = _make_encoder()
"""Compact JSON of lists and dicts of ``str`` and finite floats (``ValueError`` for
inf/nan). CPython's C encoder is made once and called directly, which skips the per-call
set-up of ``json.JSONEncoder.encode``."""


def decode_all(items: Sequence[bytes]) -> list[str] | None:
    """Every item decoded as UTF-8, or ``None`` if one is not valid UTF-8. The items are
    joined with NUL and decoded and split in one go (a NUL cannot end or start inside a
    multi-byte sequence, so the whole decodes exactly when every item does); an item
    holding a NUL itself shows as an extra part, and then each is decoded alone."""
    try:
        parts = b"\x00".join(items).decode("utf-8").split("\x00")
        if len(parts) == len(items):
            return parts
        return [x.decode("utf-8") for x in items]
    except UnicodeDecodeError:
        return None


def jbytes_items(items: Sequence[bytes]) -> str:
    """``jbytes`` of each item, comma-separated; when every item is UTF-8 the whole batch
    goes through the C JSON encoder in one call."""
    texts = decode_all(items)
    if texts is None:
        return ",".join([jbytes(x) for x in items])
    return encode_json(texts)[1:-1]


def jscored_items(pairs: Iterable[tuple[bytes, float]]) -> str:
    """``[member, score]`` pairs, comma-separated (``jbytes`` and ``jscore`` of each)."""
    try:
        return encode_json([[m.decode("utf-8"), s] for m, s in pairs])[1:-1]
    except (UnicodeDecodeError, ValueError):
        return ",".join([f"[{jbytes(m)},{jscore(s)}]" for m, s in pairs])


def b64(data: bytes) -> str:
    """The marked form ``{"b64": "<base64>"}`` of ``data``."""
    return '{"b64":"' + base64.b64encode(data).decode("ascii") + '"}'


def jopt_bytes(data: bytes | None) -> str:
    """``jbytes`` or ``null``."""
    return "null" if data is None else jbytes(data)


def jscore(score: float) -> str:
    """A sorted-set score: the shortest round-trip JSON number, or ``"inf"``, ``"-inf"``,
    ``"nan"``."""
    if math.isfinite(score):
        return repr(score)
    if math.isnan(score):
        return '"nan"'
    return '"inf"' if score > 0 else '"-inf"'


def jid(sid: StreamId) -> str:
    """A stream id as the JSON string ``"ms-seq"``."""
    return f'"{sid[0]}-{sid[1]}"'


def jopt_id(sid: StreamId | None) -> str:
    """``jid`` or ``null``."""
    return "null" if sid is None else jid(sid)


def jopt_int(value: int | None) -> str:
    """An integer or ``null``."""
    return "null" if value is None else str(value)
