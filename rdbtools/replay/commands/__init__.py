"""The commands replay models, one module per data type or area, and ``COMMANDS``: every
command's handler by upper-case name, merged from the modules' own ``COMMANDS`` tables."""

from __future__ import annotations

from collections.abc import Mapping

from rdbtools.replay.commands import (
    bitfield,
    geo,
    hashes,
    hll,
    keys,
    lists,
    modules,
    scripting,
    sets,
    sort,
    streams,
    strings,
    zsets,
)
from rdbtools.replay.keyspace import Handler

__all__ = ["COMMANDS", "merge"]


def merge(*tables: Mapping[bytes, Handler]) -> dict[bytes, Handler]:
    """One table of the given ones; a command named in two is an error."""
    out: dict[bytes, Handler] = {}
    for table in tables:
        for name, handler in table.items():
            if name in out:
                raise ValueError(f"replay: command {name.decode()} has two handlers")
            out[name] = handler
    return out


COMMANDS: dict[bytes, Handler] = merge(
    keys.COMMANDS, strings.COMMANDS, lists.COMMANDS, sets.COMMANDS, zsets.COMMANDS,
    hashes.COMMANDS, streams.COMMANDS, hll.COMMANDS, geo.COMMANDS, bitfield.COMMANDS,
    sort.COMMANDS, scripting.COMMANDS, modules.COMMANDS,
)
