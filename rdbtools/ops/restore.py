"""``restore``: write the keys of an event stream into a live server.

Each key becomes ``RESTORE key ttl payload ABSTTL [REPLACE] [IDLETIME s] [FREQ f]`` with a
DUMP payload encoded for the server's own RDB version (FORMAT.md §7), sent in pipelined
batches on one connection; what that version cannot hold (hash field TTLs before 7.4,
...) is reported as a loss. A key goes as plain write commands instead (those of ``dump
--resp``, in batches of 64 elements) when the server's RDB version is older than any this
package writes (before 6, Redis 2.6), when the payload is bigger than the server's
``proto-max-bulk-len``, or when asked (``mode="commands"``). Keys whose TTL has passed
are skipped and counted. A batch's failed keys are named; nothing is retried.

One key at a time is held whole in memory: a RESTORE payload is one bulk string.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdbtools.errors import RdbToolsError
from rdbtools.events import Event, Function, KeyEnd, KeyStart
from rdbtools.formats.resp import RespWriter
from rdbtools.ops.filters import now_ms as current_ms
from rdbtools.rdb._targets import VALKEY_VERSION, WRITABLE_VERSIONS
from rdbtools.rdb.payload import encode_payload
from rdbtools.rdb.writer import Loss

CONFLICT_MODES = ("replace", "skip-existing", "fail-on-conflict")


class RestoreError(RdbToolsError):
    """The server refused keys (the message names them) or could not be used."""

    exit_code = 9


@dataclass(slots=True)
class RestoreSummary:
    """What ``restore`` did."""

    keys_written: int = 0
    by_payload: int = 0
    by_commands: int = 0
    skipped_expired: int = 0
    skipped_existing: int = 0
    functions: int = 0
    target_version: int = 0
    losses: list[Loss] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False


def server_rdb_version(info: dict[str, Any]) -> int:
    """The RDB version a server writes and reads, from ``INFO server``
    (FORMAT.md §1.3, §9.1)."""
    valkey = str(info.get("valkey_version") or "")
    if valkey:
        major = int(valkey.split(".")[0])
        return VALKEY_VERSION if major >= 9 else 11
    parts = [int(p) for p in str(info.get("redis_version", "0.0.0")).split(".")[:2]]
    major, minor = parts[0], parts[1] if len(parts) > 1 else 0
    table = [((8, 0), 12), ((7, 4), 12), ((7, 2), 11), ((7, 0), 10), ((5, 0), 9),
             ((4, 0), 8), ((3, 2), 7), ((2, 6), 6), ((2, 4), 2)]
    for (a, b), v in table:
        if (major, minor) >= (a, b):
            return v
    return 1


class _Commands(RespWriter):
    """``dump --resp``'s command generation, collecting argument lists."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO())
        self.commands: list[tuple[bytes, ...]] = []

    def _cmd(self, *args: bytes) -> None:
        if args[0] != b"SELECT":
            self.commands.append(args)


def _keys(events: Iterable[Event]) -> Iterator[tuple[KeyStart | None, list[Event]]]:
    """Group events per key: ``(KeyStart, its value events)``; file-level events come as
    ``(None, [event])``."""
    start: KeyStart | None = None
    values: list[Event] = []
    for ev in events:
        if isinstance(ev, KeyStart):
            start, values = ev, []
        elif isinstance(ev, KeyEnd):
            if start is not None:
                yield start, values
            start = None
        elif start is not None:
            values.append(ev)
        else:
            yield None, [ev]


Tagged = tuple[tuple[bytes | int, ...], bytes | None, str]
"""A command, the key it writes (if any) and what kind of command it is."""


class _Batch:
    """Commands sent together on one connection, each tagged with its key."""

    def __init__(self) -> None:
        self.commands: list[Tagged] = []

    def add(self, args: tuple[bytes | int, ...], key: bytes | None, kind: str) -> None:
        self.commands.append((args, key, kind))


def restore(
    events: Iterable[Event],
    client: Any,
    *,
    conflict: str = "replace",
    pipeline: int = 100,
    target_version: int | None = None,
    mode: str = "auto",
    dry_run: bool = False,
    now_ms: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RestoreSummary:
    """Write ``events`` into the server behind the redis-py ``client``.

    ``conflict``: ``replace`` (RESTORE ... REPLACE, or DEL before commands),
    ``skip-existing`` (keys that exist are left alone and counted) or
    ``fail-on-conflict`` (an existing key is an error naming it). ``target_version``:
    the server's RDB version (asked from the server when ``None``). ``mode``: ``auto``,
    ``payload`` or ``commands``. ``dry_run`` encodes everything and sends nothing.
    ``progress`` is called with the number of keys handled so far after each batch.
    """
    if conflict not in CONFLICT_MODES:
        raise ValueError(f"conflict must be one of {', '.join(CONFLICT_MODES)}")
    summary = RestoreSummary(dry_run=dry_run)
    conn = None if dry_run else client.connection_pool.make_connection()
    try:
        info = {} if dry_run and target_version else client.info("server")
        version = target_version or server_rdb_version(info)
        summary.target_version = version
        payload_version: int | None = version if version >= 6 else None
        if payload_version is not None and payload_version not in WRITABLE_VERSIONS \
                and payload_version != VALKEY_VERSION:
            payload_version = max(WRITABLE_VERSIONS)
        max_bulk = _max_bulk(client) if not dry_run else 512 << 20
        now = current_ms() if now_ms is None else now_ms
        state = _State(conn, summary, conflict, progress)
        batch = _Batch()
        db: int | None = None
        for start, values in _keys(events):
            if start is None:
                ev = values[0]
                if isinstance(ev, Function) and not ev.pre_ga:
                    batch.add((b"FUNCTION", b"LOAD", b"REPLACE", ev.code), None, "function")
                continue
            if start.expire_ms is not None and start.expire_ms <= now:
                summary.skipped_expired += 1
                continue
            if start.db != db:
                batch.add((b"SELECT", start.db), None, "select")
                db = start.db
            cmds = _key_commands(start, values, payload_version, mode, conflict, max_bulk,
                                 summary)
            if (cmds and cmds[0][2] in ("commands", "commands-last") and conflict != "replace"
                    and not dry_run):
                state.send(batch)
                batch = _Batch()
                if state.exists(start.key):
                    if conflict == "fail-on-conflict":
                        raise RestoreError(f"key {start.key!r} already exists (db {start.db})")
                    summary.skipped_existing += 1
                    continue
            for args, key, kind in cmds:
                batch.add(args, key, kind)
            if len(batch.commands) >= pipeline:
                state.send(batch)
                batch = _Batch()
        state.send(batch)
        return summary
    finally:
        if conn is not None:
            conn.disconnect()


def _max_bulk(client: Any) -> int:
    try:
        got = client.config_get("proto-max-bulk-len")
        return int(got.get("proto-max-bulk-len", 512 << 20))
    except Exception:  # noqa: BLE001 - CONFIG may be renamed or refused: use the default
        return 512 << 20


def _key_commands(start: KeyStart, values: list[Event], version: int | None, mode: str,
                  conflict: str, max_bulk: int, summary: RestoreSummary) -> list[Tagged]:
    """The commands that write one key: one RESTORE, or its write commands.
    ``version``: the RDB version of the payload, ``None`` when the server is older than
    any version written here."""
    payload = None
    if mode != "commands" and version is not None:
        losses: list[Loss] = []
        payload = encode_payload(start, values, version, losses=losses)
        if len(payload) > max_bulk:
            payload = None
        else:
            summary.losses += losses
    if payload is not None:
        args: list[bytes | int] = [b"RESTORE", start.key, start.expire_ms or 0, payload]
        if conflict == "replace":
            args.append(b"REPLACE")
        args.append(b"ABSTTL")
        if start.idle is not None:
            args += (b"IDLETIME", start.idle)
        if start.freq is not None:
            args += (b"FREQ", start.freq)
        return [(tuple(args), start.key, "payload")]
    gen = _Commands()
    for ev in (start, *values, KeyEnd(start.key, 0, 0)):
        gen.write(ev)
    for what, n in gen.skipped.items():
        summary.losses.append(Loss(f"{n} {what} cannot be written as commands", start.db,
                                   start.key))
    if summary.target_version < 12:
        ttls = [c for c in gen.commands if c[0] == b"HPEXPIREAT"]
        if ttls:
            summary.losses.append(Loss(f"{len(ttls)} field TTL(s) dropped: the server has no "
                                       "hash field expiry", start.db, start.key))
            gen.commands = [c for c in gen.commands if c[0] != b"HPEXPIREAT"]
    out: list[Tagged] = []
    if conflict == "replace":
        out.append(((b"DEL", start.key), start.key, "del"))
    last = len(gen.commands) - 1
    for i, cmd in enumerate(gen.commands):
        out.append((cmd, start.key, "commands-last" if i == last else "commands"))
    return out


class _State:
    """Sends batches and reads their replies."""

    def __init__(self, conn: Any, summary: RestoreSummary, conflict: str,
                 progress: Callable[[int], None] | None) -> None:
        self.conn = conn
        self.summary = summary
        self.conflict = conflict
        self.progress = progress
        self.skip_key: bytes | None = None
        self.handled = 0

    def send(self, batch: _Batch) -> None:
        if not batch.commands:
            return
        s = self.summary
        if self.conn is None:
            for _, _, kind in batch.commands:
                self._count(kind)
            return
        self.conn.send_packed_command(self.conn.pack_commands([c[0] for c in batch.commands]))
        failed: list[str] = []
        conflicts: list[bytes] = []
        for _, key, kind in batch.commands:
            try:
                self.conn.read_response()
            except Exception as exc:  # noqa: BLE001 - redis-py raises ResponseError subclasses
                text = str(exc)
                if kind == "payload" and text.startswith("BUSYKEY"):
                    if self.conflict == "skip-existing":
                        s.skipped_existing += 1
                        self.handled += 1
                        continue
                    conflicts.append(key or b"")
                    continue
                failed.append(f"{key!r}: {text}" if key is not None else text)
                continue
            self._count(kind)
        if self.progress is not None:
            self.progress(self.handled)
        if conflicts:
            s.errors.append(f"{len(conflicts)} key(s) already exist: "
                            + ", ".join(repr(k) for k in conflicts[:10]))
            raise RestoreError(s.errors[-1])
        if failed:
            s.errors += failed
            raise RestoreError(f"the server refused {len(failed)} command(s): "
                               + "; ".join(failed[:5]))

    def exists(self, key: bytes) -> bool:
        """Ask the server whether ``key`` exists in the selected database."""
        if self.conn is None:
            return False
        self.conn.send_command("EXISTS", key)
        return bool(self.conn.read_response())

    def _count(self, kind: str) -> None:
        s = self.summary
        if kind == "payload":
            s.keys_written += 1
            s.by_payload += 1
            self.handled += 1
        elif kind == "commands-last":
            s.keys_written += 1
            s.by_commands += 1
            self.handled += 1
        elif kind == "function":
            s.functions += 1
