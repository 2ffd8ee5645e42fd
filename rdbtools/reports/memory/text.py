"""The ``rdbtool memory`` text summary: aligned tables for people. Memory figures are
estimated bytes in a running server (``MemoryRow.memory``), written in full."""

from __future__ import annotations

from rdbtools.formats.display import show, table
from rdbtools.memory.aggregate import Bucket, MemorySummary, PrefixTotal, Total
from rdbtools.reports.memory._shared import listed_prefixes, model_lines


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _totals(title: str, head: str, totals: tuple[Total, ...]) -> list[str]:
    rows = [[head, "keys", "memory", "share"]]
    rows += [[t.name, str(t.keys), str(t.memory), _pct(t.share)] for t in totals]
    return [title] + table(rows, "lrrr")


def _buckets(title: str, buckets: tuple[Bucket, ...], whole: int) -> list[str]:
    rows = [["bucket", "keys", "memory", "share"]]
    rows += [
        [b.name, str(b.keys), str(b.memory), _pct(b.memory / whole if whole else 0.0)]
        for b in buckets
    ]
    return [title] + table(rows, "lrrr")


def _prefix_row(p: PrefixTotal, name: str | None = None) -> list[str]:
    return [str(p.keys), str(p.memory), _pct(p.share), name if name else show(p.prefix)]


def _unit(summary: MemorySummary) -> str:
    """What a depth counts: segments (patterns) or separators (raw prefixes)."""
    return "segments" if summary.patterns else "separators"


def summary_text(summary: MemorySummary, *, prefix_rows: int = 10) -> str:
    """A report for people: totals, biggest keys, prefixes, distributions."""
    many = len(summary.files) > 1
    lines = [
        f"keys: {summary.keys}, memory: {summary.memory} bytes estimated "
        f"({summary.size} bytes serialized), files: {len(summary.files)}"
    ]
    lines += model_lines(summary)
    if many:
        rows = [["file", "keys", "memory", "share"]]
        rows += [[f.file, str(f.keys), str(f.memory), _pct(f.share)] for f in summary.files]
        lines += ["files:"] + table(rows, "lrrr")
    lines += _totals("databases:", "db", summary.dbs)
    lines += _totals("types:", "type", summary.types)
    lines += _totals("encodings (in memory):", "type/encoding", summary.encodings)
    if summary.top:
        lines.append(f"biggest keys (top {len(summary.top)} by memory):")
        head = ["memory", "type", "encoding", "elements", "db", "key"] + (["file"] if many else [])
        rows = [head]
        for r in summary.top:
            rows.append(
                [str(r.memory), r.type, r.encoding, str(r.elements), str(r.db), show(r.key)]
                + ([r.file] if many else [])
            )
        lines += table(rows, "rllrrl" + ("l" if many else ""))
    for level in summary.prefixes:
        shown, other = listed_prefixes(level, prefix_rows, summary.memory)
        kind = "patterns" if summary.patterns else "prefixes"
        lines.append(f"{kind}, depth {level.depth} (separator {show(summary.separator)!r}):")
        rows = [["keys", "memory", "share", "prefix"]]
        rows += [_prefix_row(p) for p in shown]
        if other is not None:
            rows.append(_prefix_row(other, "(other)"))
        if level.without.keys:
            rows.append(_prefix_row(level.without, f"(keys with fewer than {level.depth} "
                                    f"{_unit(summary)})"))
        lines += table(rows, "rrrl")
    nows = sorted({(f.now_ms, f.now_from) for f in summary.files})
    when = ", ".join(f"{ms} ({source})" for ms, source in nows) or "-"
    lines += _buckets(f"ttl (time left, relative to {when}):", summary.ttl, summary.memory)
    if summary.spreads:
        lines.append("per type: elements (string: bytes) and memory per key:")
        rows = [["type", "keys", "what", "min", "p50", "p90", "p99", "max"]]
        for s in summary.spreads:
            for what, spread in (("elements", s.elements), ("memory", s.memory)):
                rows.append(
                    [s.type if what == "elements" else "", str(s.keys) if what == "elements"
                     else "", what, str(spread.min)]
                    + [str(v) for _, v in spread.percentiles]
                    + [str(spread.max)]
                )
        lines += table(rows, "lrlrrrrr")
    if summary.idle:
        lines += _buckets("idle time (LRU):", summary.idle, summary.memory)
    if summary.freq:
        lines += _buckets("access frequency (LFU counter):", summary.freq, summary.memory)
    return "\n".join(lines) + "\n"
