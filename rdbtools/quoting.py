"""Byte strings quoted the way ``redis-cli`` prints them (``sdscatrepr``).

The result is a double-quoted string; ``\\n \\r \\t \\a \\b \\\\ \\"`` are escaped with a
backslash and any other byte outside printable ASCII as ``\\xHH``.
"""

from __future__ import annotations

_ESCAPES = {
    ord("\\"): b"\\\\",
    ord('"'): b'\\"',
    ord("\n"): b"\\n",
    ord("\r"): b"\\r",
    ord("\t"): b"\\t",
    0x07: b"\\a",
    0x08: b"\\b",
}
_REPR = [_ESCAPES.get(c, bytes([c]) if 0x20 <= c < 0x7F else b"\\x%02x" % c) for c in range(256)]


def quote_key(key: bytes) -> bytes:
    """``key`` as a double-quoted string with redis-cli escapes."""
    return b'"' + b"".join(_REPR[c] for c in key) + b'"'
