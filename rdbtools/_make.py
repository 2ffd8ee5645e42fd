"""Fast constructors for the events the reader builds by the million.

With the C extension, ``maker(cls)`` builds an instance of a frozen slotted event class
by setting its slots directly from positional arguments (every field, in order), about
ten times faster than the frozen dataclass ``__init__`` with its ``object.__setattr__``
per field; the result is an ordinary instance of the class (same equality, hash, repr
and immutability). Without the extension these names are the classes themselves. Call
them with every field, positionally.
"""

from __future__ import annotations

from typing import Any

from rdbtools import events as ev
from rdbtools._accel import speedups


def maker(cls: type) -> Any:
    """The fast constructor of ``cls`` (the class itself without the extension)."""
    return speedups.maker(cls) if speedups is not None else cls


KeyStart: Any = maker(ev.KeyStart)
KeyEnd: Any = maker(ev.KeyEnd)
StringValue: Any = maker(ev.StringValue)
ListItems: Any = maker(ev.ListItems)
SetMembers: Any = maker(ev.SetMembers)
ZSetMembers: Any = maker(ev.ZSetMembers)
HashFields: Any = maker(ev.HashFields)
StreamEntries: Any = maker(ev.StreamEntries)
StreamEntry: Any = maker(ev.StreamEntry)
