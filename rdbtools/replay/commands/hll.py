"""HyperLogLog strings for ``rdbtools.replay``: ``PFADD``, ``PFMERGE``, ``PFCOUNT`` (its
cached cardinality) and ``PFDEBUG`` as ``hyperloglog.c`` changes the bytes.

Layout (``struct hllhdr``): ``"HYLL"``, encoding (0 dense, 1 sparse), 3 unused bytes,
8 bytes of cached cardinality (little endian; the top bit of the last byte set means
"invalid"), then the registers. Dense: 16384 6-bit registers, LSB first. Sparse: opcodes
``ZERO`` ``00xxxxxx`` (1..64 zero registers), ``XZERO`` ``01xxxxxx yyyyyyyy`` (1..16384),
``VAL`` ``1vvvvvxx`` (1..4 registers of value 1..32).

The sparse form the server leaves depends on the order registers were set in
(``hllSparseSet`` splits one opcode and merges neighbours within a window of five), so the
opcodes are edited here exactly as the server edits them, not re-encoded from registers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rdbtools.replay.args import CmdError, murmurhash64a
from rdbtools.replay.commands.strings import store_string

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace

HLL_P = 14
HLL_Q = 64 - HLL_P
HLL_REGISTERS = 1 << HLL_P
HLL_DENSE_SIZE = 16 + (HLL_REGISTERS * 6 + 7) // 8
HLL_SPARSE_MAX_BYTES = 3000  # hll-sparse-max-bytes default
HLL_ALPHA_INF = 0.721347520444481703680
WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value."

ZERO, XZERO, VAL = 0, 1, 2
Op = tuple[int, int, int]  # (kind, value, run length)


def hll_pat_len(element: bytes) -> tuple[int, int]:
    """(register index, run length) of an element, as ``hllPatLen``: the low 14 bits of
    MurmurHash64A pick the register, the position of the first 1 bit after them (counting
    from 1, a sentinel bit at 50) is the count."""
    h = murmurhash64a(element)
    index = h & (HLL_REGISTERS - 1)
    h >>= HLL_P
    h |= 1 << HLL_Q
    count = 1
    bit = 1
    while not h & bit:
        count += 1
        bit <<= 1
    return index, count


def _oplen(op: Op) -> int:
    return 2 if op[0] == XZERO else 1


def _zero(n: int) -> Op:
    return (XZERO if n > 64 else ZERO, 0, n)


class Hll:
    """A parsed HLL string: its 16-byte header and either the dense registers or the
    sparse opcodes."""

    __slots__ = ("header", "ops", "regs")

    def __init__(self, header: bytearray, regs: list[int] | None, ops: list[Op] | None):
        self.header = header
        self.regs = regs
        self.ops = ops

    # ------------------------------------------------------------------ parse / emit

    @classmethod
    def new(cls) -> Hll:
        """``createHLLObject``: sparse, one ``XZERO`` per 16384 registers, cache zero."""
        return cls(bytearray(b"HYLL\x01" + b"\x00" * 11), None, [(XZERO, 0, HLL_REGISTERS)])

    @classmethod
    def parse(cls, value: bytes) -> Hll:
        """``isHLLObjectOrReply``: magic, a known encoding, a dense body of the exact size;
        a sparse body must cover exactly 16384 registers (else the server errors too)."""
        if len(value) < 16 or value[:4] != b"HYLL" or value[4] > 1:
            raise CmdError(WRONGTYPE)
        header = bytearray(value[:16])
        if value[4] == 0:
            if len(value) != HLL_DENSE_SIZE:
                raise CmdError(WRONGTYPE)
            body = value[16:]
            regs = [0] * HLL_REGISTERS
            for i in range(HLL_REGISTERS):
                byte = i * 6 // 8
                fb = (i * 6) & 7
                b1 = body[byte + 1] if byte + 1 < len(body) else 0
                regs[i] = ((body[byte] >> fb) | (b1 << (8 - fb))) & 63
            return cls(header, regs, None)
        ops: list[Op] = []
        body = value[16:]
        p = 0
        while p < len(body):
            b = body[p]
            if b & 0xC0 == 0:
                ops.append((ZERO, 0, (b & 0x3F) + 1))
                p += 1
            elif b & 0xC0 == 0x40:
                if p + 1 >= len(body):
                    raise CmdError(WRONGTYPE)
                ops.append((XZERO, 0, (((b & 0x3F) << 8) | body[p + 1]) + 1))
                p += 2
            else:
                ops.append((VAL, ((b >> 2) & 0x1F) + 1, (b & 3) + 1))
                p += 1
        return cls(header, None, ops)

    def sparse_len(self) -> int:
        """``sdslen`` of the string (header included) while sparse."""
        assert self.ops is not None
        return 16 + sum(_oplen(op) for op in self.ops)

    def to_bytes(self) -> bytes:
        if self.regs is not None:
            out = bytearray(HLL_DENSE_SIZE - 16)
            for i, v in enumerate(self.regs):
                byte = i * 6 // 8
                fb = (i * 6) & 7
                out[byte] |= (v << fb) & 0xFF
                if byte + 1 < len(out):
                    out[byte + 1] |= v >> (8 - fb)
            return bytes(self.header) + bytes(out)
        assert self.ops is not None
        body = bytearray()
        for kind, v, n in self.ops:
            if kind == ZERO:
                body.append(n - 1)
            elif kind == XZERO:
                body += bytes([0x40 | ((n - 1) >> 8), (n - 1) & 0xFF])
            else:
                body.append(0x80 | ((v - 1) << 2) | (n - 1))
        return bytes(self.header) + bytes(body)

    # ------------------------------------------------------------------ registers

    def registers(self) -> list[int]:
        if self.regs is not None:
            return self.regs
        assert self.ops is not None
        regs = [0] * HLL_REGISTERS
        idx = 0
        for kind, v, n in self.ops:
            if kind == VAL:
                for j in range(idx, min(idx + n, HLL_REGISTERS)):
                    regs[j] = v
            idx += n
        if idx != HLL_REGISTERS:
            raise CmdError(WRONGTYPE)
        return regs

    def to_dense(self) -> None:
        """``hllSparseToDense``: same header, encoding byte 0 (a no-op when dense)."""
        if self.regs is None:
            self.regs = self.registers()
            self.ops = None
            self.header[4] = 0

    def invalidate(self) -> None:
        """``HLL_INVALIDATE_CACHE``: the top bit of the last cardinality byte."""
        self.header[15] |= 0x80

    def set(self, index: int, count: int) -> bool:
        """``hllDenseSet`` / ``hllSparseSet``: raise register ``index`` to ``count``;
        whether it changed. Sparse: a count above 32, or growing the string past
        ``hll-sparse-max-bytes`` before the merge step, converts to dense first."""
        if self.regs is not None:
            if self.regs[index] < count:
                self.regs[index] = count
                return True
            return False
        ops = self.ops
        assert ops is not None
        if count > 32:
            return self._promote(index, count)
        first = 0
        pos = 0
        span = 0
        while pos < len(ops):
            span = ops[pos][2]
            if index <= first + span - 1:
                break
            first += span
            pos += 1
        if pos >= len(ops):
            raise CmdError(WRONGTYPE)
        kind, cur, runlen = ops[pos]
        prev = pos - 1 if pos > 0 else None
        if kind == VAL and cur >= count:
            return False
        if runlen == 1:
            ops[pos] = (VAL, count, 1)
            self._merge(prev)
            return True
        last = first + span - 1
        seq: list[Op] = []
        if kind == VAL:
            if index != first:
                seq.append((VAL, cur, index - first))
            seq.append((VAL, count, 1))
            if index != last:
                seq.append((VAL, cur, last - index))
        else:
            if index != first:
                seq.append(_zero(index - first))
            seq.append((VAL, count, 1))
            if index != last:
                seq.append(_zero(last - index))
        delta = sum(_oplen(op) for op in seq) - _oplen(ops[pos])
        if delta > 0 and self.sparse_len() + delta > HLL_SPARSE_MAX_BYTES:
            return self._promote(index, count)
        ops[pos : pos + 1] = seq
        self._merge(prev)
        return True

    def _promote(self, index: int, count: int) -> bool:
        self.to_dense()
        return self.set(index, count)

    def _merge(self, start: int | None) -> None:
        """Step 4 of ``hllSparseSet``: from the opcode before the changed one, up to five
        opcodes are scanned and two adjacent ``VAL`` of one value whose lengths sum to at
        most 4 become one (the scan stays on the merged opcode)."""
        ops = self.ops
        assert ops is not None
        p = start if start is not None else 0
        scan = 5
        while p < len(ops) and scan:
            scan -= 1
            kind, v, n = ops[p]
            if kind != VAL:
                p += 1
                continue
            if p + 1 < len(ops) and ops[p + 1][0] == VAL and ops[p + 1][1] == v:
                total = n + ops[p + 1][2]
                if total <= 4:
                    ops[p + 1] = (VAL, v, total)
                    del ops[p]
                    continue
            p += 1


# --------------------------------------------------------------------------- commands


def pfadd(value: bytes | None, elements: list[bytes]) -> bytes | None:
    """``PFADD``: the new string, or ``None`` when nothing changed (a missing key is
    always created). Elements are added in order, so a sparse HLL may turn dense midway."""
    h = Hll.new() if value is None else Hll.parse(value)
    updated = value is None
    changed = False
    for e in elements:
        i, c = hll_pat_len(e)
        if h.set(i, c):
            changed = True
    if not (changed or updated):
        return None
    h.invalidate()
    return h.to_bytes()


def pfmerge(dest: bytes | None, sources: list[bytes | None]) -> bytes:
    """``PFMERGE``: ``max[i]`` over every source (the destination is the first source);
    the destination (created sparse when missing, keeping its header otherwise) turns
    dense if any source is dense, then each non-zero ``max[i]`` is set into it in
    register order, and its cache is invalidated."""
    maxregs = [0] * HLL_REGISTERS
    use_dense = False
    for s in sources:
        if s is None:
            continue
        h = Hll.parse(s)
        if h.regs is not None:
            use_dense = True
        for i, v in enumerate(h.registers()):
            if v > maxregs[i]:
                maxregs[i] = v
    out = Hll.new() if dest is None else Hll.parse(dest)
    if use_dense:
        out.to_dense()
    for i, v in enumerate(maxregs):
        if v:
            out.set(i, v)
    out.invalidate()
    return out.to_bytes()


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        zp = z
        z += x * y
        y += y
        if zp == z:
            return z


def _tau(x: float) -> float:
    if x in (0.0, 1.0):
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        zp = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if zp == z:
            return z / 3


def hll_count(regs: list[int]) -> int:
    """``hllCount``: Ertl's estimator over the register histogram, in doubles, rounded
    half away from zero (``llroundl``)."""
    m = float(HLL_REGISTERS)
    histo = [0] * 64
    for v in regs:
        histo[v] += 1
    z = m * _tau((m - histo[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histo[j]
        z *= 0.5
    z += m * _sigma(histo[0] / m)
    e = HLL_ALPHA_INF * m * m / z
    return int(math.floor(e + 0.5)) if math.isfinite(e) else 0


def pfcount(value: bytes) -> bytes | None:
    """``PFCOUNT`` of one key: when the cache is invalid the server computes the
    cardinality and stores it in the header (and so propagates the command); the new
    string, or ``None`` when the cache was valid."""
    h = Hll.parse(value)
    if not h.header[15] & 0x80:
        return None
    card = hll_count(h.registers())
    h.header[8:16] = card.to_bytes(8, "little")
    return h.to_bytes()


def pfdebug_todense(value: bytes) -> bytes | None:
    """``PFDEBUG GETREG|TODENSE``: a sparse HLL is converted to dense (header kept)."""
    h = Hll.parse(value)
    if h.regs is not None:
        return None
    h.to_dense()
    return h.to_bytes()


# ---------------------------------------------------------------- handlers


def _pfadd(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    o = r.get(db, a[0], "string")
    new = pfadd(None if o is None else bytes(o.value), a[1:])
    if new is not None:
        store_string(r, db, a[0], o, new)


def _pfmerge(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    objs = [r.get(db, k, "string") for k in a]
    srcs = [None if o is None else bytes(o.value) for o in objs]
    store_string(r, db, a[0], objs[0], pfmerge(srcs[0], srcs))


def _pfcount(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """Only ``PFCOUNT key`` (one key) writes: it caches the cardinality in the header."""
    if len(a) != 1:
        return
    o = r.get(db, a[0], "string")
    if o is not None:
        new = pfcount(bytes(o.value))
        if new is not None:
            o.value = new


def _pfdebug(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``GETREG`` and ``TODENSE`` turn a sparse HLL dense; the other subcommands read."""
    if a[0].upper() not in (b"GETREG", b"TODENSE"):
        return
    o = r.get(db, a[1], "string")
    if o is None:
        raise CmdError("The specified key does not exist")
    new = pfdebug_todense(bytes(o.value))
    if new is not None:
        o.value = new


COMMANDS: dict[bytes, Handler] = {
    b"PFADD": _pfadd,
    b"PFMERGE": _pfmerge,
    b"PFCOUNT": _pfcount,
    b"PFDEBUG": _pfdebug,
}
