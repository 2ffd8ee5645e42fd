"""The ``rdbtool memory --json`` document: a ``MemorySummary`` as JSON-ready data.

Byte strings (keys, prefixes, the separator) are written as the dump formats write them:
a string when valid UTF-8, else ``{"b64": ...}``. ``prefix_rows`` bounds the prefixes
listed per depth; the unlisted ones are added to that depth's ``other`` entry.
"""

from __future__ import annotations

import json
from typing import Any

from rdbtools.formats.display import json_bytes
from rdbtools.memory.aggregate import (
    Bucket,
    FileTotal,
    MemorySummary,
    PrefixLevel,
    PrefixTotal,
    Spread,
    Total,
)
from rdbtools.memory.model import MODEL_HINT
from rdbtools.memory.rows import MemoryRow
from rdbtools.reports.memory._shared import listed_prefixes


def row_dict(row: MemoryRow) -> dict[str, Any]:
    """One row with the columns of the JSON Lines output."""
    return {
        "file": row.file,
        "db": row.db,
        "key": json_bytes(row.key),
        "type": row.type,
        "encoding": row.encoding,
        "memory": row.memory,
        "size": row.size,
        "elements": row.elements,
        "largest_element": row.largest_element,
        "expire_at_ms": row.expire_at_ms,
        "idle": row.idle,
        "freq": row.freq,
    }


def _model(f: FileTotal) -> dict[str, Any] | None:
    c = f.model
    if c is None:
        return None
    m = c.model
    return {
        "name": m.name,
        "server": m.server,
        "version": ".".join(str(v) for v in m.version),
        "version_from": c.version_from,
        "allocator": m.allocator,
        "allocator_from": c.allocator_from,
        "bits": m.bits,
        "cluster": m.cluster,
        "state": m.state,
        "server_facts": None if c.server is None else {
            "source": c.server.source,
            "description": c.server.describe(),
        },
        "assumed": c.assumed,
    }


def _total(t: Total) -> dict[str, Any]:
    return {"name": t.name, "keys": t.keys, "memory": t.memory, "share": round(t.share, 6)}


def _prefix(p: PrefixTotal) -> dict[str, Any]:
    return {
        "prefix": json_bytes(p.prefix),
        "keys": p.keys,
        "memory": p.memory,
        "share": round(p.share, 6),
    }


def _level(level: PrefixLevel, limit: int, whole: int) -> dict[str, Any]:
    shown, other = listed_prefixes(level, limit, whole)
    return {
        "depth": level.depth,
        "prefixes": [_prefix(p) for p in shown],
        "other": None if other is None else _prefix(other) | {"prefix": None},
        "without_prefix": _prefix(level.without) | {"prefix": None},
        "distinct_listed": len(shown),
        "folds": level.folds,
    }


def _spread(s: Spread) -> dict[str, int]:
    return {"min": s.min} | {f"p{q}": v for q, v in s.percentiles} | {"max": s.max}


def _buckets(buckets: tuple[Bucket, ...]) -> list[dict[str, Any]]:
    return [{"bucket": b.name, "keys": b.keys, "memory": b.memory} for b in buckets]


def summary_dict(summary: MemorySummary, *, prefix_rows: int = 50) -> dict[str, Any]:
    """``summary`` as JSON-ready data."""
    whole = summary.memory
    return {
        "keys": summary.keys,
        "memory": summary.memory,
        "size": summary.size,
        "files": [
            {
                "file": f.file,
                "keys": f.keys,
                "memory": f.memory,
                "size": f.size,
                "share": round(f.share, 6),
                "now_ms": f.now_ms,
                "now_from": f.now_from,
                "model": _model(f),
            }
            for f in summary.files
        ],
        "model_hint": MODEL_HINT if any(f.model is not None and f.model.assumed
                                        for f in summary.files) else None,
        "prefix_patterns": summary.patterns,
        "dbs": [_total(t) for t in summary.dbs],
        "types": [_total(t) for t in summary.types],
        "encodings": [_total(t) for t in summary.encodings],
        "top": [row_dict(r) for r in summary.top],
        "separator": json_bytes(summary.separator),
        "max_prefixes": summary.max_prefixes,
        "prefixes": [_level(lv, prefix_rows, whole) for lv in summary.prefixes],
        "ttl": _buckets(summary.ttl),
        "per_type": [
            {
                "type": s.type,
                "keys": s.keys,
                "elements": _spread(s.elements),
                "memory": _spread(s.memory),
            }
            for s in summary.spreads
        ],
        "idle": _buckets(summary.idle),
        "freq": _buckets(summary.freq),
    }


def summary_json(summary: MemorySummary, *, prefix_rows: int = 50) -> str:
    """``summary`` as one JSON document (with a trailing newline)."""
    return json.dumps(summary_dict(summary, prefix_rows=prefix_rows), ensure_ascii=False,
                      indent=2) + "\n"
