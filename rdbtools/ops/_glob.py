"""Redis-style glob patterns over bytes (the rules of Redis's ``stringmatchlen``).

``*`` matches any run of bytes, ``?`` any one byte, ``[abc]`` / ``[a-z]`` one byte of a
set (a reversed range such as ``[z-a]`` works too), ``[^...]`` one byte not in it,
``\\x`` the byte ``x`` itself. Inside brackets ``\\`` escapes the next byte; a ``[`` that is
never closed takes the rest of the pattern as its set; ``[]`` matches nothing and ``[^]``
any byte; a trailing lone ``\\`` matches itself.
"""

from __future__ import annotations

import re


def _byte(c: int) -> bytes:
    return b"\\x%02x" % c


def _bracket(pattern: bytes, i: int) -> tuple[bytes, int]:
    """Translate the set starting after ``[`` at ``i``; return the regex and the index after
    the set."""
    n = len(pattern)
    negate = i < n and pattern[i] == ord("^")
    if negate:
        i += 1
    parts: list[bytes] = []
    while i < n and pattern[i] != ord("]"):
        c = pattern[i]
        if c == ord("\\") and i + 1 < n:
            parts.append(_byte(pattern[i + 1]))
            i += 2
        elif i + 2 < n and pattern[i + 1] == ord("-"):
            lo, hi = sorted((c, pattern[i + 2]))
            parts.append(_byte(lo) + b"-" + _byte(hi))
            i += 3
        else:
            parts.append(_byte(c))
            i += 1
    i += 1  # the closing "]" (or past the end when there is none)
    if not parts:
        return (b"(?s:.)" if negate else b"(?!)"), i
    return b"[" + (b"^" if negate else b"") + b"".join(parts) + b"]", i


def compile_glob(pattern: bytes) -> re.Pattern[bytes]:
    """A compiled regex that ``fullmatch``-es exactly the keys ``pattern`` matches."""
    out: list[bytes] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == ord("*"):
            while i < n and pattern[i] == ord("*"):
                i += 1
            out.append(b".*")
            continue
        if c == ord("?"):
            out.append(b".")
        elif c == ord("["):
            part, i = _bracket(pattern, i + 1)
            out.append(part)
            continue
        elif c == ord("\\") and i + 1 < n:
            i += 1
            out.append(_byte(pattern[i]))
        else:
            out.append(_byte(c))
        i += 1
    return re.compile(b"".join(out), re.DOTALL)
