"""Generators of hostile inputs: RDBs, AOFs and manifest directories whose counts and
lengths lie (negative, huge, larger than the bytes that follow), LZF bombs, inputs that
are not regular files, empty inputs.

Every blob is built here from the format rules (FORMAT.md), not with the package's own
encoders, so that a bug in an encoder cannot hide the same bug in a decoder.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import lzf
from helpers import len_enc, rdb_string

H9 = b"REDIS0009"
H10 = b"REDIS0010"
H11 = b"REDIS0011"
DB0 = b"\xfe\x00"

Item = bytes | int


# --------------------------------------------------------------------------- blobs


def lp_entry(v: Item) -> bytes:
    """One listpack entry: integers in the smallest integer form (negative ones allowed,
    as stream internals are), bytes as a 6-bit, 12-bit or 32-bit length string."""
    if isinstance(v, int):
        if 0 <= v <= 127:
            return bytes((v, 1))
        if -4096 <= v <= 4095:
            u = v & 0x1FFF
            return bytes((0xC0 | (u >> 8), u & 0xFF, 2))
        if -(1 << 15) <= v < 1 << 15:
            return b"\xf1" + struct.pack("<h", v) + b"\x03"
        if -(1 << 31) <= v < 1 << 31:
            return b"\xf3" + struct.pack("<i", v) + b"\x05"
        return b"\xf4" + struct.pack("<q", v) + b"\x09"
    n = len(v)
    if n < 64:
        return bytes((0x80 | n,)) + v + bytes((n + 1,))
    if n < 4096:
        size = n + 2
        back = bytes((size,)) if size <= 127 else bytes((size >> 7, (size & 127) | 128))
        return bytes((0xE0 | (n >> 8), n & 0xFF)) + v + back
    raise ValueError("long listpack strings are not needed here")


def listpack(items: Sequence[Item], count: int | None = None) -> bytes:
    """A listpack of ``items``; ``count`` overrides the header's element count."""
    body = b"".join(lp_entry(v) for v in items)
    n = len(items) if count is None else count
    return struct.pack("<IH", len(body) + 7, min(n, 0xFFFF)) + body + b"\xff"


def ziplist(items: Sequence[bytes], count: int | None = None) -> bytes:
    """A ziplist of short strings; ``count`` overrides the header's element count."""
    parts = []
    prev = 0
    tail = 10
    offset = 10
    for s in items:
        entry = bytes((prev,)) + bytes((len(s),)) + s
        parts.append(entry)
        tail = offset
        offset += len(entry)
        prev = len(entry)
    body = b"".join(parts) + b"\xff"
    n = len(items) if count is None else count
    return struct.pack("<IIH", 10 + len(body), tail, min(n, 0xFFFF)) + body


def intset(values: Sequence[int], count: int | None = None, width: int = 2) -> bytes:
    fmt = {2: "h", 4: "i", 8: "q"}[width]
    n = len(values) if count is None else count
    return struct.pack("<II", width, n) + b"".join(struct.pack("<" + fmt, v) for v in values)


def zipmap(pairs: Sequence[tuple[bytes, bytes]], zmlen: int | None = None) -> bytes:
    out = bytearray((len(pairs) if zmlen is None else zmlen,))
    for f, v in pairs:
        out += bytes((len(f),)) + f + bytes((len(v), 0)) + v
    return bytes(out) + b"\xff"


def lzf_string(data: bytes) -> bytes:
    """An LZF rdb-string (``C3 <clen> <ulen> <compressed>``)."""
    packed = lzf.compress(data)
    assert packed is not None, "data does not compress"
    return b"\xc3" + len_enc(len(packed)) + len_enc(len(data)) + packed


# --------------------------------------------------------------------------- records


def rdb(*records: bytes, header: bytes = H9) -> bytes:
    """An RDB of the given key records in database 0, with EOF and a zero (unchecked)
    checksum."""
    return header + DB0 + b"".join(records) + b"\xff" + b"\0" * 8


def key(rdb_type: int, name: bytes, value: bytes) -> bytes:
    return bytes((rdb_type,)) + rdb_string(name) + value


def stream_value(nodes: Sequence[tuple[bytes, bytes]], length: int = 1) -> bytes:
    """Type 15: the node (key, listpack) pairs, then length, last id (0-0), no groups."""
    out = len_enc(len(nodes))
    for node_key, lp in nodes:
        out += rdb_string(node_key) + rdb_string(lp)
    return out + len_enc(length) + len_enc(0) + len_enc(0) + len_enc(0)


NODE_KEY = struct.pack(">QQ", 1, 0)


def stream_rdb(items: Sequence[Item], name: bytes = b"s") -> bytes:
    """An RDB holding one stream whose only node listpack holds ``items``."""
    return rdb(key(15, name, stream_value([(NODE_KEY, listpack(items))])))


GOOD_NODE: list[Item] = [
    # master: count deleted n_fields field... 0
    2, 1, 1, b"f", 0,
    # entry 1: flags=2 (same fields), ms, seq, value, lp_count = 1 + 3
    2, 0, 0, b"v1", 4,
    # entry 2: deleted (flags=3)
    3, 1, 0, b"v2", 4,
    # entry 3: own fields: flags 0, ms, seq, n_fields, field, value, lp_count = 2*1 + 1 + 3
    0, 2, 0, 1, b"g", b"v3", 6,
]
"""A valid stream node: two live entries (1-0 f=v1, 3-0 g=v3) and one deleted."""

STREAM_NODES: dict[str, list[Item]] = {
    # the original report: n_fields -4 makes every same-fields entry advance by zero
    "master fields -4": [2**62 + 2, 0, -4, b"x", 0],
    "master fields 2^62": [1, 0, 2**62, b"f", 0, 2, 0, 0, b"v", 4],
    "master fields past the end": [1, 0, 7, b"f", 0, 2, 0, 0, b"v", 4],
    "entry count -1": [-1, 0, 1, b"f", 0, 2, 0, 0, b"v", 4],
    "entry count 2^62": [2**62, 0, 1, b"f", 0, 2, 0, 0, b"v", 4],
    "entry count past the end": [5, 0, 1, b"f", 0, 2, 0, 0, b"v", 4],
    "deleted count -1": [2, -1, 1, b"f", 0, 2, 0, 0, b"v", 4],
    "deleted count 2^62": [1, 2**62, 1, b"f", 0, 2, 0, 0, b"v", 4],
    "count + deleted wraps": [2**63 - 1, 2**63 - 1, 1, b"f", 0, 2, 0, 0, b"v", 4],
    "entry fields -3": [1, 0, 1, b"f", 0, 0, 0, 0, -3, b"a", b"b", 4],
    "entry fields 2^62": [1, 0, 1, b"f", 0, 0, 0, 0, 2**62, b"a", b"b", 4],
    "entry fields past the end": [1, 0, 1, b"f", 0, 0, 0, 0, 9, b"a", b"b", 6],
    # count + deleted passes the "4 items per entry" bound, but the last entry is missing
    "one entry missing": [3, 1, *GOOD_NODE[2:]],
    "lp-count wrong": [1, 0, 1, b"f", 0, 2, 0, 0, b"v", 9],
    "lp-count negative": [1, 0, 1, b"f", 0, 2, 0, 0, b"v", -1],
    "master not terminated": [1, 0, 1, b"f", 5, 2, 0, 0, b"v", 4],
    "entries after the last": [1, 0, 1, b"f", 0, 2, 0, 0, b"v", 4, 2, 0, 0, b"w", 4],
    "string where a count is": [b"one", 0, 1, b"f", 0, 2, 0, 0, b"v", 4],
    "empty node": [],
}
"""Stream node listpacks whose counts lie (FORMAT.md §4.8.1); every one is refused by
``streamValidateListpackIntegrity``."""


def hostile_rdbs() -> dict[str, bytes]:
    """Small RDBs with a lying count or length in every compact format field."""
    out = {f"stream {name}": stream_rdb(items) for name, items in STREAM_NODES.items()}
    out.update({
        "stream nodes 2^62": rdb(key(15, b"s", b"\x81" + (2**62).to_bytes(8, "big")
                                     + rdb_string(NODE_KEY))),
        "listpack count 60000 of 2": rdb(key(16, b"h", rdb_string(listpack([b"f", b"v"], 60000))),
                                         header=H10),
        "listpack string past the end": rdb(key(20, b"s", rdb_string(
            struct.pack("<IH", 12, 1) + b"\xbf" + b"ab" + b"\xff")), header=H10),
        "listpack total bytes 2^32-1": rdb(key(20, b"s", rdb_string(
            struct.pack("<IH", 0xFFFFFFFF, 1) + b"\x81a\x02\xff")), header=H10),
        "ziplist count 60000 of 2": rdb(key(10, b"l", rdb_string(ziplist([b"a", b"b"], 60000)))),
        "ziplist zlbytes 2^32-1": rdb(key(10, b"l", rdb_string(
            struct.pack("<IIH", 0xFFFFFFFF, 10, 1) + b"\x00\x01a\xff"))),
        "ziplist prevlen 2^32-1": rdb(key(10, b"l", rdb_string(
            struct.pack("<IIH", 17, 10, 1) + b"\xfe\xff\xff\xff\xff\x01a\xff"))),
        "intset count 2^31": rdb(key(11, b"i", rdb_string(intset([1, 2], 2**31)))),
        "intset count 2^32-1 width 8": rdb(key(11, b"i", rdb_string(
            intset([1], 2**32 - 1, width=8)))),
        "quicklist nodes 2^62": rdb(key(14, b"q", b"\x81" + (2**62).to_bytes(8, "big")
                                        + rdb_string(ziplist([b"a"])))),
        "quicklist ziplist count 60000": rdb(key(14, b"q", len_enc(1)
                                                 + rdb_string(ziplist([b"a"], 60000)))),
        "quicklist2 container 7": rdb(key(18, b"q", len_enc(1) + len_enc(7)
                                          + rdb_string(listpack([b"a"]))), header=H10),
        "zipmap zmlen 200 of 1": rdb(key(9, b"z", rdb_string(zipmap([(b"f", b"v")], 200)))),
        "zipmap length 2^32-1": rdb(key(9, b"z", rdb_string(
            b"\x01\xfe\xff\xff\xff\xff" + b"x" * 8 + b"\xff"))),
        "lzf ulen 2^62": rdb(key(0, b"k", b"\xc3" + len_enc(4) + b"\x81"
                                 + (2**62).to_bytes(8, "big") + b"\x01ab\x00")),
        "lzf clen 2^62": rdb(key(0, b"k", b"\xc3\x81" + (2**62).to_bytes(8, "big")
                                 + len_enc(4) + b"\x01ab\x00")),
        "lzf ulen larger than the data inflates to": rdb(key(0, b"k", b"\xc3" + len_enc(4)
                                                             + len_enc(200) + b"\x01ab\x00")),
        "module string 2^62": rdb(key(7, b"m", len_enc(0x1234567890ABCD00) + len_enc(5)
                                      + b"\x81" + (2**62).to_bytes(8, "big") + b"x" * 32)),
        "module opcode 99": rdb(key(7, b"m", len_enc(0x1234567890ABCD00) + len_enc(99))),
        "string length 2^62": rdb(key(0, b"k", b"\x81" + (2**62).to_bytes(8, "big") + b"x")),
    })
    return out


def lzf_listpack_bomb(entries: int = 12_000_000) -> bytes:
    """An RDB with one listpack hash of ``entries`` entries (``entries // 2`` fields),
    each the 2-byte integer entry ``1``, stored as an LZF string: a few hundred KB of
    file for millions of elements."""
    body = b"\x01\x01" * entries
    lp = struct.pack("<IH", len(body) + 7, 0xFFFF) + body + b"\xff"
    return rdb(key(16, b"h", lzf_string(lp)), header=H10)


def lzf_zeros(refs: int) -> bytes:
    """LZF data of ``1 + 264 * refs`` zero bytes at LZF's highest ratio: one literal zero,
    then back references of the longest length (``111 00000``, length byte 255, offset
    byte 0: copy 264 bytes from 1 byte back)."""
    return b"\x00\x00" + b"\xe0\xff\x00" * refs


def lzf_zero_bomb(megabytes: int = 3) -> bytes:
    """An RDB with one string key: ``megabytes`` MB of LZF data inflating to ~88 times
    as many zero bytes."""
    refs = (megabytes << 20) // 3
    data = lzf_zeros(refs)
    value = b"\xc3" + len_enc(len(data)) + len_enc(1 + 264 * refs) + data
    return rdb(key(0, b"z", value))


# --------------------------------------------------------------------------- AOF


def resp(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def dump_payload(rdb_type: int, value: bytes, version: int = 9) -> bytes:
    """A DUMP payload: type byte, value, 2-byte LE RDB version, CRC-64 (Jones) LE."""
    from rdbtools import crc64

    body = bytes((rdb_type,)) + value + struct.pack("<H", version)
    return body + struct.pack("<Q", crc64.update(body, 0))


def stream_restore_aof(items: Sequence[Item]) -> bytes:
    """An AOF whose only command RESTOREs a stream with the given node listpack."""
    payload = dump_payload(15, stream_value([(NODE_KEY, listpack(items))]))
    return resp(b"SELECT", b"0") + resp(b"RESTORE", b"s", b"0", payload)
