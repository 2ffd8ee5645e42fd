"""``restore``: write the keys of an event stream into a live server.

Each key becomes ``RESTORE key ttl payload ABSTTL [REPLACE] [IDLETIME s] [FREQ f]`` with a
DUMP payload encoded for the server's own RDB version (FORMAT.md §7), sent in pipelined
batches; what that version cannot hold (hash field TTLs before 7.4, ...) is reported as a
loss. A key goes as plain write commands instead (those of ``dump --resp``, in batches of
64 elements) when the server's RDB version is older than any this package writes (before
6, Redis 2.6), when the payload is bigger than the server's ``proto-max-bulk-len``, or
when asked (``mode="commands"``). Keys whose TTL has passed are skipped and counted.

Databases: a key goes to its own database, or to ``to_db`` when given. A standalone
server is sent ``SELECT`` on its own, and its reply is read, before any key of that
database: a database the server lacks (``CONFIG GET databases``, or a refused
``SELECT``) is never written into, its keys are skipped and counted per database
(``RestoreSummary.missing_db``). A cluster (a ``RedisCluster`` client) has database 0
only; its pipelines are grouped per primary by redis-py, which follows ``MOVED``/``ASK``,
and function libraries are loaded on every primary.

Failures: a refused key is named and the restore stops after its batch; a connection
lost mid-way stops it with the count of keys written and of those sent whose reply never
came (not known to be written). Nothing is retried.

One key at a time is held whole in memory: a RESTORE payload is one bulk string.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdbtools.clock import now_ms as current_ms
from rdbtools.errors import RestoreError, key_text
from rdbtools.events import Event, Function, KeyEnd, KeyStart
from rdbtools.formats.resp import RespWriter
from rdbtools.ops.connection import cluster_enabled, is_cluster, one_line
from rdbtools.rdb.payload import encode_payload
from rdbtools.rdb.targets import VALKEY_VERSION, WRITABLE_VERSIONS
from rdbtools.rdb.writer import Loss
from rdbtools.server_version import parse_version

CONFLICT_MODES = ("replace", "skip-existing", "fail-on-conflict")
KEY_KINDS = frozenset({"payload", "commands-last"})
"""The command kinds that complete a key: once answered, the key is written."""
TARGET_VERSIONS = frozenset((*range(1, max(WRITABLE_VERSIONS) + 1), VALKEY_VERSION))
"""What ``target_version`` may be: below 6 every key goes as commands."""


@dataclass(slots=True)
class RestoreSummary:
    """What ``restore`` did. ``missing_db``: keys not written because the server lacks
    their database (source database -> keys), with the reason in ``missing_reason``."""

    keys_written: int = 0
    by_payload: int = 0
    by_commands: int = 0
    skipped_expired: int = 0
    skipped_existing: int = 0
    functions: int = 0
    target_version: int = 0
    cluster: bool = False
    databases: int | None = None
    missing_db: dict[int, int] = field(default_factory=dict)
    missing_reason: dict[int, str] = field(default_factory=dict)
    losses: list[Loss] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def skipped_missing_db(self) -> int:
        return sum(self.missing_db.values())


def server_rdb_version(info: dict[str, Any]) -> int:
    """The RDB version a server writes and reads, from ``INFO server``
    (FORMAT.md §1.3, §9.1)."""
    valkey = str(info.get("valkey_version") or "")
    if valkey:
        major = parse_version(valkey)[1][0]
        return VALKEY_VERSION if major >= 9 else 11
    major, minor, _ = parse_version(str(info.get("redis_version", "0.0.0")))[1]
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


def _keys(events: Iterable[Event]) -> Iterator[tuple[KeyStart | None, list[Event], int]]:
    """Group events per key: ``(KeyStart, its value events, the input offset after
    it)``; file-level events come as ``(None, [event], 0)``."""
    start: KeyStart | None = None
    values: list[Event] = []
    for ev in events:
        if isinstance(ev, KeyStart):
            start, values = ev, []
        elif isinstance(ev, KeyEnd):
            if start is not None:
                yield start, values, start.offset + ev.size
            start = None
        elif start is not None:
            values.append(ev)
        else:
            yield None, [ev], 0


Tagged = tuple[tuple[bytes | int, ...], bytes | None, str]
"""A command, the key it writes (if any) and what kind of command it is."""


class _Batch:
    """Commands sent together, each tagged with its key."""

    def __init__(self) -> None:
        self.commands: list[Tagged] = []

    def add(self, args: tuple[bytes | int, ...], key: bytes | None, kind: str) -> None:
        self.commands.append((args, key, kind))


def shown_key(key: bytes | None) -> str:
    """A key for a message (``rdbtools.errors.key_text``: a long one shortened)."""
    return repr(key) if key is None else key_text(key)


# --------------------------------------------------------------------------- links


UNKNOWN = object()
"""The reply of a command sent to a server that went away before answering."""


class _Lost(Exception):
    """The connection went away: ``replies`` are those read before it did (``UNKNOWN``
    for those that never came). ``sent``: whether the rest may have reached the server
    (``False``: refused before sending)."""

    def __init__(self, replies: list[Any], cause: BaseException, sent: bool = True) -> None:
        super().__init__(str(cause))
        self.replies = replies
        self.cause = cause
        self.sent = sent


def _lost_errors() -> tuple[type[BaseException], ...]:
    from redis import exceptions as rx

    return (rx.ConnectionError, rx.TimeoutError, rx.InvalidResponse, OSError)


def _config_get(client: Any, name: str) -> str | None:
    """A ``CONFIG GET`` value from the redis-py ``client``; ``None`` when CONFIG is
    renamed or refused."""
    from redis.exceptions import ResponseError

    try:
        value = client.config_get(name).get(name)
    except ResponseError:
        return None
    return None if value is None else str(value)


class _Standalone:
    """One connection to one server: batches are written whole, then their replies
    read; ``SELECT`` goes on its own and is checked."""

    cluster = False

    def __init__(self, client: Any) -> None:
        self.client = client
        self.conn = client.connection_pool.make_connection()
        # a health check may reconnect, and a new connection is in the URL's database
        # whatever was selected: never let it happen between a SELECT and its keys
        self.conn.health_check_interval = 0
        self.lost = _lost_errors()

    def close(self) -> None:
        self.conn.disconnect()

    def info_server(self) -> dict[str, Any]:
        return dict(self.client.info("server"))

    def check_not_cluster(self) -> None:
        """A cluster node answers ``MOVED`` for most keys: it needs the cluster client."""
        if cluster_enabled(self.client):
            raise RestoreError("the server is a cluster node: use a RedisCluster client "
                               "(rdbtools.ops.connection.connect finds out)")

    def config(self, name: str) -> str | None:
        return _config_get(self.client, name)

    def send(self, commands: list[tuple[bytes | int, ...]]) -> list[Any]:
        """Each command's reply, or the ``ResponseError`` it got; ``_Lost`` when the
        connection fails before every reply is read."""
        from redis.exceptions import ResponseError

        replies: list[Any] = []
        try:
            self.conn.send_packed_command(self.conn.pack_commands(commands))
            for _ in commands:
                try:
                    replies.append(self.conn.read_response())
                except ResponseError as exc:
                    replies.append(exc)
        except self.lost as exc:
            self.conn.disconnect()
            raise _Lost(replies, exc) from None
        return replies

    def select(self, db: int) -> str | None:
        """``SELECT db``: ``None`` when done, else the server's refusal."""
        reply = self.send([(b"SELECT", db)])[0]
        return str(reply) if isinstance(reply, Exception) else None

    def exists(self, key: bytes) -> bool:
        return bool(self.send([(b"EXISTS", key)])[0])

    def load_function(self, code: bytes) -> list[str]:
        reply = self.send([(b"FUNCTION", b"LOAD", b"REPLACE", code)])[0]
        return [str(reply)] if isinstance(reply, Exception) else []


_CONTAINERS = frozenset({b"XGROUP"})
"""Commands whose key position depends on their subcommand."""


def _by_name(args: tuple[bytes | int, ...]) -> tuple[bytes | int | str, ...]:
    """``args`` with the command's name (and a container command's subcommand) as str:
    the cluster client looks the key's position up by name, and finds no key (so no
    slot) when these are bytes."""
    name = args[0]
    if not isinstance(name, bytes):
        return args
    if name.upper() in _CONTAINERS and len(args) > 1 and isinstance(args[1], bytes):
        return (name.decode(), args[1].decode(), *args[2:])
    return (name.decode(), *args[1:])


class _Cluster:
    """redis-py's cluster client: a batch is one non-transactional ``ClusterPipeline``
    (grouped per primary, ``MOVED``/``ASK`` followed by redis-py)."""

    cluster = True

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lost = _lost_errors()

    def close(self) -> None:
        pass

    def _node(self) -> Any:
        return self.client.get_default_node().redis_connection

    def info_server(self) -> dict[str, Any]:
        return dict(self._node().info("server"))

    def config(self, name: str) -> str | None:
        return _config_get(self._node(), name)

    def send(self, commands: list[tuple[bytes | int, ...]]) -> list[Any]:
        from redis.exceptions import RedisClusterException, ResponseError

        pipe = self.client.pipeline(transaction=False)
        for args in commands:
            named = _by_name(args)
            # redis-py parses a reply by the command's name: XCLAIM ... JUSTID answers ids
            options = {"parse_justid": True} if named[0] == "XCLAIM" else {}
            pipe.execute_command(*named, **options)
        try:
            replies = list(pipe.execute(raise_on_error=False))
        except self.lost as exc:
            raise _Lost([], exc) from None
        except RedisClusterException as exc:  # no slot for a command: nothing was sent
            raise _Lost([], exc, sent=False) from None
        finally:
            pipe.reset()
        gone = [r for r in replies if isinstance(r, Exception)
                and not isinstance(r, ResponseError)]
        if gone:  # a node went away: what it was sent is not known to be written
            lost = {id(r) for r in gone}
            raise _Lost([UNKNOWN if id(r) in lost else r for r in replies], gone[0])
        return replies

    def select(self, db: int) -> str | None:
        return None if db == 0 else "a cluster has database 0 only"

    def exists(self, key: bytes) -> bool:
        return bool(self.send([(b"EXISTS", key)])[0])

    def load_function(self, code: bytes) -> list[str]:
        """``FUNCTION LOAD REPLACE`` on every primary; the refusals, by node."""
        from redis.exceptions import ResponseError

        errors = []
        for node in self.client.get_primaries():
            try:
                node.redis_connection.execute_command("FUNCTION", "LOAD", "REPLACE", code)
            except ResponseError as exc:
                errors.append(f"{node.name}: {exc}")
            except self.lost as exc:
                raise _Lost([], exc) from None
        return errors


class _DryRun:
    """Sends nothing: every command is taken as done."""

    cluster = False

    def send(self, commands: list[tuple[bytes | int, ...]]) -> list[Any]:
        return [b"OK"] * len(commands)

    def select(self, db: int) -> str | None:
        return None

    def exists(self, key: bytes) -> bool:
        return False

    def load_function(self, code: bytes) -> list[str]:
        return []

    def close(self) -> None:
        pass


_Link = _Standalone | _Cluster | _DryRun


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
    to_db: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RestoreSummary:
    """Write ``events`` into the server behind the redis-py ``client`` (a ``Redis`` or
    a ``RedisCluster``; ``rdbtools.ops.connection.connect`` gives the right one).

    ``conflict``: ``replace`` (RESTORE ... REPLACE, or DEL before commands),
    ``skip-existing`` (keys that exist are left alone and counted) or
    ``fail-on-conflict`` (an existing key is an error naming it). ``target_version``:
    the server's RDB version (asked from the server when ``None``). ``mode``: ``auto``,
    ``payload`` or ``commands``. ``dry_run`` encodes everything and sends nothing
    (``client`` may then be ``None`` when ``target_version`` is given). ``to_db``: the
    database every key goes to (default: its own). ``progress(done_bytes, keys)`` is
    called after each batch with the input offset reached and the keys handled.

    Raises ``RestoreError`` when the server refuses a key or the connection is lost
    (the message counts what was written); keys of databases the server lacks are not
    an error here: they are counted in ``summary.missing_db``."""
    if conflict not in CONFLICT_MODES:
        raise ValueError(f"conflict must be one of {', '.join(CONFLICT_MODES)}")
    if to_db is not None and to_db < 0:
        raise ValueError("to_db must be 0 or more")
    summary = RestoreSummary(dry_run=dry_run)
    server: _Standalone | _Cluster | None = None
    if client is not None and not (dry_run and target_version):
        server = _Cluster(client) if is_cluster(client) else _Standalone(client)
    if server is None and not target_version:
        raise ValueError("without a client, target_version is needed")
    link: _Link = _DryRun() if dry_run or server is None else server
    try:
        version = target_version or server_rdb_version(server.info_server() if server else {})
        summary.target_version = version
        if isinstance(server, _Standalone):
            server.check_not_cluster()
        summary.cluster = server is not None and server.cluster
        summary.databases = 1 if summary.cluster else _databases(server)
        payload_version: int | None = version if version >= 6 else None
        if payload_version is not None and payload_version not in WRITABLE_VERSIONS \
                and payload_version != VALKEY_VERSION:
            payload_version = max(WRITABLE_VERSIONS)
        max_bulk = _max_bulk(server)
        now = current_ms() if now_ms is None else now_ms
        state = _State(link, summary, conflict, progress)
        db: int | None = None
        for start, values, end in _keys(events):
            if start is None:
                ev = values[0]
                if isinstance(ev, Function) and not ev.pre_ga:
                    state.function(ev.code)
                continue
            state.offset = end
            if start.expire_ms is not None and start.expire_ms <= now:
                summary.skipped_expired += 1
                continue
            target = start.db if to_db is None else to_db
            if target != db:
                state.flush()
                db = target
                state.select(target)
            if target in state.refused:
                summary.missing_db[start.db] = summary.missing_db.get(start.db, 0) + 1
                summary.missing_reason.setdefault(start.db, state.refused[target])
                continue
            cmds = _key_commands(start, values, payload_version, mode, conflict, max_bulk,
                                 summary)
            if (cmds and cmds[0][2] in ("commands", "commands-last") and conflict != "replace"
                    and not dry_run):
                state.flush()
                if state.exists(start.key):
                    if conflict == "fail-on-conflict":
                        raise RestoreError(f"key {shown_key(start.key)} already exists "
                                           f"(db {target})")
                    summary.skipped_existing += 1
                    continue
            for args, key, kind in cmds:
                state.batch.add(args, key, kind)
            if len(state.batch.commands) >= pipeline:
                state.flush()
        state.flush()
        return summary
    finally:
        if server is not None:
            server.close()


def _config_int(server: _Standalone | _Cluster | None, name: str) -> int | None:
    """A numeric ``CONFIG GET`` value; ``None`` when unknown (CONFIG refused)."""
    value = server.config(name) if server is not None else None
    return int(value) if value and value.isdigit() else None


def _databases(server: _Standalone | _Cluster | None) -> int | None:
    """The server's number of databases; ``None`` when unknown (CONFIG refused)."""
    return _config_int(server, "databases")


def _max_bulk(server: _Standalone | _Cluster | None) -> int:
    value = _config_int(server, "proto-max-bulk-len")
    return 512 << 20 if value is None else value


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
    """The batch being built; sends it and reads its replies."""

    def __init__(self, link: _Link, summary: RestoreSummary, conflict: str,
                 progress: Callable[[int, int], None] | None) -> None:
        self.link = link
        self.summary = summary
        self.conflict = conflict
        self.progress = progress
        self.batch = _Batch()
        self.refused: dict[int, str] = {}
        """Databases not selected, with the reason."""
        self.handled = 0
        self.offset = 0

    def select(self, db: int) -> None:
        """Make ``db`` the database written to, or add it to ``refused`` (with the
        reason) when the server lacks it: nothing is sent to a database not selected."""
        s = self.summary
        if db in self.refused:
            return
        if s.databases is not None and db >= s.databases:
            reason = ("a cluster has database 0 only" if s.cluster
                      else f"the server has {s.databases} databases (0-{s.databases - 1})")
        else:
            reason = self._call(lambda: self.link.select(db)) or ""
        if reason:
            self.refused[db] = f"database {db}: {reason}"

    def function(self, code: bytes) -> None:
        errors = self._call(lambda: self.link.load_function(code))
        if errors:
            self.summary.errors += errors
            raise RestoreError(f"the server refused a function library: {errors[0]}")
        self.summary.functions += 1

    def exists(self, key: bytes) -> bool:
        return bool(self._call(lambda: self.link.exists(key)))

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except _Lost as lost:
            raise self._lost_error(lost, 0) from None

    def _lost_error(self, lost: _Lost, in_flight: int) -> RestoreError:
        written = self.summary.keys_written
        if not lost.sent:
            return RestoreError(f"a batch could not be sent after {written} keys written "
                                f"({in_flight} not sent): {one_line(lost.cause)}")
        return RestoreError(f"connection lost after {written} keys written ({in_flight} "
                            f"in flight, not known to be written): {one_line(lost.cause)}")

    def flush(self) -> None:
        batch, self.batch = self.batch, _Batch()
        if not batch.commands:
            return
        s = self.summary
        try:
            replies = self.link.send([c[0] for c in batch.commands])
        except _Lost as lost:
            replies = lost.replies + [UNKNOWN] * (len(batch.commands) - len(lost.replies))
            self._count(batch.commands, replies)
            in_flight = sum(1 for (_, _, kind), reply in zip(batch.commands, replies)
                            if reply is UNKNOWN and kind in KEY_KINDS)
            raise self._lost_error(lost, in_flight) from None
        failed, conflicts, oom = self._count(batch.commands, replies)
        if self.progress is not None:
            self.progress(self.offset, self.handled)
        if conflicts:
            s.errors.append(f"{len(conflicts)} key(s) already exist: "
                            + ", ".join(shown_key(k) for k in conflicts[:10]))
            raise RestoreError(s.errors[-1])
        if oom:
            s.errors += oom
            raise RestoreError(
                f"the server is out of memory (maxmemory): it refused {len(oom)} "
                f"command(s) after {s.keys_written} keys written; first: {oom[0]}")
        if failed:
            s.errors += failed
            raise RestoreError(f"the server refused {len(failed)} command(s) after "
                               f"{s.keys_written} keys written: " + "; ".join(failed[:5]))

    def _count(self, commands: list[Tagged], replies: list[Any]
               ) -> tuple[list[str], list[bytes], list[str]]:
        """Count what the replies say was done; the failures, the existing keys and the
        out-of-memory refusals."""
        from redis.exceptions import OutOfMemoryError

        s = self.summary
        failed: list[str] = []
        conflicts: list[bytes] = []
        oom: list[str] = []
        for (_, key, kind), reply in zip(commands, replies):
            if reply is UNKNOWN:
                continue
            if not isinstance(reply, Exception):
                self._done(kind)
                continue
            text = one_line(reply)
            if isinstance(reply, OutOfMemoryError):
                oom.append(f"{shown_key(key)}: OOM {text}")
                continue
            if kind == "payload" and text.startswith("BUSYKEY"):
                if self.conflict == "skip-existing":
                    s.skipped_existing += 1
                    self.handled += 1
                else:
                    conflicts.append(key or b"")
                continue
            failed.append(f"{shown_key(key)}: {text}" if key is not None else text)
        return failed, conflicts, oom

    def _done(self, kind: str) -> None:
        s = self.summary
        if kind == "payload":
            s.keys_written += 1
            s.by_payload += 1
            self.handled += 1
        elif kind == "commands-last":
            s.keys_written += 1
            s.by_commands += 1
            self.handled += 1
