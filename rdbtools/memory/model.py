"""The memory model: what a key costs in the running server that wrote a file.

``choose_model(aux)`` picks the model for the server version named by the file's AUX
fields (``redis-ver`` / ``valkey-ver``, ``redis-bits``); ``MemoryModel.estimator(start)``
estimates one key from its events, one at a time, in constant memory. The estimate is
what ``MEMORY USAGE key SAMPLES 0`` reports (FORMAT.md §10.1): the value's allocations,
the key's sds and its main-dictionary entry, each rounded to the allocator's size class;
not the expires entry, the main table's buckets or fragmentation (§10.7). See
``docs/memory-model.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rdbtools.events import KeyStart
from rdbtools.memory._costs import Costs
from rdbtools.memory._encodings import sds_header
from rdbtools.memory._estimator import KeyEstimator
from rdbtools.memory._jemalloc import ALLOCATORS, Allocator

__all__ = ["ALLOCATORS", "KeyEstimator", "MemoryModel", "choose_model", "parse_version"]

DEFAULT_VERSION = (7, 2)
"""The model used when the file names no server version (no AUX fields: Redis < 3.2, or
an AOF without an RDB part) and none is given."""

_VERSION = re.compile(r"^\s*(?:(redis|valkey)[-/ ]?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?", re.I)


def parse_version(text: str) -> tuple[str, tuple[int, int, int]]:
    """``"7.0"``, ``"7.2.6"``, ``"valkey-8.0"``, ``"redis-8.0"`` → (server, version).
    A bad text raises ``ValueError``."""
    m = _VERSION.match(text)
    if not m:
        raise ValueError(f"bad server version {text!r} (expected e.g. 7.2, 7.4.1, valkey-8.0)")
    server = (m.group(1) or "redis").lower()
    return server, (int(m.group(2)), int(m.group(3) or 0), int(m.group(4) or 0))


@dataclass(frozen=True, slots=True)
class MemoryModel:
    """Memory arithmetic of one server: ``server`` (``redis`` / ``valkey``), its
    ``version`` (major, minor, patch), ``allocator``, pointer ``bits`` and whether it
    ran in ``cluster`` mode."""

    server: str
    version: tuple[int, int, int]
    allocator: str = "jemalloc"
    bits: int = 64
    cluster: bool = False

    def __post_init__(self) -> None:
        Allocator(self.allocator)  # validates the name
        if self.server not in ("redis", "valkey"):
            raise ValueError(f"server must be redis or valkey, not {self.server!r}")
        if self.bits not in (32, 64):
            raise ValueError(f"bits must be 32 or 64, not {self.bits}")

    @property
    def name(self) -> str:
        """E.g. ``redis-7.0/jemalloc/64`` (``…/cluster`` for a cluster node)."""
        major, minor, _ = self.version
        name = f"{self.server}-{major}.{minor}/{self.allocator}/{self.bits}"
        return name + "/cluster" if self.cluster else name

    @property
    def base(self) -> tuple[int, int]:
        """The Redis code base the arithmetic follows: Valkey 7.2 and 8.x keep Redis
        7.2's structures (their own differences are handled where they apply); Redis
        7.9.x (8.0 milestones) are 7.4 until the 8.0 object layout."""
        major, minor, _ = self.version
        if self.server == "valkey":
            return (7, 2)
        if (major, minor) == (7, 9):
            return (7, 4)
        return (major, minor)

    @property
    def cluster_overhead(self) -> int:
        """What cluster mode adds per key: "7.0 adds 16 (per-entry slot-to-key prev/next
        links); 7.2 adds 8 (it counts the per-dict back-pointer)" (§10.1), Valkey 7.2
        like Redis 7.2; Redis 7.4+ and Valkey 8 keep one dict per slot and add nothing
        (measured)."""
        if not self.cluster:
            return 0
        base = self.base
        if self.server == "valkey":
            return 8 if self.version[:2] < (8, 0) else 0
        if base == (7, 0):
            return 16
        if base == (7, 2):
            return 8
        return 0

    @property
    def costs(self) -> Costs:
        return _costs(self)

    @property
    def embedded_keys(self) -> str:
        """Where the key lives: ``sds`` (a separate sds and dictEntry), ``entry``
        (Valkey 8.0: embedded in the dictEntry), ``object`` (Redis 8.0+, Valkey 8.1+:
        embedded in the value's object header)."""
        major, minor, _ = self.version
        if self.server == "valkey":
            if (major, minor) >= (8, 1):
                return "object"
            if major >= 8:
                return "entry"
            return "sds"
        return "object" if major >= 8 else "sds"

    def estimator(self, start: KeyStart, *, file: str = "") -> KeyEstimator:
        """A fresh estimator for the key ``start`` opens; ``file`` names its row's input."""
        return KeyEstimator(self, start, file)

    def key_overhead(self, start: KeyStart, value: int, encoding: str, length: int = 0) -> int:
        """The whole key: ``value`` (the value's object and allocations) plus the key's
        share as this server counts it (§10.1); ``length`` is an embstr's length."""
        c = self.costs
        klen = len(start.key)
        where = self.embedded_keys
        if where == "sds":
            return value + c.key(klen) + c.dict_entry + self.cluster_overhead
        if where == "entry":
            # Valkey 8.0: "the main-dict entry embeds the key": next and value pointers, a
            # header-size byte and the key as an sdshdr8 (measured: 21 + keylen)
            return value + c.a(8 + 8 + 1 + 3 + klen + 1) + self.cluster_overhead
        # Redis 8 / Valkey 8.1 kvobj: "alloc(16 + [8 if expire slot] + 1 + sdshdr(keylen) +
        # keylen + 1 + [embedded value sds for short strings])" + value parts without robj
        head = 16 + (8 if start.expire_ms is not None or klen >= 128 else 0)
        head += 1 + sds_header(klen) + klen + 1
        if encoding == "embstr":
            return c.a(head + 3 + length + 1)
        return c.a(head) + value - c.robj


_COST_CACHE: dict[tuple[tuple[int, int], tuple[int, int], str, int], Costs] = {}


def _costs(m: MemoryModel) -> Costs:
    valkey = m.version[:2] if m.server == "valkey" else (0, 0)
    k = (m.base, valkey, m.allocator, m.bits)
    c = _COST_CACHE.get(k)
    if c is None:
        c = _COST_CACHE[k] = Costs(m.base, valkey, Allocator(m.allocator), m.bits)
    return c


def choose_model(
    aux: Mapping[bytes, bytes],
    *,
    version: str | None = None,
    allocator: str | None = None,
    bits: int | None = None,
    cluster: bool | None = None,
) -> MemoryModel:
    """The model for the server that wrote a file with these AUX fields.

    ``version`` (``"7.0"``, ``"valkey-8.0"``) overrides the file's ``redis-ver`` /
    ``valkey-ver``; ``allocator`` one of ``jemalloc`` (source builds, the default),
    ``jemalloc-q16`` (distribution packages linking a system jemalloc) or ``libc``;
    ``bits`` 32 or 64 (default: the file's ``redis-bits``, else 64); ``cluster`` whether
    the server ran in cluster mode (default: whether the AUX fields hold Valkey's
    ``slot-info``; ``rows_from_events`` also turns it on when it sees a Redis 7.4+
    SLOT_INFO record). A file without a version AUX gets the 7.2 model.
    """
    if version is not None:
        server, ver = parse_version(version)
    elif b"valkey-ver" in aux:
        server, ver = "valkey", parse_version(aux[b"valkey-ver"].decode("ascii", "replace"))[1]
    elif b"redis-ver" in aux:
        server, ver = "redis", parse_version(aux[b"redis-ver"].decode("ascii", "replace"))[1]
    else:
        server, ver = "redis", (*DEFAULT_VERSION, 0)
    if bits is None:
        raw = aux.get(b"redis-bits", b"64")
        bits = 32 if raw.strip() == b"32" else 64
    if allocator is None:
        allocator = "jemalloc" if ver >= (4, 0, 0) or server == "valkey" else "jemalloc-q16"
    if cluster is None:
        cluster = b"slot-info" in aux
    return MemoryModel(server, ver, allocator, bits, cluster)
