"""Replay an AOF: apply its commands to a keyspace with Redis semantics.

``replay(events)`` takes what ``rdbtools.aof.read_aof`` yields (RDB key events of a
preamble or base, ``Function`` events, ``Command`` events, ``AofPart`` boundaries) and
yields the resulting keyspace as RDB-style events: the ``Aux`` fields of the last RDB
part read (a preamble or base), the ``Function`` libraries, then per key ``KeyStart``
(``encoding="replayed"``), value batches and ``KeyEnd(key, 0, 0)``, sorted by database
then key bytes.

The whole keyspace is held in memory while replaying: an AOF says nothing final about a
key until its last command.

Semantics follow the server loading an AOF: each ``Command`` applies to ``Command.db``
(``SELECT`` itself is ignored); ``MULTI`` ... ``EXEC`` blocks are applied at ``EXEC`` and
a trailing ``MULTI`` without ``EXEC`` is discarded; a command the server would answer
with an error (wrong type, not an integer ...) changes nothing, as on load, and is
counted in ``Replayer.errors``. Expired keys are kept (filter them with
``--no-expired``), as the RDB reader keeps them; relative TTLs (``EXPIRE``, ``SET EX``
...) are taken from the command's ``#TS:`` timestamp when there is one, else from the
time the replay started. A command replay does not model (an unknown one, a module's)
is carried verbatim, with every later command on the keys it touches
(``rdbtools.replay.commands.modules``): those keys come out as ``not-replayed`` keys. With
``strict`` such a command raises ``UnsupportedType`` naming it and its offset instead;
with ``skip_unknown`` it is dropped (``Replayer.skipped`` counts them by name).

Layout: ``replayer`` (``Replayer``, ``replay()``), ``keyspace`` (the ``Obj`` values),
``loader`` (RDB key events into values), ``emit`` (values back into events), ``args``
(argument parsing and number formatting as the server does them), ``stream`` (the stream
model), and ``commands`` (one module per data type; ``commands.COMMANDS`` maps each
command name to its handler and is what a ``Replayer`` dispatches through).
"""

from __future__ import annotations

from rdbtools.replay.commands import COMMANDS
from rdbtools.replay.commands.modules import (
    NOT_REPLAYED,
    not_replayed,
    rewrite_commands,
)
from rdbtools.replay.keyspace import REFUSALS_KEPT, Handler, Keyspace, Obj, Refusal
from rdbtools.replay.replayer import Replayer, base_events, replay

__all__ = [
    "COMMANDS",
    "NOT_REPLAYED",
    "REFUSALS_KEPT",
    "Handler",
    "Keyspace",
    "Obj",
    "Refusal",
    "Replayer",
    "base_events",
    "not_replayed",
    "replay",
    "rewrite_commands",
]
