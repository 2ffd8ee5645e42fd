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

from collections.abc import Mapping
from dataclasses import dataclass

from rdbtools.events import KeyStart
from rdbtools.memory._costs import Costs
from rdbtools.memory._estimator import KeyEstimator
from rdbtools.memory._jemalloc import ALLOCATORS, Allocator
from rdbtools.memory._key_costs import KeyCosts
from rdbtools.memory.server import ServerFacts
from rdbtools.server_version import parse_version

__all__ = ["ALLOCATORS", "STATES", "KeyCosts", "KeyEstimator", "MemoryModel", "ModelChoice",
           "choose_model", "explain_model", "key_costs", "parse_version"]

STATES = ("live", "loaded")
"""``live``: the key as the server that wrote the file holds it (after the writes);
``loaded``: as a server restarted from the file holds it. They differ for streams: a
live Redis 6.2+ keeps the last stream node allocated at ``stream-node-max-bytes``."""

DEFAULT_VERSION = (7, 2)
"""The model used when the file names no server version (no AUX fields: Redis < 3.2, or
an AOF without an RDB part) and none is given."""

@dataclass(frozen=True, slots=True)
class MemoryModel:
    """Memory arithmetic of one server: ``server`` (``redis`` / ``valkey``), its
    ``version`` (major, minor, patch), ``allocator``, pointer ``bits`` and whether it
    ran in ``cluster`` mode; ``state`` one of ``STATES``."""

    server: str
    version: tuple[int, int, int]
    allocator: str = "jemalloc"
    bits: int = 64
    cluster: bool = False
    state: str = "live"

    def __post_init__(self) -> None:
        Allocator(self.allocator)  # validates the name
        if self.state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, not {self.state!r}")
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
        return KeyEstimator(self.key_costs(), start, file)

    def key_costs(self) -> KeyCosts:
        """This model's ``KeyCosts`` (made once per model)."""
        return key_costs(self)


_KEY_COSTS: dict[MemoryModel, KeyCosts] = {}


def key_costs(m: MemoryModel) -> KeyCosts:
    """The ``KeyCosts`` of ``m`` (made once per model)."""
    k = _KEY_COSTS.get(m)
    if k is None:
        k = _KEY_COSTS[m] = KeyCosts(m.costs, m.embedded_keys, m.cluster_overhead)
    return k


_COST_CACHE: dict[tuple[tuple[int, int], tuple[int, int], str, int, bool], Costs] = {}


def _costs(m: MemoryModel) -> Costs:
    valkey = m.version[:2] if m.server == "valkey" else (0, 0)
    live = m.state == "live"
    k = (m.base, valkey, m.allocator, m.bits, live)
    c = _COST_CACHE.get(k)
    if c is None:
        c = _COST_CACHE[k] = Costs(m.base, valkey, Allocator(m.allocator), m.bits, live)
    return c


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """A model and where each of its parts came from: ``version_from`` one of
    ``file`` (its ``redis-ver`` / ``valkey-ver``), ``option`` (``--model``), ``server``
    (``--model-from``), ``default``; ``allocator_from`` one of ``option``, ``server``,
    ``assumed``; ``server`` the facts a server gave, if one was asked."""

    model: MemoryModel
    version_from: str
    allocator_from: str
    server: ServerFacts | None = None
    note: str | None = None
    """Why the file's version was not used (a version AUX that is not a version)."""

    @property
    def assumed(self) -> bool:
        """Whether a part of the model was assumed (no option or server said it)."""
        return self.allocator_from == "assumed" or self.version_from == "default"

    def describe(self) -> str:
        """One line: the model's name and where its version and allocator came from."""
        m = self.model
        head = f"{m.name}, {m.state} state"
        facts = self.server
        if facts is not None and self.version_from == self.allocator_from == "server":
            return f"{head} (from {facts.source}: {facts.describe()})"
        ver = ".".join(str(v) for v in m.version)
        origin = {"file": "the file", "option": "--model", "default": "no version in the file",
                  "server": facts.source if facts else "the server"}
        alloc = {"option": "from --allocator", "assumed": "assumed",
                 "server": f"from {facts.source}: {facts.mem_allocator}" if facts
                 else "from the server"}
        return (f"{head} ({m.server} {ver} from {origin[self.version_from]}, "
                f"allocator {m.allocator} {alloc[self.allocator_from]})")


MODEL_HINT = ("choose another with --model VERSION, --allocator jemalloc|jemalloc-q16|libc, "
              "--state live|loaded, or --model-from redis://HOST:PORT (the server the file "
              "came from, or one like it)")
"""How to choose another model, for the summaries that show an assumed one."""


def explain_model(
    aux: Mapping[bytes, bytes],
    *,
    version: str | None = None,
    allocator: str | None = None,
    bits: int | None = None,
    cluster: bool | None = None,
    state: str = "live",
    server: ServerFacts | None = None,
) -> ModelChoice:
    """``choose_model`` and where each part came from. ``server`` (the facts of a
    running server, ``--model-from``) gives the version, allocator, bits and cluster
    mode; ``version`` / ``allocator`` / ``bits`` / ``cluster`` override it."""
    if server is not None:
        version_from = "option" if version is not None else "server"
        version = version if version is not None else server.model_version
        allocator_from = "option" if allocator is not None else "server"
        allocator = allocator if allocator is not None else server.allocator
        bits = bits if bits is not None else server.bits
        cluster = cluster if cluster is not None else server.cluster
    else:
        if version is not None:
            version_from = "option"
        elif file_version(aux) is not None:
            version_from = "file"
        else:
            version_from = "default"
        allocator_from = "option" if allocator is not None else "assumed"
    note = None
    name = _version_aux(aux)
    if version_from == "default" and name is not None:
        text = aux[name][:40].decode("ascii", "replace")
        note = (f"the {name.decode()} AUX field {text!r} is not a server version: the "
                f"{DEFAULT_VERSION[0]}.{DEFAULT_VERSION[1]} model is used (--model chooses one)")
    model = choose_model(aux, version=version, allocator=allocator, bits=bits,
                         cluster=cluster, state=state)
    return ModelChoice(model, version_from, allocator_from, server, note)


def _version_aux(aux: Mapping[bytes, bytes]) -> bytes | None:
    """The name of the file's version AUX field (``valkey-ver`` first), if any."""
    return next((n for n in (b"valkey-ver", b"redis-ver") if n in aux), None)


def file_version(aux: Mapping[bytes, bytes]) -> tuple[str, tuple[int, int, int]] | None:
    """The server and version the file's ``valkey-ver`` / ``redis-ver`` AUX field names,
    or ``None`` when it has none or it is not a version (empty, garbage)."""
    name = _version_aux(aux)
    if name is None:
        return None
    try:
        return name.decode()[:-4], parse_version(aux[name][:40].decode("ascii", "replace"))[1]
    except ValueError:
        return None


def choose_model(
    aux: Mapping[bytes, bytes],
    *,
    version: str | None = None,
    allocator: str | None = None,
    bits: int | None = None,
    cluster: bool | None = None,
    state: str = "live",
) -> MemoryModel:
    """The model for the server that wrote a file with these AUX fields.

    ``version`` (``"7.0"``, ``"valkey-8.0"``) overrides the file's ``redis-ver`` /
    ``valkey-ver``; ``allocator`` one of ``jemalloc`` (source builds, the default),
    ``jemalloc-q16`` (distribution packages linking a system jemalloc) or ``libc``;
    ``bits`` 32 or 64 (default: the file's ``redis-bits``, else 64); ``cluster`` whether
    the server ran in cluster mode (default: whether the AUX fields hold Valkey's
    ``slot-info``; ``rows_from_events`` also turns it on when it sees a Redis 7.4+
    SLOT_INFO record); ``state`` one of ``STATES``. A file without a version AUX gets
    the 7.2 model, and so does one whose version AUX is not a version
    (``explain_model`` says so in its ``note``).
    """
    if version is not None:
        server, ver = parse_version(version)
    else:
        server, ver = file_version(aux) or ("redis", (*DEFAULT_VERSION, 0))
    if bits is None:
        raw = aux.get(b"redis-bits", b"64")
        bits = 32 if raw.strip() == b"32" else 64
    if allocator is None:
        allocator = "jemalloc" if ver >= (4, 0, 0) or server == "valkey" else "jemalloc-q16"
    if cluster is None:
        cluster = b"slot-info" in aux
    return MemoryModel(server, ver, allocator, bits, cluster, state)
