"""Decoders for the payloads of well-known module types (FORMAT.md §5.2 module opcodes).

Redis 8 ships these types built in, with the module type names of Redis Stack, so the
same payloads appear in both: RedisJSON's ``ReJSON-RL`` and RedisBloom's ``MBbloom--``,
``MBbloomCF``, ``TopK-TYPE``, ``CMSk-TYPE``, ``TDIS-TYPE``. Each decoder follows the
module's ``rdb_save`` callback, value by value, and checks what the module's
``rdb_load`` checks; ``decode(name, encver, payload, offset)`` returns a ``ModuleData``
or ``None`` for a module or encoding version it does not know (the payload stays opaque,
and is carried unchanged either way). A payload that breaks its module's rules raises
``CorruptInput`` at the byte offset of the offending value, naming the module.
"""

from __future__ import annotations

import io
import json
import math
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rdbtools import _spec as S
from rdbtools._buffer import Input
from rdbtools.errors import CorruptInput, ParseError
from rdbtools.events import Event, ModuleData, ModuleValue
from rdbtools.rdb._encoders import enc_len, enc_string

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")

OpValue = int | float | bytes
_OP_NAMES = {S.MODULE_OP_SINT: "SINT", S.MODULE_OP_UINT: "UINT", S.MODULE_OP_FLOAT: "FLOAT",
             S.MODULE_OP_DOUBLE: "DOUBLE", S.MODULE_OP_STRING: "STRING"}

TYPE_NAMES = {
    "ReJSON-RL": "json",
    "MBbloom--": "bf",
    "MBbloomCF": "cf",
    "TopK-TYPE": "topk",
    "CMSk-TYPE": "cms",
    "TDIS-TYPE": "tdigest",
}
"""Module type name → the short type name ``info``, ``memory`` and ``dump`` use."""


class Ops:
    """The values of one module-opcode stream, read in order with the type the module's
    ``RedisModule_Load*`` call expects: ``1 SINT`` / ``2 UINT`` a length (a signed value
    is its two's complement, written as a UINT), ``3 FLOAT`` 4 bytes LE, ``4 DOUBLE``
    8 bytes LE, ``5 STRING`` an rdb-string, ``0 EOF`` the end."""

    def __init__(self, module: str, payload: bytes, offset: int) -> None:
        self.module = module
        self.items: list[tuple[int, OpValue, int]] = []
        self.i = 0
        self.end = offset + len(payload)
        inp = Input(io.BytesIO(b""), "", initial=payload, base=offset, checksum=False)
        try:
            while True:
                at = inp.tell()
                op = inp.read_len()
                value: OpValue
                if op == S.MODULE_OP_EOF:
                    break
                if op in (S.MODULE_OP_SINT, S.MODULE_OP_UINT):
                    value = inp.read_len()
                elif op == S.MODULE_OP_FLOAT:
                    value = _F32.unpack(inp.read(4, "a module float"))[0]
                elif op == S.MODULE_OP_DOUBLE:
                    value = _F64.unpack(inp.read(8, "a module double"))[0]
                elif op == S.MODULE_OP_STRING:
                    value = inp.read_string()
                else:
                    raise self.error(f"bad module opcode {op}", at)
                self.items.append((op, value, at))
        except ParseError as exc:
            raise self.error(exc.message, exc.offset) from None

    def error(self, message: str, at: int | None = None) -> CorruptInput:
        if at is None:
            at = self.items[self.i][2] if self.i < len(self.items) else self.end
        return CorruptInput(f"{self.module} value: {message}", offset=at)

    def _next(self, op: int) -> OpValue:
        if self.i >= len(self.items):
            raise self.error(f"payload ends where the module reads a {_OP_NAMES[op]}")
        got, value, _ = self.items[self.i]
        if got != op:
            raise self.error(f"the module reads a {_OP_NAMES[op]} here, the payload has "
                             f"a {_OP_NAMES[got]}")
        self.i += 1
        return value

    def uint(self) -> int:
        return int(self._next(S.MODULE_OP_UINT))

    def sint(self) -> int:
        """``RedisModule_SaveSigned`` writes the two's complement as a UINT."""
        op = S.MODULE_OP_SINT if self.i < len(self.items) and \
            self.items[self.i][0] == S.MODULE_OP_SINT else S.MODULE_OP_UINT
        v = int(self._next(op))
        return v - (1 << 64) if v >= 1 << 63 else v

    def double(self) -> float:
        return float(self._next(S.MODULE_OP_DOUBLE))

    def string(self) -> bytes:
        v = self._next(S.MODULE_OP_STRING)
        assert isinstance(v, bytes)
        return v

    def sized_string(self, size: int, what: str) -> bytes:
        """A STRING that must be ``size`` bytes long (an error names ``what`` and is
        located at the string)."""
        at = self.i
        data = self.string()
        if len(data) != size:
            self.i = at
            raise self.error(f"{what} of {len(data)} bytes, not {size}")
        return data

    def done(self) -> None:
        if self.i != len(self.items):
            raise self.error(f"{len(self.items) - self.i} values after the last one the "
                             "module reads")


# --------------------------------------------------------------------------- RedisJSON

_JSON_MAX_DEPTH = 128
_NODE_NULL, _NODE_STRING, _NODE_NUMBER, _NODE_INTEGER = 0x1, 0x2, 0x4, 0x8
_NODE_BOOLEAN, _NODE_DICT, _NODE_ARRAY, _NODE_KEYVAL = 0x10, 0x20, 0x40, 0x80


def _json_nodes(ops: Ops, depth: int = 0) -> Any:
    """Encoding version 0 (RedisJSON 1.x): a tree of nodes, each a UINT node type, then
    Null: nothing; Boolean: STRING ``1``/``0``; Integer: SINT; Number: DOUBLE; String:
    STRING; Dict: UINT count, then per entry UINT 0x80 (KeyVal), STRING key, a node;
    Array: UINT count, then that many nodes."""
    if depth > _JSON_MAX_DEPTH:
        raise ops.error(f"JSON nested deeper than {_JSON_MAX_DEPTH} levels")
    node = ops.uint()
    if node == _NODE_NULL:
        return None
    if node == _NODE_BOOLEAN:
        return ops.string()[:1] == b"1"
    if node == _NODE_INTEGER:
        return ops.sint()
    if node == _NODE_NUMBER:
        return ops.double()
    if node == _NODE_STRING:
        return _text(ops, ops.string())
    if node == _NODE_DICT:
        obj: dict[str, Any] = {}
        for _ in range(ops.uint()):
            if ops.uint() != _NODE_KEYVAL:
                raise ops.error("a JSON object entry is not a key-value node")
            name = _text(ops, ops.string())
            obj[name] = _json_nodes(ops, depth + 1)
        return obj
    if node == _NODE_ARRAY:
        return [_json_nodes(ops, depth + 1) for _ in range(ops.uint())]
    raise ops.error(f"unknown JSON node type {node:#x}")


def _text(ops: Ops, data: bytes) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ops.error("a JSON string that is not UTF-8") from None


def _json_text(ops: Ops, data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ops.error(f"the JSON text does not parse: {exc}") from None


_TYPED_ARRAYS = {64: "B", 69: "H", 70: "I", 71: "Q", 72: "b", 77: "h", 78: "i", 79: "q",
                 84: "e", 85: "f", 86: "d", 0x10000: "bf16"}
"""RFC 8746 typed-array tags ijson writes (little endian), and its private BF16 tag."""


def _short_float(value: float, fmt: str) -> float:
    """The shortest decimal that reads back as the same ``fmt`` (f16/f32) number, as the
    module prints a typed array element."""
    packed = struct.pack("<" + fmt, value)
    for digits in range(1, 18):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack("<" + fmt, candidate) == packed:
            return candidate
    return value


def _typed_array(ops: Ops, tag: int, data: bytes) -> list[Any]:
    fmt = _TYPED_ARRAYS[tag]
    if fmt == "bf16":
        if len(data) % 2:
            raise ops.error("a BF16 array with an odd byte count")
        halves = struct.unpack(f"<{len(data) // 2}H", data)
        return [_short_float(_F32.unpack(struct.pack("<I", h << 16))[0], "f") for h in halves]
    size = struct.calcsize(fmt)
    if len(data) % size:
        raise ops.error(f"a typed array of {len(data)} bytes, not a multiple of {size}")
    values = list(struct.unpack(f"<{len(data) // size}{fmt}", data))
    if fmt in "ef":
        return [_short_float(v, fmt) for v in values]
    return values


def _json_cbor(ops: Ops, data: bytes) -> Any:
    """Encoding version 4 (RedisJSON 8.6+): one STRING, the document in CBOR
    (``ijson::cbor::encode``); homogeneous arrays may be RFC 8746 typed arrays."""
    try:
        import cbor2
    except ImportError:
        raise ops.error("a JSON value in CBOR (RedisJSON encoding version 4) needs the "
                        "'cbor2' package: pip install 'rdbtools[modules]'") from None

    try:
        doc = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises its own decode errors and ValueError
        raise ops.error(f"the CBOR document does not decode: {exc}") from None
    return _from_cbor(ops, doc, 0, cbor2.CBORTag)


def _from_cbor(ops: Ops, value: Any, depth: int, tag_type: type) -> Any:
    """The JSON value of a decoded CBOR item: typed arrays expanded, anything JSON has
    no room for (bytes, other tags, non-string keys) an error."""
    if depth > _JSON_MAX_DEPTH:
        raise ops.error(f"JSON nested deeper than {_JSON_MAX_DEPTH} levels")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ops.error("a JSON object key that is not a string")
            out[k] = _from_cbor(ops, v, depth + 1, tag_type)
        return out
    if isinstance(value, list):
        return [_from_cbor(ops, v, depth + 1, tag_type) for v in value]
    if isinstance(value, tag_type):
        tag, inner = value.tag, value.value  # type: ignore[attr-defined]
        if tag in _TYPED_ARRAYS and isinstance(inner, bytes):
            return _typed_array(ops, tag, inner)
        raise ops.error(f"unknown CBOR tag {tag} in a JSON document")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ops.error(f"a CBOR {type(value).__name__} in a JSON document")


def _rejson(ops: Ops, encver: int) -> ModuleData:
    """``ReJSON-RL``: version 0 a node tree; 2 STRING JSON text, UINT n, and when n > 0
    two more STRINGs (an old RediSearch index hint, ignored); 3 STRING JSON text; 4
    STRING CBOR."""
    if encver == 0:
        doc = _json_nodes(ops)
    elif encver in (2, 3):
        doc = _json_text(ops, ops.string())
        if encver == 2 and ops.uint():
            ops.string()
            ops.string()
    else:
        doc = _json_cbor(ops, ops.string())
    return ModuleData("json", {"encoding_version": encver}, doc, (json_memory(doc),))


def _capacity(n: int) -> int:
    cap = 4
    while cap < n:
        cap *= 2
    return cap


def json_memory(doc: Any) -> int:
    """Bytes RedisJSON 2.x's ``mem_usage`` reports for a document (``get_memory``): per
    value 8 (its ``IValue``) plus: null/bool 0; a float 16; an integer in [-128, 384) 0,
    in [-2^23, 2^23) 4, else 16; a string its UTF-8 length; a non-empty array
    ``(capacity + 2) * 8`` and its elements; a non-empty object ``(capacity * 3 + 2) * 8``,
    its keys' lengths and its values. Capacities are modelled as the module's growth
    gives them when it parses JSON text: 4, doubling. Measured against ``MEMORY USAGE``
    (tests/test_module_types_live.py) this is exact for scalars and flat arrays and
    within 8 bytes (about 1%) for nested documents."""
    total = 0
    stack = [doc]
    while stack:
        v = stack.pop()
        total += 8
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, float):
            total += 16
        elif isinstance(v, int):
            total += 0 if -128 <= v < 384 else 4 if -(1 << 23) <= v < 1 << 23 else 16
        elif isinstance(v, str):
            total += len(v.encode("utf-8", "surrogatepass"))
        elif isinstance(v, list):
            if v:
                total += (_capacity(len(v)) + 2) * 8
                stack.extend(v)
        elif isinstance(v, dict) and v:
            keys = sum(len(k.encode("utf-8", "surrogatepass")) for k in v)
            total += (_capacity(len(v)) * 3 + 2) * 8 + keys
            stack.extend(v.values())
    return total


# --------------------------------------------------------------------------- RedisBloom

_BLOOM_OPT_NO_SCALING = 8
_SBCHAIN, _SBLINK = 32, 64  # sizeof(SBChain), sizeof(SBLink)


def _bloom(ops: Ops, encver: int) -> ModuleData:
    """``MBbloom--`` (``BFRdbSave``): UINT size (items inserted), UINT nfilters, UINT
    options (version >= 2), UINT growth (version >= 4, else 2); per filter UINT entries
    (capacity), DOUBLE error, UINT hashes, DOUBLE bits per entry, UINT bits and UINT n2
    (version >= 1), STRING the bit array, UINT items in this filter."""
    size = ops.uint()
    nfilters = ops.uint()
    if nfilters == 0:
        raise ops.error("a Bloom filter chain of 0 filters")
    options = ops.uint() if encver >= 2 else 0
    growth = ops.uint() if encver >= 4 else 2
    filters = []
    allocations = [_SBCHAIN, _SBLINK * nfilters]
    for _ in range(nfilters):
        entries = ops.uint()
        error = ops.double()
        hashes = ops.uint()
        bpe = ops.double()
        bits = ops.uint() if encver >= 1 else int(entries * bpe)
        if encver >= 1:
            ops.uint()  # n2: log2 of the bit count when it is rounded to a power of two
        at = ops.i
        bitmap = ops.string()
        if len(bitmap) < math.ceil(bits / 8):
            ops.i = at
            raise ops.error(f"a Bloom filter of {bits} bits in {len(bitmap)} bytes")
        items = ops.uint()
        allocations.append(len(bitmap))
        filters.append({"capacity": entries, "error_rate": error, "hashes": hashes,
                        "bits_per_entry": bpe, "bits": bits, "bytes": len(bitmap),
                        "items": items})
    header: dict[str, object] = {
        "Capacity": sum(int(f["capacity"]) for f in filters),
        "Number of filters": nfilters,
        "Number of items inserted": size,
        "Expansion rate": None if options & _BLOOM_OPT_NO_SCALING else growth,
        "error_rate": filters[0]["error_rate"],
        "filters": filters,
    }
    return ModuleData("bf", header, None, tuple(allocations))


def _cuckoo(ops: Ops, encver: int) -> ModuleData:
    """``MBbloomCF`` (``CFRdbSave``): UINT numFilters, UINT numBuckets, UINT numItems;
    from version 4 UINT numDeletes, bucketSize, maxIterations, expansion; per filter
    (version >= 4) UINT numBuckets, then STRING the buckets (bucketSize * numBuckets
    one-byte fingerprints). Older versions take the last four from the server's config
    (shown as ``None``)."""
    nfilters = ops.uint()
    nbuckets = ops.uint()
    if nfilters == 0 or nbuckets == 0:
        raise ops.error("a Cuckoo filter of 0 filters or 0 buckets")
    items = ops.uint()
    modern = encver >= 4
    deletes = ops.uint() if modern else 0
    bucket_size = ops.uint() if modern else None
    max_iterations = ops.uint() if modern else None
    expansion = ops.uint() if modern else None
    allocations = [40, 16 * nfilters]  # sizeof(CuckooFilter), sizeof(SubCF) each
    filters = []
    for _ in range(nfilters):
        buckets = ops.uint() if modern else nbuckets
        if bucket_size is None:
            data = ops.string()
        else:
            data = ops.sized_string(bucket_size * buckets, f"a Cuckoo filter of {buckets} "
                                    f"buckets of {bucket_size}")
        allocations.append(len(data))
        filters.append({"buckets": buckets, "bytes": len(data)})
    header: dict[str, object] = {
        "Number of buckets": nbuckets,
        "Number of filters": nfilters,
        "Number of items inserted": items,
        "Number of items deleted": deletes,
        "Bucket size": bucket_size,
        "Expansion rate": expansion,
        "Max iterations": max_iterations,
        "filters": filters,
    }
    return ModuleData("cf", header, None, tuple(allocations))


_HEAP_BUCKET = struct.Struct("<IIQI4x")  # fp, itemlen, item pointer, count, padding


def _topk(ops: Ops, encver: int) -> ModuleData:
    """``TopK-TYPE`` (``TopKRdbSave``): UINT k, UINT width, UINT depth, DOUBLE decay,
    STRING the width*depth counters (8 bytes each), STRING the heap (k ``HeapBucket`` of
    24 bytes: fingerprint, item length, pointer, count), then k STRINGs, each item with
    its terminating NUL (an empty slot is a lone NUL). ``list`` is what ``TOPK.LIST``
    answers: the items by count, highest first."""
    k, width, depth = ops.uint(), ops.uint(), ops.uint()
    decay = ops.double()
    if not (k and width and depth):
        raise ops.error("a Top-K of k, width or depth 0")
    counters = ops.sized_string(8 * width * depth, f"Top-K counters for {width}x{depth}")
    heap = ops.sized_string(_HEAP_BUCKET.size * k, f"a Top-K heap for k={k}")
    slots = []
    for i in range(k):
        item = ops.string()
        count = _HEAP_BUCKET.unpack_from(heap, i * _HEAP_BUCKET.size)[3]
        if len(item) > 1:
            slots.append((item[:-1], count))
    slots.sort(key=lambda s: -s[1])
    header: dict[str, object] = {
        "k": k, "width": width, "depth": depth, "decay": decay,
        "list": [item for item, _ in slots],
        "counts": [count for _, count in slots],
    }
    # sizeof(TopK) with its 256-entry decay table, the counters, the heap
    allocations = (2088, len(counters), len(heap))
    return ModuleData("topk", header, None, allocations)


def _cms(ops: Ops, encver: int) -> ModuleData:
    """``CMSk-TYPE`` (``CMSRdbSave``): UINT width, UINT depth, UINT counter (the total
    of all increments), STRING the width*depth 32-bit counters."""
    width, depth, count = ops.uint(), ops.uint(), ops.uint()
    if not (width and depth):
        raise ops.error("a Count-Min sketch of width or depth 0")
    array = ops.sized_string(4 * width * depth, f"Count-Min counters for {width}x{depth}")
    header: dict[str, object] = {"width": width, "depth": depth, "count": count}
    return ModuleData("cms", header, None, (32, len(array)))  # sizeof(CMSketch), array


def _tdigest(ops: Ops, encver: int) -> ModuleData:
    """``TDIS-TYPE`` (``TDigestRdbSave``, compressed first): DOUBLE compression, DOUBLE
    min, DOUBLE max, SINT cap, SINT merged_nodes, SINT unmerged_nodes, SINT
    total_compressions, DOUBLE merged_weight, DOUBLE unmerged_weight, then merged_nodes
    DOUBLE means and merged_nodes DOUBLE weights. ``TDIGEST.INFO`` shows the numbers as
    integers (truncated), as here."""
    compression, lo, hi = ops.double(), ops.double(), ops.double()
    cap, merged, unmerged, compressions = ops.sint(), ops.sint(), ops.sint(), ops.sint()
    merged_weight, unmerged_weight = ops.double(), ops.double()
    if not 0 <= merged <= cap:
        raise ops.error(f"a t-digest of {merged} merged nodes and capacity {cap}")
    for _ in range(2 * merged):
        ops.double()
    header: dict[str, object] = {
        "Compression": int(compression),
        "Capacity": cap,
        "Merged nodes": merged,
        "Unmerged nodes": unmerged,
        "Merged weight": int(merged_weight),
        "Unmerged weight": int(unmerged_weight),
        "Observations": int(merged_weight + unmerged_weight),
        "Total compressions": compressions,
        "min": lo,
        "max": hi,
    }
    # sizeof(td_histogram), then the means and the weights, cap doubles each
    return ModuleData("tdigest", header, None, (80, 8 * cap, 8 * cap))


Decoder = Callable[[Ops, int], ModuleData]
DECODERS: dict[str, tuple[int, Decoder]] = {
    "ReJSON-RL": (4, _rejson),
    "MBbloom--": (4, _bloom),
    "MBbloomCF": (4, _cuckoo),
    "TopK-TYPE": (0, _topk),
    "CMSk-TYPE": (0, _cms),
    "TDIS-TYPE": (0, _tdigest),
}
"""Module type name → (newest encoding version known, decoder)."""

_JSON_VERSIONS = frozenset({0, 2, 3, 4})


def decode(module: str, encver: int, payload: bytes, offset: int = 0) -> ModuleData | None:
    """Decode ``payload`` (a module-opcode stream with its EOF, starting at byte
    ``offset`` of the source) of module type ``module`` at encoding version ``encver``;
    ``None`` for a type or version not known here."""
    known = DECODERS.get(module)
    if known is None or encver > known[0]:
        return None
    if module == "ReJSON-RL" and encver not in _JSON_VERSIONS:
        return None
    ops = Ops(module, payload, offset)
    data = known[1](ops, encver)
    ops.done()
    return data


JSON_TYPE = "ReJSON-RL"
JSON_ENCVER = 3
"""The encoding version ``json_value`` writes: the JSON text, which every RedisJSON from
2.0 on loads (and Redis 8, whose RedisJSON loads versions 0, 2, 3 and 4)."""


def json_text(doc: Any) -> bytes:
    """Compact JSON text of a document, as RedisJSON writes it (non-ASCII kept)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8", "surrogatepass")


def json_value(doc: Any) -> ModuleValue:
    """A ``ReJSON-RL`` module value holding ``doc``: encoding version 3, one STRING (the
    JSON text), EOF."""
    text = json_text(doc)
    payload = (enc_len(S.MODULE_OP_STRING) + enc_string(text, False)
               + enc_len(S.MODULE_OP_EOF))
    data = ModuleData("json", {"encoding_version": JSON_ENCVER}, doc, (json_memory(doc),))
    return ModuleValue(S.module_type_id(JSON_TYPE, JSON_ENCVER), JSON_TYPE, JSON_ENCVER,
                       payload, 0, data)


def module_payload_type(module: str) -> str:
    """The short type name of a module type (``json``, ``bf`` ...), else ``module``."""
    return TYPE_NAMES.get(module, "module")


_STACK = "RedisJSON 2.0 or later (Redis Stack 6.2+, Redis 8)"
_BLOOM = "RedisBloom 2.2 or later (Redis Stack, Redis 8)"
_NEEDS: dict[tuple[str, int], str] = {
    ("ReJSON-RL", 0): "RedisJSON 1.0 or later",
    ("ReJSON-RL", 2): _STACK,
    ("ReJSON-RL", 3): _STACK,
    ("ReJSON-RL", 4): "RedisJSON 8.8 or later (Redis 8.8)",
    ("MBbloom--", 4): _BLOOM,
    ("MBbloomCF", 4): _BLOOM,
    ("TopK-TYPE", 0): "RedisBloom 2.0 or later (Redis Stack, Redis 8)",
    ("CMSk-TYPE", 0): "RedisBloom 2.0 or later (Redis Stack, Redis 8)",
    ("TDIS-TYPE", 0): "RedisBloom 2.4 or later (Redis Stack, Redis 8)",
}
"""The module builds that read an encoding version (its ``rdb_load`` accepts it: RedisJSON
2.0 reads versions 0, 2, 3; RedisBloom reads its older versions too)."""


def module_needs(module: str, encver: int) -> str:
    """What a server must have loaded to read a value of ``module`` at ``encver``."""
    known = _NEEDS.get((module, encver))
    if known is None and module in ("MBbloom--", "MBbloomCF"):
        known = "RedisBloom 1.0 or later"
    if known is None:
        known = f"the module of type {module!r}, at a version that reads encoding {encver}"
    return known


class ModuleNeeds:
    """Counts the module values that pass through ``watch`` by type and encoding version,
    for the line each copy of them (restore, convert) prints about the target."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def watch(self, events: Iterable[Event]) -> Iterator[Event]:
        for ev in events:
            if type(ev) is ModuleValue:
                assert isinstance(ev, ModuleValue)
                k = (ev.module_name, ev.module_version)
                self.counts[k] = self.counts.get(k, 0) + 1
            yield ev

    def lines(self) -> list[str]:
        """``N keys of TYPE (encoding version V): payloads copied unchanged; the target
        needs ...`` per module type and version seen."""
        return [f"{n} keys of {name} (encoding version {v}): payloads copied unchanged; "
                f"the target needs {module_needs(name, v)}"
                for (name, v), n in sorted(self.counts.items())]
