"""What each target RDB version can hold and which encodings its server picks
(FORMAT.md §1.3, §9)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdbtools.errors import WriteError

WRITABLE_VERSIONS = (6, 7, 8, 9, 10, 11, 12)
VALKEY_VERSION = 80


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Encoding thresholds, named after the server settings; defaults are the servers'."""

    hash_max_listpack_entries: int = 512
    hash_max_listpack_value: int = 64
    zset_max_listpack_entries: int = 128
    zset_max_listpack_value: int = 64
    set_max_intset_entries: int = 512
    set_max_listpack_entries: int = 128
    set_max_listpack_value: int = 64
    list_max_ziplist_entries: int = 512
    """Pre-3.2 lists (RDB 6): ziplist while at most this many elements..."""
    list_max_ziplist_value: int = 64
    """... each at most this many bytes."""
    list_max_listpack_bytes: int = 8192
    """Quicklist node size limit (``list-max-listpack-size -2`` = 8 KiB)."""
    stream_node_max_bytes: int = 4096
    stream_node_max_entries: int = 100
    rdbcompression: bool = True


@dataclass(frozen=True, slots=True)
class Target:
    """A target format: RDB ``version`` and magic flavour. What the format can hold is
    worked out once, into plain attributes (the writer reads them per key)."""

    version: int
    valkey: bool = False
    level: int = field(init=False, repr=False, compare=False)
    """The Redis RDB level whose features this target has (Valkey 80 has 11's, plus its
    own hash field TTLs)."""
    has_aux: bool = field(init=False, repr=False, compare=False)
    has_quicklist: bool = field(init=False, repr=False, compare=False)
    has_binary_zset: bool = field(init=False, repr=False, compare=False)
    has_modules: bool = field(init=False, repr=False, compare=False)
    has_streams: bool = field(init=False, repr=False, compare=False)
    has_lru_lfu: bool = field(init=False, repr=False, compare=False)
    has_module_aux: bool = field(init=False, repr=False, compare=False)
    has_listpacks: bool = field(init=False, repr=False, compare=False)
    has_functions: bool = field(init=False, repr=False, compare=False)
    has_set_listpack: bool = field(init=False, repr=False, compare=False)
    stream_version: int = field(init=False, repr=False, compare=False)
    has_field_ttls: bool = field(init=False, repr=False, compare=False)
    has_slot_info: bool = field(init=False, repr=False, compare=False)
    plain_node_min: int | None = field(init=False, repr=False, compare=False)
    """Smallest list element that gets a PLAIN quicklist node: 7.4+ anything above the
    node size limit, 7.0 / 7.2 only elements of 1 GiB and more."""

    def __post_init__(self) -> None:
        level = 11 if self.valkey else self.version
        caps: dict[str, object] = {
            "level": level,
            "has_aux": level >= 7,
            "has_quicklist": level >= 7,
            "has_binary_zset": level >= 8,
            "has_modules": level >= 8,
            "has_streams": level >= 9,
            "has_lru_lfu": level >= 9,
            "has_module_aux": level >= 9,
            "has_listpacks": level >= 10,
            "has_functions": level >= 10,
            "has_set_listpack": level >= 11,
            "stream_version": 3 if level >= 11 else 2 if level >= 10 else 1,
            "has_field_ttls": self.valkey or self.version >= 12,
            "has_slot_info": not self.valkey and self.version >= 12,
            "plain_node_min": None if level < 10 else 8193 if level >= 12 else 1 << 30,
        }
        for name, value in caps.items():
            object.__setattr__(self, name, value)

    @staticmethod
    def of(version: int | str) -> Target:
        """``12``, ``"12"``, ``"valkey"`` / ``"80"`` (Valkey 9 ``VALKEY080``)."""
        text = str(version).lower()
        if text in ("valkey", "valkey080", str(VALKEY_VERSION)):
            return Target(VALKEY_VERSION, valkey=True)
        if not text.isdigit() or int(text) not in WRITABLE_VERSIONS:
            raise WriteError(f"cannot write RDB version {version!r}: choose one of "
                             f"{', '.join(map(str, WRITABLE_VERSIONS))} or 'valkey'")
        return Target(int(text))

    @property
    def header(self) -> bytes:
        if self.valkey:
            return b"VALKEY%03d" % self.version
        return b"REDIS%04d" % self.version

    @property
    def server_version(self) -> str:
        """The server version this target impersonates in its ``redis-ver`` AUX field."""
        if self.valkey:
            return "9.0.0"
        return {6: "3.0.7", 7: "3.2.13", 8: "4.0.14", 9: "6.2.14", 10: "7.0.15",
                11: "7.2.6", 12: "7.4.1"}[self.version]
