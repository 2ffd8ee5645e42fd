"""``aof_check``: read a whole AOF (any form), verifying its manifest, its RDB preamble or
base (with the CRC-64) and the RESP framing of its commands, and summarize it.

The verdict and the position agree with ``redis-check-aof`` (FORMAT.md §8.6): on damage
the report holds the error (``FILE@OFFSET: what``), ``ok_up_to`` — the end of the last
complete command outside an open MULTI, where ``aoftool fix`` (like ``redis-check-aof
--fix``) truncates — and ``diff``, the bytes after it. Only damage in the last file can
be repaired that way (``last_file``).

With ``truncate_to_timestamp`` the report also says where ``aoftool fix
--truncate-to-timestamp`` would cut: at the first ``#TS:`` annotation later than it, in
the last file (one in an earlier file is an error, as in ``redis-check-aof``).

Commands are read in framing-only batches: nothing is decoded beyond what framing,
SELECT and MULTI/EXEC need, which is what makes this the fastest pass over an AOF.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdbtools import errors
from rdbtools.aof.reader import AofLayout, TimestampCut, iter_aof, open_aof
from rdbtools.aof.resp import Batch
from rdbtools.aof.timestamps import MAX_TIMESTAMP, timestamp_note
from rdbtools.errors import ParseError
from rdbtools.events import AofPart, End, Header, KeyStart

if TYPE_CHECKING:
    from rdbtools.replay import Refusal


@dataclass
class AofFileSummary:
    """One file: ``kind`` (single / base / incr), its size (``None`` on standard input),
    the RDB version, keys and end of its preamble or RDB base (``None`` / 0 without), and
    its commands."""

    path: str
    kind: str
    size: int | None
    rdb_version: int | None = None
    rdb_keys: int = 0
    rdb_end: int | None = None
    commands: int = 0


@dataclass
class AofCheckReport:
    """What ``aof_check`` found. ``problem`` is ``None`` when the AOF is sound."""

    path: str
    layout: AofLayout | None = None
    files: list[AofFileSummary] = field(default_factory=list)
    commands: int = 0
    first_timestamp: int | None = None
    last_timestamp: int | None = None
    problem: ParseError | None = None
    cut: TimestampCut | None = None
    bad_timestamps: dict[str, list[int]] = field(default_factory=dict)
    """file -> [batches after a ``#TS:`` beyond ``MAX_TIMESTAMP``, the first such value]"""
    replayed: bool = False
    replay_errors: dict[str, int] = field(default_factory=dict)
    """command name -> commands the server refuses on load (replay changes nothing)"""
    refusals: list[Refusal] = field(default_factory=list)
    """the first of them: where and why"""
    unknown: dict[str, int] = field(default_factory=dict)
    """command name -> commands replay does not know (not applied)"""

    @property
    def warnings(self) -> list[str]:
        """One line per file with ``#TS:`` annotations that are not times."""
        return [timestamp_note(path, n, ts, None)
                for path, (n, ts) in self.bad_timestamps.items()]

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)

    @property
    def ok_up_to(self) -> int | None:
        """Where the damaged file is valid up to (framing damage only)."""
        return errors.ok_up_to(self.problem) if self.problem is not None else None

    @property
    def last_file(self) -> bool:
        """Whether the damage is in the last file (the only one ``fix`` may cut)."""
        p = self.problem
        return bool(p is not None and getattr(p, "last_file", False))

    @property
    def diff(self) -> int | None:
        """Bytes after ``ok_up_to`` in the damaged file."""
        ok = self.ok_up_to
        if ok is None or self.problem is None:
            return None
        size = _size(self.problem.source)
        return None if size is None else size - ok

    def problem_line(self) -> str:
        """The damage as one line, ``FILE@OFFSET: what`` and ``redis-check-aof``'s
        ``ok_up_to`` / ``diff`` when truncation applies."""
        assert self.problem is not None
        text = str(self.problem)
        if self.ok_up_to is not None:
            text += f" [ok_up_to={self.ok_up_to}, diff={self.diff}"
            if self.last_file:
                text += "; aoftool fix truncates there"
            else:
                text += "; not the last file: truncation cannot repair it"
            text += "]"
        return text


def _size(path: str | None) -> int | None:
    try:
        return os.path.getsize(path) if path and path != "-" else None
    except OSError:
        return None


def aof_check(path: str | AofLayout, *, verify_checksum: bool = True,
              truncate_to_timestamp: int | None = None, jobs: int = 1,
              replay: bool = False) -> AofCheckReport:
    """Read all of the AOF at ``path`` and report (damage does not raise: it is the
    report's ``problem``). ``OSError`` (a path that cannot be read) does raise. With
    ``jobs`` > 1 a big file is read by two processes (``rdbtools.aof._split``: same
    verdict, same positions). ``replay``: when the AOF is sound, also replay it (the
    keyspace is held in memory) and report the commands the server refuses when it
    loads them (``replay_errors``, ``refusals``) and those replay does not know."""
    report = AofCheckReport(path if isinstance(path, str) else path.path)
    try:
        layout = path if isinstance(path, AofLayout) else open_aof(path)
        report.layout = layout
        _scan(report, layout, verify_checksum, truncate_to_timestamp, jobs)
        if replay and report.problem is None:
            from rdbtools.replay import Replayer  # loaded only to replay

            replayer = Replayer(skip_unknown=True)
            replayer.apply(iter_aof(layout, verify_checksum=False))  # verified above
            report.replayed = True
            report.replay_errors = dict(replayer.errors)
            report.refusals = list(replayer.refusals)
            report.unknown = dict(replayer.skipped)
    except ParseError as err:
        report.problem = err
    return report


def _scan(report: AofCheckReport, layout: AofLayout, verify: bool,
          limit: int | None, jobs: int) -> None:
    cur: AofFileSummary | None = None
    first = last = None
    for item in iter_aof(layout, verify_checksum=verify, timestamp_limit=limit,
                         framing_only=True, jobs=jobs):
        tp = type(item)
        if tp is Batch:
            assert isinstance(item, Batch) and cur is not None
            cur.commands += item.count
            ts = item.timestamp
            if ts is not None and ts > MAX_TIMESTAMP:
                bad = report.bad_timestamps.setdefault(cur.path, [0, ts])
                bad[0] += 1
            elif ts is not None:
                if first is None or ts < first:
                    first = ts
                if last is None or ts > last:
                    last = ts
        elif tp is AofPart:
            assert isinstance(item, AofPart)
            cur = AofFileSummary(item.path, item.kind, _size(item.path))
            report.files.append(cur)
        elif tp is KeyStart and cur is not None:
            cur.rdb_keys += 1
        elif tp is Header and cur is not None:
            assert isinstance(item, Header)
            cur.rdb_version = item.version
        elif tp is End and cur is not None:
            assert isinstance(item, End)
            cur.rdb_end = item.offset + (1 if item.checksum is None else 9)
        elif tp is TimestampCut:
            assert isinstance(item, TimestampCut)
            report.cut = item
    report.commands = sum(f.commands for f in report.files)
    report.first_timestamp, report.last_timestamp = first, last
