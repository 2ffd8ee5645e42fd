"""``BITFIELD`` for ``rdbtools.replay``: ``SET`` / ``INCRBY`` of signed or unsigned
integers at bit offsets, with ``OVERFLOW WRAP|SAT|FAIL``, as ``bitfieldGeneric`` does.

Integers are stored most significant bit first starting at the bit offset (bit 0 is the
high bit of byte 0); ``#n`` offsets are multiplied by the width. The string is grown with
zero bytes to hold the highest bit any write operation touches before the operations
run, so a failed ``OVERFLOW FAIL`` write still creates or grows the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdbtools.replay.args import CmdError, parse_int
from rdbtools.replay.commands.strings import store_string

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace

MAX_BITS = 512 * 1024 * 1024 * 8  # proto-max-bulk-len default, in bits


@dataclass(frozen=True, slots=True)
class Op:
    kind: bytes  # GET, SET, INCRBY
    signed: bool
    bits: int
    offset: int
    value: int
    overflow: bytes  # WRAP, SAT, FAIL


def _type(b: bytes) -> tuple[bool, int]:
    """``getBitfieldTypeFromArgument``: ``i1``..``i64`` or ``u1``..``u63``."""
    if b[:1] not in (b"i", b"u"):  # lower case only, as the server checks
        raise CmdError("Invalid bitfield type. Use something like i16 u8. Note that u64 is "
                       "not supported but i64 is.")
    signed = b[:1] == b"i"
    try:
        bits = parse_int(b[1:])
    except CmdError:
        bits = 0
    if bits < 1 or bits > (64 if signed else 63):
        raise CmdError("Invalid bitfield type. Use something like i16 u8. Note that u64 is "
                       "not supported but i64 is.")
    return signed, bits


def _offset(b: bytes, bits: int) -> int:
    """``getBitOffsetFromArgument``: a bit offset, or ``#n`` (n times the width)."""
    hashed = b[:1] == b"#"
    try:
        n = parse_int(b[1:] if hashed else b)
    except CmdError:
        n = -1
    if hashed:
        n *= bits
    if n < 0 or n >= MAX_BITS:
        raise CmdError("bit offset is not an integer or out of range")
    return n


def parse(args: list[bytes], read_only: bool) -> list[Op]:
    """The operations of ``BITFIELD key`` (``args`` after the key)."""
    ops: list[Op] = []
    overflow = b"WRAP"
    i = 0
    while i < len(args):
        sub = args[i].upper()
        if sub == b"OVERFLOW" and i + 1 < len(args):
            ow = args[i + 1].upper()
            if ow not in (b"WRAP", b"SAT", b"FAIL"):
                raise CmdError("Invalid OVERFLOW type specified")
            overflow = ow
            i += 2
            continue
        if sub == b"GET" and i + 2 < len(args):
            signed, bits = _type(args[i + 1])
            ops.append(Op(sub, signed, bits, _offset(args[i + 2], bits), 0, overflow))
            i += 3
            continue
        if sub in (b"SET", b"INCRBY") and i + 3 < len(args):
            if read_only:
                raise CmdError("BITFIELD_RO only supports the GET subcommand")
            signed, bits = _type(args[i + 1])
            off = _offset(args[i + 2], bits)
            ops.append(Op(sub, signed, bits, off, parse_int(args[i + 3]), overflow))
            i += 4
            continue
        raise CmdError("syntax error")
    return ops


def _get(buf: bytearray, offset: int, bits: int) -> int:
    v = 0
    for j in range(bits):
        o = offset + j
        byte = o >> 3
        bit = (buf[byte] >> (7 - (o & 7))) & 1 if byte < len(buf) else 0
        v = (v << 1) | bit
    return v


def _set(buf: bytearray, offset: int, bits: int, value: int) -> None:
    for j in range(bits):
        bitval = (value >> (bits - 1 - j)) & 1
        o = offset + j
        mask = 1 << (7 - (o & 7))
        if bitval:
            buf[o >> 3] |= mask
        else:
            buf[o >> 3] &= ~mask & 0xFF


def _wrap(v: int, bits: int, signed: bool) -> int:
    v &= (1 << bits) - 1
    if signed and v >> (bits - 1):
        v -= 1 << bits
    return v


def _new_value(op: Op, old: int) -> int | None:
    """The value to write, or ``None`` (``OVERFLOW FAIL`` on an overflow). Signed:
    ``checkSignedBitfieldOverflow`` (range ``-2^(b-1)..2^(b-1)-1``). Unsigned:
    ``checkUnsignedBitfieldOverflow``, where a ``SET`` value is taken as a ``uint64``, so
    a negative one overflows upward (``SAT`` gives the maximum)."""
    bits = op.bits
    if op.signed:
        hi, lo = (1 << (bits - 1)) - 1, -(1 << (bits - 1))
        total = op.value if op.kind == b"SET" else old + op.value
        if lo <= total <= hi:
            return total
        if op.overflow == b"FAIL":
            return None
        if op.overflow == b"SAT":
            return hi if total > hi else lo
        return _wrap(total, bits, True)
    hi = (1 << bits) - 1
    if op.kind == b"SET":
        u = op.value & ((1 << 64) - 1)
        if u <= hi:
            return u
        if op.overflow == b"FAIL":
            return None
        return hi if op.overflow == b"SAT" else u & hi
    total = old + op.value
    if 0 <= total <= hi:
        return total
    if op.overflow == b"FAIL":
        return None
    if op.overflow == b"SAT":
        return hi if total > hi else 0
    return total & hi


def apply(value: bytes | None, ops: list[Op]) -> bytes | None:
    """Run the operations on a string (``None``: missing); the new string, or ``None``
    when there is no write operation (nothing is created)."""
    writes = [op for op in ops if op.kind != b"GET"]
    if not writes:
        return None
    buf = bytearray(value or b"")
    highest = max(op.offset + op.bits - 1 for op in writes)
    need = (highest >> 3) + 1
    if len(buf) < need:
        buf += bytes(need - len(buf))
    for op in writes:
        old = _get(buf, op.offset, op.bits)
        if op.signed:
            old = _wrap(old, op.bits, True)
        new = _new_value(op, old)
        if new is not None:
            _set(buf, op.offset, op.bits, new & ((1 << op.bits) - 1))
    return bytes(buf)


# ---------------------------------------------------------------- handlers


def _bitfield(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    ops = parse(a[1:], read_only=False)
    if all(op.kind == b"GET" for op in ops):
        return
    o = r.get(db, a[0], "string")
    new = apply(None if o is None else bytes(o.value), ops)
    if new is not None:
        store_string(r, db, a[0], o, new)


def _bitfield_ro(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    parse(a[1:], read_only=True)


COMMANDS: dict[bytes, Handler] = {
    b"BITFIELD": _bitfield,
    b"BITFIELD_RO": _bitfield_ro,
}
