"""LZF decompression (liblzf 3.x, FORMAT.md §2.3) over python-lzf's C implementation."""

from __future__ import annotations

from collections.abc import Callable

import lzf as _lzf

from rdbtools._accel import speedups
from rdbtools.errors import CorruptInput

MAX_RATIO = 132
"""An LZF back reference of 2 input bytes yields at most 264 output bytes (and a literal
run never expands), so no valid stream inflates by more than 132x. A stated
uncompressed length beyond that is corrupt, and is refused before anything is
allocated."""


def _decompress_py(data: bytes, ulen: int) -> bytes | None:
    # python-lzf does not check its malloc of the output buffer and crashes when it
    # fails: take the same size here first, where failing raises MemoryError
    bytearray(ulen + 1)
    out: bytes | None = _lzf.decompress(data, ulen)
    return out


# the extension inflates in place (python-lzf holds two copies at its peak)
_inflate: Callable[[bytes, int], bytes | None] = speedups.lzf if speedups else _decompress_py


def decompress(data: bytes, ulen: int) -> bytes:
    """Inflate ``data`` to exactly ``ulen`` bytes (Redis rejects any other length)."""
    if ulen > len(data) * MAX_RATIO + 64:
        raise CorruptInput(f"LZF string claims {ulen} bytes from {len(data)} compressed")
    if ulen == 0:
        raise CorruptInput("LZF string with uncompressed length 0")
    try:
        out = _inflate(data, ulen)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - the C module raises ValueError/others
        raise CorruptInput(f"bad LZF data: {exc}") from None
    if out is None or len(out) != ulen:
        raise CorruptInput(f"LZF data inflates to {0 if out is None else len(out)} bytes, "
                           f"not the stated {ulen}")
    return bytes(out)


def compress(data: bytes, budget: int) -> bytes | None:
    """Compress ``data`` into at most ``budget`` bytes, or ``None`` if it does not fit
    (Redis gives the compressor ``len - 4`` and stores plain text when it fails)."""
    if budget <= 1:
        return None
    # python-lzf hands liblzf an output buffer of ``max_len + 1`` bytes; Redis calls
    # ``lzf_compress(in, len, out, len - 4)``, and liblzf's conservative end-of-buffer
    # checks make the result depend on that exact size: ask for ``budget - 1``.
    out = _lzf.compress(data, budget - 1)
    return None if out is None or len(out) > budget else bytes(out)
