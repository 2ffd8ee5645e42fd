"""Two JSON documents (RedisJSON values) compared by path.

A change names the JSONPath of what differs (``$``, ``$.a[2].b``, ``$["odd key"]``) and
the values at it as JSON text: a member or element only one side has is added or
removed; a value that differs (by type too: ``1``, ``1.0`` and ``true`` are apart, as
``JSON.GET`` prints them apart) changed. Objects are compared member by member, arrays
element by element (the longer one's extra elements added or removed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from rdbtools.diff._change import Change

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _step(path: str, name: str) -> str:
    return f"{path}.{name}" if _NAME.match(name) else f"{path}[{json.dumps(name)}]"


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def compare_documents(emit: Callable[[Change], None], db: int, key: bytes,
                      a: Any, b: Any) -> None:
    """Emit a ``Change`` per differing path of documents ``a`` and ``b``."""
    stack: list[tuple[str, Any, Any]] = [("$", a, b)]
    while stack:
        path, x, y = stack.pop()
        if isinstance(x, dict) and isinstance(y, dict):
            later = []
            for name, v in x.items():
                if name not in y:
                    emit(Change(db, key, "removed", (_step(path, name),), _text(v), None))
                elif not _same(v, y[name]):
                    later.append((_step(path, name), v, y[name]))
            for name, v in y.items():
                if name not in x:
                    emit(Change(db, key, "added", (_step(path, name),), None, _text(v)))
            stack.extend(reversed(later))
        elif isinstance(x, list) and isinstance(y, list):
            later = [(f"{path}[{i}]", u, v) for i, (u, v) in enumerate(zip(x, y))
                     if not _same(u, v)]
            for i in range(len(y), len(x)):
                emit(Change(db, key, "removed", (f"{path}[{i}]",), _text(x[i]), None))
            for i in range(len(x), len(y)):
                emit(Change(db, key, "added", (f"{path}[{i}]",), None, _text(y[i])))
            stack.extend(reversed(later))
        elif not _same(x, y):
            emit(Change(db, key, "value", (path,), _text(x), _text(y)))
