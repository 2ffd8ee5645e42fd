"""JSON text of a decoded module value (``rdbtools.rdb.module_types``).

A key of a known module type gets one more member in its ``value`` object, named for the
type: ``"json"`` the RedisJSON document itself; ``"bf"``, ``"cf"``, ``"topk"``, ``"cms"``,
``"tdigest"`` the structure's header (settings and counters, named as its ``*.INFO``
reply names them). Byte strings in a header (Top-K items) follow the usual rule: a JSON
string when UTF-8, else ``{"b64": ...}``.
"""

from __future__ import annotations

import base64
import math

from rdbtools.events import ModuleData
from rdbtools.formats.jsontext import encode_json, quote


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def module_data_json(data: ModuleData) -> str:
    """The JSON text of what a module value holds: the document of a ``json`` value, the
    header of the others."""
    if data.type == "json":
        return encode_json(data.document)
    return encode_json(_plain(data.header))


def module_member(data: ModuleData | None) -> str:
    """``,"<type>":<json>`` to append inside a module key's ``value`` object, or ``""``
    for a module type not decoded."""
    if data is None:
        return ""
    return "," + quote(data.type) + ":" + module_data_json(data)
