"""Opcodes, type ids, encodings and the version table of the RDB format (FORMAT.md §1, §3,
§4.0). Names follow the servers' sources (``RDB_OPCODE_*``, ``RDB_TYPE_*``)."""

from __future__ import annotations

# --- versions (FORMAT.md §1.3) -------------------------------------------------------
REDIS_MAX_VERSION = 13
"""Newest Redis-magic RDB version this package reads (13 = Redis 8.6: KEY_META, stream v4)."""
VALKEY_VERSIONS = frozenset({80})
"""Valkey-magic (``VALKEY080``) versions this package reads."""

# --- opcodes (FORMAT.md §3.1) ---------------------------------------------------------
OPCODE_KEY_META_OR_SLOT_IMPORT = 0xF3
OPCODE_SLOT_INFO = 0xF4
OPCODE_FUNCTION2 = 0xF5
OPCODE_FUNCTION_PRE_GA = 0xF6
OPCODE_MODULE_AUX = 0xF7
OPCODE_IDLE = 0xF8
OPCODE_FREQ = 0xF9
OPCODE_AUX = 0xFA
OPCODE_RESIZEDB = 0xFB
OPCODE_EXPIRETIME_MS = 0xFC
OPCODE_EXPIRETIME = 0xFD
OPCODE_SELECTDB = 0xFE
OPCODE_EOF = 0xFF

# --- value types (FORMAT.md §4.0) ----------------------------------------------------
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE_PRE_GA = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19
TYPE_SET_LISTPACK = 20
TYPE_STREAM_LISTPACKS_3 = 21
TYPE_HASH_METADATA_PRE_GA = 22  # Redis-magic; Valkey-magic 22 is HASH_2
TYPE_VALKEY_HASH_2 = 22
TYPE_HASH_LISTPACK_EX_PRE_GA = 23
TYPE_HASH_METADATA = 24
TYPE_HASH_LISTPACK_EX = 25
TYPE_STREAM_LISTPACKS_4 = 26

# type id -> (logical type, encoding as stored)
TYPE_NAMES: dict[int, tuple[str, str]] = {
    TYPE_STRING: ("string", "raw"),
    TYPE_LIST: ("list", "linkedlist"),
    TYPE_SET: ("set", "hashtable"),
    TYPE_ZSET: ("zset", "skiplist"),
    TYPE_HASH: ("hash", "hashtable"),
    TYPE_ZSET_2: ("zset", "skiplist"),
    TYPE_MODULE_PRE_GA: ("module", "module"),
    TYPE_MODULE_2: ("module", "module"),
    TYPE_HASH_ZIPMAP: ("hash", "zipmap"),
    TYPE_LIST_ZIPLIST: ("list", "ziplist"),
    TYPE_SET_INTSET: ("set", "intset"),
    TYPE_ZSET_ZIPLIST: ("zset", "ziplist"),
    TYPE_HASH_ZIPLIST: ("hash", "ziplist"),
    TYPE_LIST_QUICKLIST: ("list", "quicklist"),
    TYPE_STREAM_LISTPACKS: ("stream", "stream"),
    TYPE_HASH_LISTPACK: ("hash", "listpack"),
    TYPE_ZSET_LISTPACK: ("zset", "listpack"),
    TYPE_LIST_QUICKLIST_2: ("list", "quicklist"),
    TYPE_STREAM_LISTPACKS_2: ("stream", "stream"),
    TYPE_SET_LISTPACK: ("set", "listpack"),
    TYPE_STREAM_LISTPACKS_3: ("stream", "stream"),
    TYPE_HASH_METADATA_PRE_GA: ("hash", "hashtable"),
    TYPE_HASH_LISTPACK_EX_PRE_GA: ("hash", "listpackex"),
    TYPE_HASH_METADATA: ("hash", "hashtable"),
    TYPE_HASH_LISTPACK_EX: ("hash", "listpackex"),
    TYPE_STREAM_LISTPACKS_4: ("stream", "stream"),
}

LOGICAL_TYPES = ("string", "list", "set", "zset", "hash", "stream", "module")

# --- rdb-string special encodings (FORMAT.md §2.2) ------------------------------------
ENC_INT8 = 0
ENC_INT16 = 1
ENC_INT32 = 2
ENC_LZF = 3

# --- quicklist 2 containers (FORMAT.md §4.5) ------------------------------------------
QUICKLIST_NODE_PLAIN = 1
QUICKLIST_NODE_PACKED = 2

# --- module ids (FORMAT.md §5.1) -----------------------------------------------------
MODULE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# module-opcode stream (FORMAT.md §5.2)
MODULE_OP_EOF = 0
MODULE_OP_SINT = 1
MODULE_OP_UINT = 2
MODULE_OP_FLOAT = 3
MODULE_OP_DOUBLE = 4
MODULE_OP_STRING = 5


def module_type_id(name: str, encver: int) -> int:
    """The 64-bit module type id of a 9-character name and a 10-bit encoding version, the
    inverse of ``module_name``; ``ValueError`` for a name or version it cannot hold."""
    if len(name) != 9 or any(c not in MODULE_ALPHABET for c in name):
        raise ValueError(f"module name {name!r} is not 9 characters of A-Z a-z 0-9 - _")
    if not 0 <= encver < 1024:
        raise ValueError(f"module version {encver} is not in 0..1023")
    x = 0
    for c in name:
        x = (x << 6) | MODULE_ALPHABET.index(c)
    return (x << 10) | encver


def module_name(module_id: int) -> tuple[str, int]:
    """Decode a 64-bit module type id into its 9-character name and 10-bit version:
    ``encver = id & 1023``; the name is nine 6-bit symbols, first one most significant."""
    encver = module_id & 1023
    x = module_id >> 10
    chars = []
    for _ in range(9):
        chars.append(MODULE_ALPHABET[x & 63])
        x >>= 6
    return "".join(reversed(chars)), encver
