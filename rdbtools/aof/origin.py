"""Which server wrote an AOF, from what the AOF shows of itself: the target that
``aoftool rewrite`` writes for by default, so that the server that wrote the AOF loads
the rewrite (FORMAT.md §8.4, §8.5).

The evidence, strongest first:

* an RDB part (a single file's preamble, a multi-part ``.base.rdb``): its RDB version
  (``REDIS0009`` = 5.0-6.2, ``10`` = 7.0, ``11`` = 7.2, ``12`` = 7.4+, ``VALKEY080`` =
  Valkey 9) and its AUX ``redis-ver`` / ``valkey-ver``, which names the server;
* the layout: only Redis 7.0+ and Valkey keep a multi-part directory (7.0 turns a single
  file into one when it starts), and only a single file comes from Redis 6.2 or older;
* ``#TS:`` annotations (``aof-timestamp-enabled``, 7.0+);
* commands and options that only newer servers write: ``FUNCTION``, the ``*MPOP``
  family, ``XSETID ... ENTRIESADDED``, ``XGROUP CREATE ... ENTRIESREAD`` (7.0); the
  hash field TTL commands (7.4); a hash with field TTLs in the keyspace (7.4).

The decision: the version of the RDB part, raised to what the layout and the commands
need (a 6.2 preamble in a multi-part directory is read by a 7.0+ server now). Without
an RDB part: a single file with no newer evidence was written by Redis 6.2 or older and
gets 6.2's forms (the newest the evidence allows: older servers wrote no streams with
consumer groups); otherwise the oldest server that the evidence allows (7.0 for a
multi-part AOF), whose forms every newer server loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter

from rdbtools.aof.reader import AofItem
from rdbtools.aof.resp import Batch
from rdbtools.events import AofPart, Aux, Command, Header
from rdbtools.rdb.targets import VALKEY_VERSION, WRITABLE_VERSIONS, Target

SERVERS = {6: "Redis 3.0", 7: "Redis 3.2", 8: "Redis 4.0", 9: "Redis 6.2", 10: "Redis 7.0",
           11: "Redis 7.2", 12: "Redis 7.4", VALKEY_VERSION: "Valkey 9"}
"""The server whose forms each target RDB version stands for."""

SINCE: dict[bytes, int] = {
    b"FUNCTION": 10, b"LMPOP": 10, b"BLMPOP": 10, b"ZMPOP": 10, b"BZMPOP": 10,
    b"HEXPIRE": 12, b"HPEXPIRE": 12, b"HEXPIREAT": 12, b"HPEXPIREAT": 12, b"HPERSIST": 12,
    b"HSETEX": 12, b"HGETEX": 12, b"HGETDEL": 12,
}
"""Commands, by the RDB version of the first server that has them."""

_first = itemgetter(0)

_OPTIONS = frozenset({b"XSETID", b"XGROUP"})
"""Commands whose 7.0 options are looked at (``_option_level``)."""


def _option_level(args: tuple[bytes, ...]) -> int:
    """10 for ``XSETID key id ENTRIESADDED ...`` and ``XGROUP CREATE ... ENTRIESREAD``."""
    name = args[0].upper()
    if name == b"XSETID":
        return 10 if len(args) > 3 else 0
    if len(args) > 5 and args[1].upper() == b"CREATE":
        return 10 if any(a.upper() == b"ENTRIESREAD" for a in args[5:]) else 0
    return 0


@dataclass(frozen=True, slots=True)
class Origin:
    """The target chosen: ``target``, the ``server`` it stands for and ``reason``, the
    evidence in one sentence."""

    target: Target
    server: str
    reason: str

    @property
    def version(self) -> str:
        """``"9"`` ... ``"12"`` or ``"valkey"``."""
        return "valkey" if self.target.valkey else str(self.target.version)


class OriginWatch:
    """Collects the evidence from the items of ``iter_aof`` as they pass (``watch``);
    ``origin()`` then decides. ``timestamp`` is the last ``#TS:`` annotation seen."""

    def __init__(self) -> None:
        self.rdb_version: int | None = None
        self.valkey = False
        self.server_ver: str | None = None
        self.rdb_kind: str | None = None
        """``preamble`` or ``base``: where the RDB part was."""
        self.timestamp: int | None = None
        self.level = 0
        """The newest RDB version that the commands need, and the first command that
        showed it."""
        self.level_by: str = ""
        self.part: str | None = None
        """The file being read."""
        self._kind = "single"

    def watch(self, items: Iterable[AofItem]) -> Iterator[AofItem]:
        for ev in items:
            tp = type(ev)
            if tp is Batch:
                self._batch(ev)  # type: ignore[arg-type]
            elif tp is Command:
                assert isinstance(ev, Command)
                if ev.timestamp is not None:
                    self.timestamp = ev.timestamp
                self._commands([ev.args])
            elif tp is AofPart:
                assert isinstance(ev, AofPart)
                self.part, self._kind = ev.path, ev.kind
            elif tp is Header:
                assert isinstance(ev, Header)
                if self.rdb_version is None or ev.version > self.rdb_version:
                    self.rdb_version = ev.version
                self.valkey = self.valkey or ev.magic.upper() == "VALKEY"
                self.rdb_kind = "base" if self._kind == "base" else "preamble"
            elif tp is Aux:
                assert isinstance(ev, Aux)
                if ev.name in (b"redis-ver", b"valkey-ver") and (
                        self.server_ver is None or ev.name == b"valkey-ver"):
                    server = "Valkey" if ev.name == b"valkey-ver" else "Redis"
                    self.server_ver = f"{server} {ev.value.decode('ascii', 'replace')[:32]}"
            yield ev

    def _batch(self, b: Batch) -> None:
        if b.timestamp is not None:
            self.timestamp = b.timestamp
        self._commands(b.args)

    def _commands(self, commands: Iterable[tuple[bytes, ...]]) -> None:
        """The names of a batch first (each once, in the order the file has them, so the
        first command that shows a level is the one named, whatever the hash seed); the
        arguments only of the few commands whose options tell a version."""
        try:
            names = dict.fromkeys(map(_first, commands))
        except IndexError:  # an empty command
            names = dict.fromkeys(args[0] for args in commands if args)
        for name in names:
            upper = name.upper()
            level = SINCE.get(upper, 0)
            if level > self.level:
                self.level, self.level_by = level, upper.decode("ascii", "replace")
            if upper in _OPTIONS:
                for args in commands:
                    if args and args[0] == name:
                        level = _option_level(args)
                        if level > self.level:
                            self.level = level
                            self.level_by = f"{upper.decode()} ... " + \
                                ("ENTRIESADDED" if upper == b"XSETID" else "ENTRIESREAD")

    def need(self, level: int, why: str) -> None:
        """More evidence from outside the stream (e.g. the replayed keyspace)."""
        if level > self.level:
            self.level, self.level_by = level, why

    def origin(self, multi: bool, to_version: int | str | None = None) -> Origin:
        """The target: ``to_version`` when given, else the evidence's (module docstring).
        ``multi``: the AOF is a multi-part directory."""
        if to_version is not None:
            t = Target.of(to_version)
            return Origin(t, SERVERS[t.version], "given with --to-version")
        low, low_why = self.level, self._level_text()
        if multi and low < 10:
            low, low_why = 10, "a multi-part AOF (Redis 7.0+)"
        if self.timestamp is not None and low < 10:
            low, low_why = 10, "#TS: annotations (Redis 7.0+)"
        if self.valkey:
            t = Target.of(VALKEY_VERSION)
            return Origin(t, self.server_ver or SERVERS[VALKEY_VERSION],
                          f"the RDB {self.rdb_kind} is Valkey's (RDB {self.rdb_version})")
        if self.rdb_version is not None:
            usable = [v for v in WRITABLE_VERSIONS if v <= self.rdb_version]
            level = usable[-1] if usable else WRITABLE_VERSIONS[0]
            said = f"the RDB {self.rdb_kind} (RDB {self.rdb_version}"
            said += f", {self.server_ver})" if self.server_ver else ")"
            if low <= level:
                return Origin(Target.of(level), self.server_ver or SERVERS[level],
                              f"written by {said}")
            return Origin(Target.of(low), SERVERS[low],
                          f"{said} is read by {SERVERS[low]}+ now: {low_why}")
        if low == 0:
            return Origin(Target.of(9), SERVERS[9], "no RDB preamble, no #TS: annotation, "
                          "no command of a newer server, a single file: written by Redis "
                          "6.2 or older; assumed 6.2")
        return Origin(Target.of(low), SERVERS[low],
                      f"{low_why}; no RDB part: assumed the oldest such server, whose "
                      "commands every newer one loads")

    def _level_text(self) -> str:
        return f"{self.level_by} (Redis {SERVERS.get(self.level, '?').split()[-1]}+)" \
            if self.level else ""
