"""The values replay keeps per key (``Obj``), and what every command module shares about
them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdbtools.errors import UnsupportedType
from rdbtools.replay.stream import Stream

if TYPE_CHECKING:
    from rdbtools.replay.replayer import Replayer


@dataclass(slots=True)
class Obj:
    """One key: ``type`` and a mutable value (``bytes``; ``deque`` (a list: pushes and
    pops at both ends stay cheap however long it grows); ``set``;
    ``dict[member, score]``; ``dict[field, (value, field_expire_ms)]``; ``Stream``;
    ``ModuleValue``) and its expiry (unix ms) or ``None``."""

    type: str
    value: Any
    expire: int | None = None


NO_EXPIRE = -1
"""``getExpire``'s answer for a key without a TTL: a key whose expiry is exactly -1 ms
loses it when ``COPY``, ``MOVE`` or ``RENAME`` carries it over (``if (expire != -1)
setExpire(...)``), as on the server."""


def carried(o: Obj) -> Obj:
    """``o`` as ``COPY`` / ``MOVE`` / ``RENAME`` carry it to its new name."""
    if o.expire == NO_EXPIRE:
        o.expire = None
    return o


def copy_value(o: Obj) -> Obj:
    v = o.value
    if isinstance(v, (deque, list, set, dict, Stream)):
        v = v.copy()
    return carried(Obj(o.type, v, o.expire))


def unreplayable(r: Replayer, name: str, why: str, off: int) -> None:
    """A command whose effect cannot be computed offline: counted and skipped with
    ``skip_unknown``, else ``UnsupportedType`` naming it and why."""
    if r.skip_unknown:
        r.skipped[name] += 1
        return
    raise UnsupportedType(f"replay: unsupported command {name} ({why})", offset=off)
