"""``aof_stats``: what an AOF is made of, in one pass and bounded memory.

* commands by name (upper-cased): count and bytes (each command's exact size in the
  file);
* writes per database: commands other than SELECT / MULTI / EXEC, by the database
  they run in;
* most written keys: the keys commands name (``rdbtools.aof.keys``), counted with the
  Misra-Gries heavy-hitters summary — at most ``capacity`` counters whatever the number
  of distinct keys. Each reported count is a lower bound, at most ``decrements`` below
  the true count; when ``decrements`` is 0 (fewer distinct keys than counters) the counts
  are exact. Any key written more than ``total / (capacity + 1)`` times is sure to be
  listed;
* the timeline: commands per minute (UTC) from the ``#TS:`` annotations, when the AOF
  has them (commands before the first annotation are counted apart);
* the keys of an RDB preamble or base (how many).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rdbtools.aof.keys import NOT_WRITES, command_keys
from rdbtools.aof.reader import AofLayout, iter_aof
from rdbtools.aof.resp import Batch
from rdbtools.aof.timestamps import MAX_TIMESTAMP, timestamp_note
from rdbtools.events import AofPart, KeyStart


class MisraGries:
    """The Misra-Gries frequent-items summary with ``capacity`` counters."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.counts: dict[tuple[int, bytes], int] = {}
        self.decrements = 0
        self.total = 0

    def add(self, item: tuple[int, bytes]) -> None:
        self.total += 1
        counts = self.counts
        c = counts.get(item)
        if c is not None:
            counts[item] = c + 1
        elif len(counts) < self.capacity:
            counts[item] = 1
        else:  # decrement every counter (the new item's 1 cancels too)
            self.decrements += 1
            for k, v in list(counts.items()):
                if v == 1:
                    del counts[k]
                else:
                    counts[k] = v - 1

    def top(self, n: int) -> list[tuple[tuple[int, bytes], int]]:
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


@dataclass
class AofFileStats:
    """One file of the AOF: its path, kind (single / base / incr) and commands."""

    path: str
    kind: str
    commands: int = 0


@dataclass
class AofStatsReport:
    """The statistics of one AOF (see the module docstring)."""

    path: str
    files: list[AofFileStats] = field(default_factory=list)
    commands: int = 0
    size: int = 0
    rdb_keys: int = 0
    by_name: dict[bytes, list[int]] = field(default_factory=dict)
    """name -> [count, bytes]"""
    by_db: Counter[int] = field(default_factory=Counter)
    top_keys: list[tuple[int, bytes, int]] = field(default_factory=list)
    """(db, key, count lower bound), most written first."""
    capacity: int = 0
    decrements: int = 0
    timeline: dict[int, int] = field(default_factory=dict)
    """minute start (unix seconds) -> commands"""
    untimed: int = 0
    """commands before the first ``#TS:`` annotation"""
    bad_timestamps: dict[str, list[int]] = field(default_factory=dict)
    """file -> [batches after a ``#TS:`` beyond ``MAX_TIMESTAMP`` (left out of the
    timeline), the first such value, the offset of the command after it]"""

    @property
    def warnings(self) -> list[str]:
        """One line per file with ``#TS:`` annotations that are not times."""
        return [timestamp_note(path, n, ts, off if off >= 0 else None)
                for path, (n, ts, off) in self.bad_timestamps.items()]


def aof_stats(path: str | AofLayout, *, top: int = 10, capacity: int = 1024,
              verify_checksum: bool = True) -> AofStatsReport:
    """Gather the statistics of the AOF at ``path``; damage raises the reader's error."""
    report = AofStatsReport(path if isinstance(path, str) else path.path)
    hh = MisraGries(max(capacity, top))
    names: dict[bytes, bytes] = {}
    by_name = report.by_name
    by_db = report.by_db
    timeline = report.timeline
    cur: AofFileStats | None = None
    for item in iter_aof(path, verify_checksum=verify_checksum):
        if type(item) is Batch:
            assert isinstance(item, Batch) and cur is not None
            db = item.db
            writes = 0
            for args, size in zip(item.args, item.sizes()):
                name = names.get(args[0])
                if name is None:
                    name = args[0].upper()
                    if len(names) < 4096:
                        names[args[0]] = name
                stat = by_name.get(name)
                if stat is None:
                    by_name[name] = [1, size]
                else:
                    stat[0] += 1
                    stat[1] += size
                if name in NOT_WRITES:
                    continue
                writes += 1
                for key in command_keys(name, args):
                    hh.add((db, key))
            by_db[db] += writes
            cur.commands += item.count
            ts = item.timestamp
            if ts is None:
                report.untimed += item.count
            elif ts > MAX_TIMESTAMP:
                bad = report.bad_timestamps.setdefault(
                    cur.path, [0, ts, item.offsets[0] if item.offsets else -1])
                bad[0] += 1
            else:
                minute = ts - ts % 60
                timeline[minute] = timeline.get(minute, 0) + item.count
        elif isinstance(item, AofPart):
            cur = AofFileStats(item.path, item.kind)
            report.files.append(cur)
        elif isinstance(item, KeyStart):
            report.rdb_keys += 1
    report.commands = sum(v[0] for v in by_name.values())
    report.size = sum(v[1] for v in by_name.values())
    report.top_keys = [(db, key, n) for (db, key), n in hh.top(top)]
    report.capacity, report.decrements = hh.capacity, hh.decrements
    return report
