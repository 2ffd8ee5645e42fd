"""Types of the optional C extension ``rdbtools._speedups`` (rdbtools/_speedups/*.c).

Each function is the twin of a pure-Python one named in its docstring, which gives the
same result; ``rdbtools._accel.speedups`` is this module, or ``None`` when it was not
built or ``RDBTOOLS_PURE_PYTHON`` is set. Arguments are positional only (the C functions
take no keywords). Bad input raises ``ValueError`` (a corrupt blob) or ``TypeError``.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from typing_extensions import Buffer

_T = TypeVar("_T")

# rdb decode (rdbtools/_buffer.py, rdbtools/rdb/_encodings.py, rdbtools/rdb/reader.py)

def listpack(blob: Buffer, ints: bool = False, /) -> list[bytes | int]:
    """The elements of a listpack blob (``listpack_py``); with ``ints`` integer entries
    stay ``int``, else they are their decimal ``bytes``."""

def ziplist(blob: Buffer, /) -> list[bytes]:
    """The elements of a ziplist blob as bytes (``ziplist_py``)."""

def listpack_count(blob: Buffer, /) -> int:
    """Every check of ``listpack`` on ``blob``, and its number of entries; no element is
    created."""

def listpack_slice(
    blob: Buffer, ints: bool, pos: int, limit: int, /
) -> tuple[list[bytes | int], int]:
    """Up to ``limit`` entries from the entry at byte ``pos`` (6 for the first) of a
    listpack ``listpack_count`` accepted, and the byte of the next entry."""

def ziplist_count(blob: Buffer, /) -> int:
    """Every check of ``ziplist`` on ``blob``, and its number of entries."""

def ziplist_slice(
    blob: Buffer, pos: int, prev: int, limit: int, /
) -> tuple[list[bytes], int, int]:
    """Up to ``limit`` entries from the entry at byte ``pos`` (10 for the first, ``prev``
    0), the byte of the next entry and the size of the last one read (the next ``prev``)."""

def lzf(data: Buffer, ulen: int, /) -> bytes:
    """``data`` inflated to exactly ``ulen`` bytes (liblzf's ``lzf_decompress``)."""

def strings(buf: Buffer, pos: int, count: int, /) -> tuple[list[bytes], int]:
    """Up to ``count`` rdb-strings from ``buf[pos:]`` and the position after them; stops
    early at an LZF string or an incomplete one (``Input.read_strings``)."""

def zset2(buf: Buffer, pos: int, count: int, /) -> tuple[list[tuple[bytes, float]], int]:
    """Up to ``count`` (member, 8-byte LE double score) pairs of a type-5 sorted set."""

def string_keys(
    buf: Buffer, pos: int, limit: int, /
) -> tuple[list[tuple[int, int | None, bytes, bytes, int, bool]], int]:
    """A run of up to ``limit`` plain string key records from ``buf[pos:]``, each as
    ``(record_start, expire_ms, key, value, value_start, int_encoded)``, and the
    position after them."""

def maker(cls: type[_T], /) -> Callable[..., _T]:
    """A constructor of the slotted class ``cls`` taking every slot positionally, in
    ``__slots__`` order (rdbtools/_make.py)."""

# rdb encode (rdbtools/rdb/_encoders.py, the ``*_py`` functions of the same names)

def enc_len(n: int, /) -> bytes: ...
def enc_lens(ns: Sequence[int], /) -> bytes: ...
def canonical_int(s: bytes, max_len: int = 20, /) -> int | None: ...
def enc_string(s: Buffer, compress: bool = True, /) -> bytes: ...
def enc_strings(items: Sequence[Buffer], compress: bool = True, /) -> bytes: ...
def lp_entry(s: Buffer, /) -> bytes: ...
def lp_entries(items: Sequence[Buffer], /) -> bytes: ...
def listpack_of(items: Sequence[Buffer], /) -> bytes:
    """A listpack blob of ``items`` (``listpack_py``)."""

def ziplist_of(items: Sequence[Buffer], /) -> bytes:
    """A ziplist blob of ``items`` (``ziplist_py``)."""

def lp_fill(
    items: Sequence[bytes], start: int, count: int, node_size: int, limit: int,
    overhead: int, plain_min: int | None, /,
) -> tuple[bytes, int, int]: ...
def key_record(
    out: bytearray, expire_ms: int | None, type: int, key: Buffer, compress: bool,
    head: Buffer, body: Buffer, tail: Buffer, /,
) -> None: ...

# memory estimator (rdbtools/memory/_batch.py): each updates the state list ``st`` in place

def mem_set(
    members: Sequence[bytes], params: tuple[int, int, int, int], lp_max: int,
    hist: dict[int, int] | None, st: list[int], /,
) -> None:
    """``set_batch_py``; ``st`` = [elements, largest, all_int, width, lp_size, ht]."""

def mem_zset(
    members: Sequence[tuple[bytes, float]], params: tuple[int, int, int, int], lp_max: int,
    ziplist: bool, shortest: bool, st: list[int], /,
) -> None:
    """``zset_batch_py``; ``st`` = [elements, largest, lp_size, lp_prev, ht]."""

def mem_hash(
    fields: Sequence[tuple[bytes, bytes, int | None]], params: tuple[int, int, int, int],
    lp_max: int, ziplist: bool, mstr: bool, st: list[int], /,
) -> None:
    """``hash_batch_py``; ``st`` = [elements, largest, ttl, lp_size, lp_prev, ht]."""

def mem_list(
    items: Sequence[bytes], params: tuple[int, int, int, int],
    cfg: tuple[int, int, int, int, int, int], close_first: bool, st: list[int], /,
) -> None:
    """``list_batch_py``; ``st`` holds the ten ints of the list accumulator."""

def mem_lp_sum(items: Sequence[bytes], /) -> int: ...
def mem_int(s: bytes, /) -> bool: ...

# AOF (rdbtools/aof/_walk.py, rdbtools/aof/_lines.py)

def aof_cum(lines: list[bytes] | tuple[bytes, ...], /) -> bytes:
    """Native int64 cumulative lengths of ``lines`` (``len(lines) + 1`` values)."""

def aof_walk_full(
    lines: list[bytes] | tuple[bytes, ...], nl: int, off: int, i: int, st: Any,
    batch: type[Any], walk: type[_T], max_argc: int, annotation_max: int, /,
) -> _T:
    """``walk_full_py`` from line ``i``, which starts at byte ``off``; ``st`` (a
    ``State``) is updated in place, the result is an instance of ``walk``."""

# RESP (rdbtools/aof/commands.py)

def resp(*args: Buffer) -> bytes:
    """One RESP command: ``*<argc>`` then ``$<len>`` and the bytes of each argument."""
