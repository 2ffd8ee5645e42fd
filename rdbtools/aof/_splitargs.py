"""``sdssplitargs``: how Redis splits a manifest line (and a redis-cli line) into
tokens (FORMAT.md §8.5).

* Tokens are separated by white space (``isspace`` before a token: space,
  ``\\t \\n \\v \\f \\r``; a bare word ends only at space, ``\\t \\n \\r``).
* ``"double quoted"`` parts understand ``\\xHH`` (two hex digits), ``\\n \\r \\t \\b \\a``,
  and a backslash before any other character stands for that character.
* ``'single quoted'`` parts understand only ``\\'``.
* A closing quote must be followed by white space or the end of the line; an unclosed
  quote is an error.
* A quote inside a bare word starts a quoted part of the same token (``ab"c d"`` is the
  one token ``abc d``).
"""

from __future__ import annotations

_SPACE = b" \t\n\v\f\r"
_WORD_END = b" \t\n\r"
_ESC = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"


class SplitError(ValueError):
    """Unbalanced quotes, or a closing quote not followed by a space."""


def splitargs(line: bytes) -> list[bytes]:
    """The tokens of ``line`` (raises ``SplitError``)."""
    out: list[bytes] = []
    p, n = 0, len(line)
    while True:
        while p < n and line[p] in _SPACE:
            p += 1
        if p >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if p >= n:
                    raise SplitError("unbalanced double quotes")
                c = line[p]
                if c == 0x5C and p + 3 < n and line[p + 1] == ord("x") \
                        and line[p + 2] in _HEX and line[p + 3] in _HEX:
                    cur.append(int(line[p + 2:p + 4], 16))
                    p += 3
                elif c == 0x5C and p + 1 < n:
                    p += 1
                    cur.append(_ESC.get(line[p], line[p]))
                elif c == 0x22:  # closing "
                    if p + 1 < n and line[p + 1] not in _SPACE:
                        raise SplitError("closing quote must be followed by a space")
                    p += 1
                    break
                else:
                    cur.append(c)
            elif insq:
                if p >= n:
                    raise SplitError("unbalanced single quotes")
                c = line[p]
                if c == 0x5C and p + 1 < n and line[p + 1] == 0x27:
                    p += 1
                    cur.append(0x27)
                elif c == 0x27:  # closing '
                    if p + 1 < n and line[p + 1] not in _SPACE:
                        raise SplitError("closing quote must be followed by a space")
                    p += 1
                    break
                else:
                    cur.append(c)
            else:
                if p >= n or line[p] in _WORD_END:
                    break
                c = line[p]
                if c == 0x22:
                    inq = True
                elif c == 0x27:
                    insq = True
                else:
                    cur.append(c)
            p += 1
        out.append(bytes(cur))
