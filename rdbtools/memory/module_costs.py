"""Memory of module values.

The server keeps a module value as an robj pointing at a ``moduleValue`` (two pointers:
the type and the module's own value), and the module allocates the rest. For the module
types the reader decodes (``rdbtools.rdb.module_types``) the blocks are known: the
decoder lists the sizes the module allocates (its struct, arrays, bit and counter
arrays), each rounded here to its allocator size class. A RedisJSON document's figure is
the module's own accounting (``json_memory``), taken as is. Any other module's value
cannot be sized from a file: the estimate is the robj and the serialized payload (a lower
bound for most modules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdbtools.events import KeyStart, ModuleValue, ValueEvent

if TYPE_CHECKING:
    from rdbtools.memory._costs import Costs

MODULE_VALUE = 16
"""``sizeof(moduleValue)``: the type pointer and the value pointer."""


class ModuleAcc:
    """The accumulator of a module key (the ``Accumulator`` protocol of
    ``rdbtools.memory._estimator``): ``result()`` gives ``(encoding, bytes)``, and
    ``row_type`` the type the memory rows show (``json``, ``bf`` ... or ``module``)."""

    __slots__ = ("c", "start", "elements", "largest", "payload", "value", "row_type")

    def __init__(self, c: Costs, start: KeyStart) -> None:
        self.c = c
        self.start = start
        self.elements = 0
        self.largest = 0
        self.payload = 0
        self.value = 0
        self.row_type = start.type

    def feed(self, ev: ValueEvent) -> None:
        if not isinstance(ev, ModuleValue):
            return
        c = self.c
        self.payload += len(ev.payload)
        self.elements = 1
        self.largest = self.payload
        data = ev.decoded
        if data is None:
            self.value = c.a(self.payload)
            return
        self.row_type = data.type
        if data.type == "json":
            self.value = c.a(MODULE_VALUE) + sum(data.allocations)
        else:
            self.value = c.a(MODULE_VALUE) + sum(c.a(n) for n in data.allocations)

    def result(self) -> tuple[str, int]:
        return "module", self.c.robj + self.value
