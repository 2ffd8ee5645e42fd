"""Text and JSON forms of the AOF reports (``aoftool check``, ``fix``, ``stats``,
``rewrite``)."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from rdbtools.formats.display import json_bytes, show

if TYPE_CHECKING:  # the reports' types only: the operations load when they run
    from rdbtools.ops.aof_check import AofCheckReport
    from rdbtools.ops.aof_fix import AofFixReport
    from rdbtools.ops.aof_rewrite import AofRewriteReport
    from rdbtools.ops.aof_stats import AofStatsReport

TIMELINE_ROWS = 60
"""Minutes listed by the text timeline (the first and last halves beyond that)."""


def utc(ts: int, minute: bool = False) -> str:
    """``ts`` (unix seconds) as a UTC date; one the platform's calendar cannot show (far
    beyond the year 9999) as ``beyond the calendar``."""
    try:
        return time.strftime("%Y-%m-%d %H:%M" if minute else "%Y-%m-%dT%H:%M:%SZ",
                             time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return "beyond the calendar"


def _name(path: str) -> str:
    return os.path.basename(path) or path


def check_verdict(report: AofCheckReport) -> str:
    """The first line of a sound AOF's summary. As ``redis-check-aof`` (and the server)
    read them, an empty file is an empty AOF and an RDB file is an AOF whose RDB
    preamble has no commands after it: both are sound, but neither is called ``ok``,
    since a user who names one has most likely picked the wrong file."""
    layout = report.layout
    single = len(report.files) == 1 and (layout is None or layout.manifest is None)
    if single and report.size == 0 and report.files[0].rdb_version is None \
            and not report.commands:
        return (f"{report.path}: empty (0 bytes): a server loads it as an empty dataset, "
                "as redis-check-aof says")
    if single and report.files[0].rdb_version is not None and not report.commands:
        return (f"{report.path}: an RDB file, no AOF commands: valid as an AOF only as an "
                "RDB preamble with nothing after it (as redis-check-aof reads it); "
                "rdbtool check reads it as a snapshot")
    return f"{report.path}: ok"


def check_text(report: AofCheckReport) -> str:
    """The summary of a sound AOF (the damage of an unsound one is ``problem_line``)."""
    layout = report.layout
    lines = [check_verdict(report)]
    if layout is not None and layout.manifest is not None:
        m = layout.manifest
        lines.append(f"  manifest    {_name(m.path)}: {1 if m.base else 0} base, "
                     f"{len(m.incrs)} incr, {len(m.history)} history")
    width = max((len(_name(f.path)) for f in report.files), default=0)
    for f in report.files:
        what = []
        if f.rdb_version is not None:
            what.append(f"RDB {f.rdb_version} ({f.rdb_keys} keys)")
        if f.commands or f.rdb_version is None:
            what.append(f"{f.commands} commands")
        size = "-" if f.size is None else str(f.size)
        lines.append(f"  {f.kind:<10}  {_name(f.path):<{width}}  {size:>10} bytes  "
                     + ", ".join(what))
    lines.append(f"  commands    {report.commands}")
    lines.append(f"  bytes       {report.size}")
    if report.first_timestamp is None or report.last_timestamp is None:
        lines.append("  timestamps  none (no #TS: annotations)")
    else:
        lines.append(f"  timestamps  {report.first_timestamp} .. {report.last_timestamp} "
                     f"({utc(report.first_timestamp)} .. {utc(report.last_timestamp)})")
    if report.replayed:
        lines += _replay_lines(report)
    return "\n".join(lines) + "\n"


def _counts(by_name: dict[str, int]) -> str:
    return ", ".join(f"{n} x{c}" for n, c in sorted(by_name.items()))


def _replay_lines(report: AofCheckReport) -> list[str]:
    """``check --replay``: the commands the server refuses on load, the first of them
    with where and why, and the commands replay does not know."""
    refused = sum(report.replay_errors.values())
    if not refused and not report.unknown:
        return ["  replay      every command applies"]
    lines = []
    if refused:
        lines.append(f"  replay      {refused} command(s) the server refuses on load, "
                     f"changing nothing: {_counts(report.replay_errors)}")
        lines += [f"    {_name(x.source or report.path)}@{x.offset}: {x.name}: "
                  f"{x.reason}" for x in report.refusals]
        if refused > len(report.refusals):
            lines.append(f"    ... {refused - len(report.refusals)} more")
    if report.unknown:
        lines.append(f"  replay      {sum(report.unknown.values())} command(s) replay does "
                     f"not know: {_counts(report.unknown)}")
    return lines


def cut_text(report: AofCheckReport, limit: int) -> str:
    """The ``--truncate-to-timestamp`` line of ``check``."""
    cut = report.cut
    if cut is None:
        return f"  truncate    nothing after timestamp {limit} ({utc(limit)})\n"
    size = os.path.getsize(cut.path)
    return (f"  truncate    {_name(cut.path)} at offset {cut.offset} (the first #TS: "
            f"after {limit}): {size - cut.offset} bytes would go; aoftool fix "
            f"--truncate-to-timestamp {limit} does it\n")


def fix_text(report: AofFixReport, dry_run: bool) -> str:
    if report.file is None:
        return f"{report.path}: nothing to fix\n"
    verb = "would keep" if dry_run else "kept"
    lines = []
    if report.problem:
        lines.append(f"problem: {report.problem}")
    lines.append(f"{report.file}: {verb} {report.new_size} of {report.original_size} bytes")
    for d in report.dropped:
        lines.append(f"  dropped bytes {d.start}..{d.end} ({d.size} bytes): {d.reason}")
    for w in report.warnings:
        lines.append(f"  warning: {w}")
    if report.backup:
        lines.append(f"  original kept as {report.backup}")
    return "\n".join(lines) + "\n"


def _timeline_rows(timeline: dict[int, int]) -> list[tuple[int, int] | None]:
    rows: list[tuple[int, int] | None] = list(sorted(timeline.items()))
    if len(rows) > TIMELINE_ROWS:
        half = TIMELINE_ROWS // 2
        rows = [*rows[:half], None, *rows[-half:]]
    return rows


def stats_text(r: AofStatsReport) -> str:
    lines = [f"{r.path}: {len(r.files)} file(s), {r.commands} commands, {r.size} bytes of "
             f"commands" + (f", {r.rdb_keys} RDB keys" if r.rdb_keys else "")]
    lines.append("commands by name:")
    lines.append(f"  {'count':>10}  {'bytes':>12}  name")
    for name, (count, size) in sorted(r.by_name.items(), key=lambda kv: (-kv[1][0], kv[0])):
        lines.append(f"  {count:>10}  {size:>12}  {show(name)}")
    lines.append("writes per database:")
    for db, n in sorted(r.by_db.items()):
        lines.append(f"  db {db:<4} {n}")
    exact = "exact" if r.decrements == 0 else \
        f"lower bounds, each at most {r.decrements} below the true count"
    lines.append(f"most written keys (Misra-Gries summary, {r.capacity} counters; counts "
                 f"are {exact}):")
    for db, key, n in r.top_keys:
        lines.append(f"  {n:>10}  db {db:<4} {show(key)}")
    if r.timeline:
        lines.append("timeline (#TS: annotations, commands per minute, UTC):")
        if r.untimed:
            lines.append(f"  {'(before the first #TS:)':<16}  {r.untimed}")
        for row in _timeline_rows(r.timeline):
            lines.append("  ..." if row is None else f"  {utc(row[0], True)}  {row[1]:>10}")
    else:
        lines.append("timeline: none (no #TS: annotations)")
    return "\n".join(lines) + "\n"


def stats_json(r: AofStatsReport) -> str:
    doc: dict[str, Any] = {
        "path": r.path,
        "files": [{"path": f.path, "kind": f.kind, "commands": f.commands}
                  for f in r.files],
        "commands": r.commands,
        "bytes": r.size,
        "rdb_keys": r.rdb_keys,
        "by_command": {show(name): {"count": c, "bytes": b}
                       for name, (c, b) in sorted(r.by_name.items())},
        "by_db": {str(db): n for db, n in sorted(r.by_db.items())},
        "top_keys": {
            "method": "misra-gries",
            "counters": r.capacity,
            "max_undercount": r.decrements,
            "exact": r.decrements == 0,
            "keys": [{"db": db, "key": json_bytes(key), "writes": n}
                     for db, key, n in r.top_keys],
        },
        "timeline": {
            "per_minute": [{"minute": m, "utc": utc(m, True), "commands": n}
                           for m, n in sorted(r.timeline.items())],
            "before_first_timestamp": r.untimed if r.timeline else None,
        },
    }
    return json.dumps(doc, ensure_ascii=False) + "\n"


def origin_line(r: AofRewriteReport) -> str:
    """The one line (on standard error) saying which server the rewrite is for and why."""
    return f"target {r.server} (RDB {r.version}, format {r.format}): {r.reason}"


def _share(before: int, after: int) -> str:
    return f"{after / before * 100:.1f} %" if before else "-"


def rewrite_text(r: AofRewriteReport) -> str:
    """The report ``aoftool rewrite`` prints."""
    lines = [f"{r.path}: rewritten as {r.format} for {r.server} (RDB version {r.version}), "
             f"{r.keys} keys -> {r.output}"]
    for name, size in r.before:
        lines.append(f"  before  {name:<32} {size:>12} bytes")
    for name, size in r.after:
        lines.append(f"  after   {name:<32} {size:>12} bytes")
    lines.append(f"  size    {r.size_before} -> {r.size_after} bytes "
                 f"({_share(r.size_before, r.size_after)} of before)")
    for name in r.leftovers:
        lines.append(f"  removed {name} (left by an interrupted rewrite)")
    for name in r.removed:
        lines.append(f"  removed {name}")
    for name in r.history:
        lines.append(f"  history {name}")
    if r.backup is not None:
        lines.append(f"  original kept as {r.backup}")
    if r.replay_errors:
        failed = ", ".join(f"{n} x{c}" for n, c in sorted(r.replay_errors.items()))
        lines.append(f"  commands that failed on replay as on the server (no effect): {failed}")
    if r.skipped:
        skipped = ", ".join(f"{n} x{c}" for n, c in sorted(r.skipped.items()))
        lines.append(f"  unknown commands skipped: {skipped}")
    if r.carried:
        carried = ", ".join(f"{n} x{c}" for n, c in r.carried.items())
        lines.append(f"  commands not replayed, kept as they were: {carried}")
    for loss in r.losses:
        lines.append(f"  lost    {loss}")
    return "\n".join(lines) + "\n"


def rewrite_json(r: AofRewriteReport) -> str:
    """The rewrite report as one JSON document (``aoftool rewrite --json``)."""
    doc = {
        "path": r.path,
        "layout": r.layout,
        "format": r.format,
        "version": r.version,
        "server": r.server,
        "reason": r.reason,
        "format_reason": r.format_reason,
        "output": r.output,
        "original": r.original,
        "backup": r.backup,
        "keys": r.keys,
        "dropped_keys": r.dropped_keys,
        "size_before": r.size_before,
        "size_after": r.size_after,
        "before": [{"file": n, "bytes": s} for n, s in r.before],
        "after": [{"file": n, "bytes": s} for n, s in r.after],
        "removed": list(r.removed),
        "history": list(r.history),
        "leftovers_removed": list(r.leftovers),
        "replay_errors": dict(sorted(r.replay_errors.items())),
        "skipped": dict(sorted(r.skipped.items())),
        "not_replayed": r.carried,
        "losses": list(r.losses),
    }
    return json.dumps(doc, indent=2) + "\n"
