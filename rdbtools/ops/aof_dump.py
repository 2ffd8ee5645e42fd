"""``aof_dump``: write the commands of an AOF, one per line.

* ``text``: ``FILE@OFFSET db=N CMD arg ...`` — ``FILE`` the name of the file the command
  is in (a multi-part AOF has several), ``OFFSET`` its byte offset there (decimal), ``N``
  the database it runs in; each argument as ``redis-cli`` would take it: bare when it is
  printable ASCII without spaces or quotes, else double-quoted with the escapes of
  ``redis-cli`` (``\\n \\r \\t \\a \\b \\\\ \\"``, ``\\xHH``). A key of an RDB preamble or
  base is one line ``FILE@OFFSET db=N (rdb TYPE) KEY`` (its value: use ``jsonl``).
* ``jsonl``: one object per command, ``{"db", "args", "offset", "timestamp", "file"}``,
  every argument a byte string as in ``docs/jsonl-schema.md`` (a JSON string when it is
  valid UTF-8, else ``{"b64": ...}``); the RDB preamble or base is written exactly as
  ``rdbtool dump --jsonl`` writes an RDB (``rdbtools.formats.jsonl.JsonlWriter``: one
  object per key, one per file-level record).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from rdbtools.events import AofPart, Command, Event, KeyStart
from rdbtools.formats.jsonl import JsonlWriter
from rdbtools.formats.jsontext import jbytes_items, quote
from rdbtools.quoting import quote_key
from rdbtools.sinks import TextSink

FORMATS = ("text", "jsonl")
_BARE = frozenset(range(0x21, 0x7F)) - {ord('"'), ord("'"), ord("\\")}


@dataclass
class AofDumpSummary:
    """How many commands and RDB keys were written."""

    commands: int = 0
    rdb_keys: int = 0


def show_arg(arg: bytes) -> str:
    """An argument as ``redis-cli`` takes it (see the module docstring)."""
    if arg and _BARE.issuperset(arg):
        return arg.decode("ascii")
    return quote_key(arg).decode("ascii")


def command_text(file: str, cmd: Command) -> str:
    """The text line of ``cmd`` (without the newline)."""
    return f"{file}@{cmd.offset} db={cmd.db} " + " ".join(map(show_arg, cmd.args))


def command_json(file: str, cmd: Command) -> str:
    """The JSON Lines object of ``cmd`` (without the newline)."""
    ts = "null" if cmd.timestamp is None else str(cmd.timestamp)
    return (f'{{"db":{cmd.db},"args":[{jbytes_items(cmd.args)}],"offset":{cmd.offset},'
            f'"timestamp":{ts},"file":{quote(file)}}}')


def aof_dump(events: Iterable[Event], out: BinaryIO, *, format: str = "text") -> AofDumpSummary:
    """Write the commands (and RDB keys) of an AOF event stream to ``out``."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}")
    jsonl = format == "jsonl"
    sink = TextSink(out)
    rdb = JsonlWriter(out) if jsonl else None
    summary = AofDumpSummary()
    file = "-"
    in_rdb = False  # whether JsonlWriter holds buffered output
    try:
        for ev in events:
            tp = type(ev)
            if tp is Command:
                if in_rdb and rdb is not None:
                    rdb.close()
                    in_rdb = False
                cmd: Command = ev  # type: ignore[assignment]
                sink.emit((command_json(file, cmd) if jsonl else command_text(file, cmd))
                          + "\n")
                summary.commands += 1
            elif tp is AofPart:
                file = os.path.basename(ev.path) or ev.path  # type: ignore[union-attr]
            elif rdb is not None:
                if not in_rdb:
                    sink.flush()
                    in_rdb = True
                rdb.write(ev)
                if tp is KeyStart:
                    summary.rdb_keys += 1
            elif tp is KeyStart:
                key: KeyStart = ev  # type: ignore[assignment]
                sink.emit(f"{file}@{key.offset} db={key.db} (rdb {key.type}) "
                          f"{show_arg(key.key)}\n")
                summary.rdb_keys += 1
    finally:
        if rdb is not None:
            rdb.close()
        sink.flush()
    return summary
