"""``rdbtool info`` output: a text report for people, a JSON document for machines."""

from __future__ import annotations

import json
from typing import Any

from rdbtools.formats.display import json_bytes, show, table
from rdbtools.ops.info import InfoReport


def info_dict(report: InfoReport) -> dict[str, Any]:
    """``report`` as JSON-ready data (byte strings as the JSON dump formats write them)."""
    return {
        "magic": report.magic,
        "version": report.version,
        "now_ms": report.now_ms,
        "aux": [{"name": json_bytes(n), "value": json_bytes(v)} for n, v in report.aux],
        "keys": report.keys,
        "bytes": report.bytes,
        "dbs": {str(db): {"keys": s.keys, "expires": s.expires} for db, s in report.dbs.items()},
        "types": {
            tp: {
                "keys": s.keys,
                "bytes": s.bytes,
                "encodings": {
                    enc: {"keys": t.keys, "bytes": t.bytes} for enc, t in s.encodings.items()
                },
            }
            for tp, s in report.types.items()
        },
        "ttl": {
            "keys_with_ttl": report.ttl.keys_with_ttl,
            "expired": report.ttl.expired,
            "earliest_ms": report.ttl.earliest_ms,
            "latest_ms": report.ttl.latest_ms,
            "hashes_with_field_ttl": report.ttl.hashes_with_field_ttl,
            "fields_with_ttl": report.ttl.fields_with_ttl,
        },
        "elements": {
            tp: {"keys": e.keys, "min": e.min}
            | {f"p{q}": v for q, v in e.percentiles.items()}
            | {"max": e.max}
            for tp, e in report.elements.items()
        },
        "top": [
            {
                "db": b.db,
                "key": json_bytes(b.key),
                "type": b.type,
                "encoding": b.encoding,
                "bytes": b.size,
                "elements": b.elements,
                "expire_at_ms": b.expire_ms,
            }
            for b in report.top
        ],
        "functions": report.functions,
        "module_aux": report.module_aux,
        "checksum_state": report.checksum_state,
        "not_replayed": report.not_replayed,
    }


def info_json(report: InfoReport) -> str:
    """``report`` as one JSON document (with a trailing newline)."""
    return json.dumps(info_dict(report), ensure_ascii=False, indent=2) + "\n"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def info_text(source: str, report: InfoReport) -> str:
    """A report for people."""
    lines = [f"{source}: {report.magic} RDB version {report.version}"
             if report.version is not None else f"{source}: append-only file (replayed)"]
    for name, value in report.aux:
        lines.append(f"  aux {show(name)} = {show(value)}")
    lines.append(f"keys: {report.keys}, {report.bytes} bytes serialized")
    if report.dbs:
        lines.append("databases:")
        rows = [["db", "keys", "with TTL"]]
        rows += [[str(db), str(s.keys), str(s.expires)] for db, s in report.dbs.items()]
        lines += table(rows, "rrr")
    if report.types:
        lines.append("types and encodings (serialized bytes):")
        rows = [["type / encoding", "keys", "bytes", "share"]]
        for tp, s in report.types.items():
            rows.append([tp, str(s.keys), str(s.bytes), _pct(s.bytes, report.bytes)])
            for enc, t in sorted(s.encodings.items(), key=lambda kv: -kv[1].bytes):
                rows.append(["  " + enc, str(t.keys), str(t.bytes), _pct(t.bytes, report.bytes)])
        lines += table(rows, "lrrr")
    ttl = report.ttl
    lines.append(
        f"ttl: {ttl.keys_with_ttl} keys with a TTL ({_pct(ttl.keys_with_ttl, report.keys)}),"
        f" {ttl.expired} expired at {report.now_ms}"
    )
    if ttl.earliest_ms is not None:
        lines.append(f"  earliest {ttl.earliest_ms}, latest {ttl.latest_ms} (unix ms)")
    if ttl.hashes_with_field_ttl:
        lines.append(
            f"  {ttl.fields_with_ttl} hash fields with a TTL in {ttl.hashes_with_field_ttl} hashes"
        )
    if report.elements:
        lines.append("elements per key (string: bytes):")
        qs = next(iter(report.elements.values())).percentiles
        rows = [["type", "keys", "min"] + [f"p{q}" for q in qs] + ["max"]]
        for tp, e in report.elements.items():
            rows.append(
                [tp, str(e.keys), str(e.min)]
                + [str(v) for v in e.percentiles.values()]
                + [str(e.max)]
            )
        lines += table(rows, "lrr" + "r" * len(qs) + "r")
    if report.top:
        lines.append(f"biggest keys (top {len(report.top)} by serialized bytes):")
        rows = [["bytes", "type", "encoding", "elements", "db", "key"]]
        for b in report.top:
            elements = "-" if b.elements is None else str(b.elements)
            rows.append([str(b.size), b.type, b.encoding, elements, str(b.db), show(b.key)])
        lines += table(rows, "rllrrl")
    lines.append(f"functions: {report.functions}, module aux records: {report.module_aux}")
    if report.not_replayed:
        names = ", ".join(f"{n} x{c}" for n, c in report.not_replayed.items())
        lines.append(f"not replayed (commands kept, value not computed): {names}")
    if report.checksum_state is not None:
        lines.append(f"checksum: {report.checksum_state}")
    return "\n".join(lines) + "\n"
