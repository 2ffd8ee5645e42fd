"""What each target RDB version can hold and which encodings its server picks
(FORMAT.md §1.3, §9)."""

from __future__ import annotations

from dataclasses import dataclass

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
    """A target format: RDB ``version`` and magic flavour."""

    version: int
    valkey: bool = False

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

    # what the format can hold ------------------------------------------------------
    @property
    def level(self) -> int:
        """The Redis RDB level whose features this target has (Valkey 80 has 11's, plus
        its own hash field TTLs)."""
        return 11 if self.valkey else self.version

    @property
    def has_aux(self) -> bool:
        return self.level >= 7

    @property
    def has_quicklist(self) -> bool:
        return self.level >= 7

    @property
    def has_binary_zset(self) -> bool:
        return self.level >= 8

    @property
    def has_modules(self) -> bool:
        return self.level >= 8

    @property
    def has_streams(self) -> bool:
        return self.level >= 9

    @property
    def has_lru_lfu(self) -> bool:
        return self.level >= 9

    @property
    def has_module_aux(self) -> bool:
        return self.level >= 9

    @property
    def has_listpacks(self) -> bool:
        return self.level >= 10

    @property
    def has_functions(self) -> bool:
        return self.level >= 10

    @property
    def has_set_listpack(self) -> bool:
        return self.level >= 11

    @property
    def stream_version(self) -> int:
        return 3 if self.level >= 11 else 2 if self.level >= 10 else 1

    @property
    def has_field_ttls(self) -> bool:
        return self.valkey or self.version >= 12

    @property
    def has_slot_info(self) -> bool:
        return not self.valkey and self.version >= 12

    @property
    def plain_node_min(self) -> int | None:
        """Smallest list element that gets a PLAIN quicklist node: 7.4+ anything above the
        node size limit, 7.0 / 7.2 only elements of 1 GiB and more."""
        if not self.has_listpacks:
            return None
        return 8193 if self.level >= 12 else 1 << 30
