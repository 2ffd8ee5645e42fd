"""What a running server says about its memory arithmetic, and the model that follows.

No file says which allocator wrote it; the server does. ``facts_from_info`` reads the
replies of ``INFO server`` (``redis_version`` / ``valkey_version``, ``arch_bits``),
``INFO memory`` (``mem_allocator``), ``INFO cluster`` (``cluster_enabled``) and
``MEMORY MALLOC-STATS`` (jemalloc's ``Quantum size:`` line, else its first small size
classes: ``8 16 32`` is a 16-byte quantum, ``8 16 24`` an 8-byte one). The connection
itself is made by ``rdbtools.ops.memory.server_facts``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rdbtools.errors import RdbToolsError
from rdbtools.memory._jemalloc import ALLOCATORS
from rdbtools.server_version import parse_version

_QUANTUM = re.compile(r"^Quantum size:\s*(\d+)", re.M)
_BIN = re.compile(r"^\s+(\d+)\s+\d+\s+\d+", re.M)


class ServerFactsError(RdbToolsError):
    """The server could not be reached or asked, or its replies do not say what a
    model needs (exit code 9, as for a server ``restore`` cannot use)."""

    exit_code = 9


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """A server's ``server`` (``redis`` / ``valkey``), ``version`` text, pointer
    ``bits``, ``cluster`` mode and the model's ``allocator`` name (one of
    ``ALLOCATORS``); ``mem_allocator`` is what ``INFO memory`` said, ``quantum`` the
    jemalloc quantum ``MEMORY MALLOC-STATS`` showed (``None`` when it did not say) and
    ``source`` where the facts came from (a URL without its password)."""

    server: str
    version: str
    bits: int
    cluster: bool
    allocator: str
    mem_allocator: str
    quantum: int | None
    source: str

    @property
    def model_version(self) -> str:
        """The version as ``--model`` spells it (``7.0.15``, ``valkey-9.1.2``)."""
        return self.version if self.server == "redis" else f"valkey-{self.version}"

    def describe(self) -> str:
        """E.g. ``redis 7.0.15, jemalloc-5.3.0 (quantum 16), 64 bits, standalone``."""
        alloc = self.mem_allocator
        if self.quantum is not None:
            alloc += f" (quantum {self.quantum})"
        mode = "cluster" if self.cluster else "standalone"
        return f"{self.server} {self.version}, {alloc}, {self.bits} bits, {mode}"


def _text(info: Mapping[str, Any], name: str) -> str:
    v = info.get(name)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return "" if v is None else str(v)


def jemalloc_quantum(malloc_stats: str) -> int | None:
    """The quantum ``MEMORY MALLOC-STATS`` of a jemalloc build states, else the one its
    bins table implies (the third small size class: 24 with an 8-byte quantum, 32 with
    16); ``None`` for other allocators ("Stats not supported for the current
    allocator")."""
    m = _QUANTUM.search(malloc_stats)
    if m:
        return int(m.group(1))
    start = malloc_stats.find("bins:")
    if start < 0:
        return None
    sizes = [int(s) for s in _BIN.findall(malloc_stats, start)[:3]]
    if len(sizes) == 3 and sizes[:2] == [8, 16]:
        return sizes[2] - sizes[1]
    return None


def facts_from_info(
    server: Mapping[str, Any],
    memory: Mapping[str, Any],
    cluster: Mapping[str, Any],
    malloc_stats: str,
    *,
    source: str,
) -> ServerFacts:
    """The facts in the parsed ``INFO server`` / ``INFO memory`` / ``INFO cluster``
    sections (as redis-py's ``info()`` returns them) and the ``MEMORY MALLOC-STATS``
    text. A jemalloc with an 8-byte quantum is ``jemalloc`` (the copy bundled with the
    sources), with a 16-byte one ``jemalloc-q16`` (a system jemalloc, as distribution
    packages link); when the stats do not say, a ``jemalloc`` whose build is not known
    is taken as bundled. ``libc`` is glibc malloc; any other allocator (tcmalloc) has no
    model and raises ``ServerFactsError``."""
    valkey = _text(server, "valkey_version")
    version = valkey or _text(server, "redis_version")
    try:
        parse_version(version, exact=True)
    except ValueError:
        raise ServerFactsError(f"{source}: INFO server names no server version") from None
    bits = 32 if _text(server, "arch_bits") == "32" else 64
    mem_allocator = _text(memory, "mem_allocator") or "unknown"
    quantum: int | None = None
    if mem_allocator.startswith("jemalloc"):
        quantum = jemalloc_quantum(malloc_stats)
        allocator = "jemalloc-q16" if quantum == 16 else "jemalloc"
    elif mem_allocator == "libc":
        allocator = "libc"
    else:
        raise ServerFactsError(
            f"{source}: allocator {mem_allocator!r} has no memory model "
            f"(known: {', '.join(ALLOCATORS)}); choose one with --allocator"
        )
    enabled = _text(cluster, "cluster_enabled") == "1"
    return ServerFacts(
        server="valkey" if valkey else "redis",
        version=version,
        bits=bits,
        cluster=enabled,
        allocator=allocator,
        mem_allocator=mem_allocator,
        quantum=quantum,
        source=source,
    )
