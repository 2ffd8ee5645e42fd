"""Fast constructors for the events the reader builds by the million.

With the C extension, ``maker(cls)`` builds an instance of a frozen slotted event class
by setting its slots directly from positional arguments (every field, in order), about
ten times faster than the frozen dataclass ``__init__`` with its ``object.__setattr__``
per field; the result is an ordinary instance of the class (same equality, hash, repr
and immutability). Without the extension these names are the classes themselves. Call
them with every field, positionally.

The C constructor writes argument ``i`` into slot ``i`` of ``__slots__``, while callers
pass the dataclass's fields in order: ``maker`` refuses a class whose two orders differ
(a hand-written ``__slots__``, or a slotted subclass, whose ``__slots__`` holds only its
own fields), on either path, so the fault shows at import and not as swapped values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

from rdbtools import events as ev
from rdbtools._accel import speedups

_T = TypeVar("_T")


def slot_order(cls: type) -> None:
    """Raise TypeError unless ``cls.__slots__`` names the dataclass fields of ``cls`` in
    their order (what a positional constructor relies on)."""
    fields = tuple(f.name for f in dataclasses.fields(cls))
    slots = tuple(getattr(cls, "__slots__", ()))
    if fields != slots:
        raise TypeError(
            f"{cls.__qualname__}: __slots__ {slots} are not its fields {fields} in order"
        )


def maker(cls: type[_T]) -> Callable[..., _T]:
    """The fast constructor of ``cls`` (the class itself without the extension)."""
    slot_order(cls)
    return speedups.maker(cls) if speedups else cls


KeyStart = maker(ev.KeyStart)
KeyEnd = maker(ev.KeyEnd)
StringValue = maker(ev.StringValue)
ListItems = maker(ev.ListItems)
SetMembers = maker(ev.SetMembers)
ZSetMembers = maker(ev.ZSetMembers)
HashFields = maker(ev.HashFields)
StreamEntries = maker(ev.StreamEntries)
StreamEntry = maker(ev.StreamEntry)
