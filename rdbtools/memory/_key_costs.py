"""What a key costs beyond its value, and whole string keys, in one memory model
(``MemoryModel.key_costs()``): the key's sds and main-dictionary entry apart from the
value, or the object header the key is embedded in (Redis 8, Valkey 8.1+), each rounded
to the allocator's size class (FORMAT.md §10.1); strings after §10.6's rule for
``int`` / ``embstr`` / ``raw``. The estimator and the row loop of ``estimate.py`` share it.
"""

from __future__ import annotations

from rdbtools.memory._batch import is_int
from rdbtools.memory._costs import Costs
from rdbtools.memory._encodings import sds_header


class KeyCosts:
    """What a key costs beyond its value in one model, and whole string keys, with the
    parts that depend only on the model computed once (tables by key and value length).

    ``costs``: the model's allocation sizes; ``where``: where the key lives
    (``MemoryModel.embedded_keys``: ``sds``, ``entry`` or ``object``); ``cluster``: what
    cluster mode adds per key (``MemoryModel.cluster_overhead``)."""

    __slots__ = ("c", "where", "apart", "robj", "embstr_max", "cluster", "share", "embstr",
                 "raws", "valkey")

    TABLE = 256
    """Key lengths (and embstr lengths) below this are looked up, not computed."""

    def __init__(self, costs: Costs, where: str, cluster: int) -> None:
        c = self.c = costs
        self.where = where
        self.apart = where != "object"  # the key's part does not depend on the value
        self.robj = c.robj
        self.embstr_max = c.embstr_max
        self.cluster = cluster
        self.share = [self._share(k) for k in range(self.TABLE)]
        self.embstr = [c.embstr(n) for n in range(self.embstr_max + 1)]
        self.raws: dict[int, int] = {}  # raw string sizes met so far, by length
        self.valkey = c.valkey_table  # Valkey 8.1+: its own rule for embedded strings

    def raw(self, length: int) -> int:
        """A raw string's value: robj and sds (remembered for lengths < 64 KiB)."""
        v = self.raws.get(length)
        if v is None:
            v = self.c.raw(length)
            if length < 65536:
                self.raws[length] = v
        return v

    def _share(self, klen: int) -> int:
        """The key's part when it lives apart from the value (``sds`` / ``entry``)."""
        c = self.c
        if self.where == "entry":
            # Valkey 8.0: "the main-dict entry embeds the key": next and value pointers, a
            # header-size byte and the key as an sdshdr8 (measured: 21 + keylen)
            return c.a(8 + 8 + 1 + 3 + klen + 1) + self.cluster
        return c.key(klen) + c.dict_entry + self.cluster

    def total(self, klen: int, expires: bool, value: int, encoding: str, length: int) -> int:
        """The whole key of ``klen`` bytes (``expires``: it has a TTL) whose value costs
        ``value`` in ``encoding`` (``length``: an embstr's length)."""
        if self.apart:
            return value + (self.share[klen] if klen < self.TABLE else self._share(klen))
        # Redis 8 / Valkey 8.1 kvobj: "alloc(16 + [8 if expire slot] + 1 + sdshdr(keylen) +
        # keylen + 1 + [embedded value sds for short strings])" + value parts without robj
        c = self.c
        head = self._head(klen, expires)
        if encoding == "embstr":
            return c.a(head + 3 + length + 1)
        return c.a(head) + value - self.robj

    def _head(self, klen: int, expires: bool) -> int:
        """The object header with the key embedded: robj, the expire slot (a TTL, or a
        key of 128 bytes or more), the key's header-size byte and its sds."""
        return 16 + (8 if expires or klen >= 128 else 0) + 1 + sds_header(klen) + klen + 1

    def valkey_string(self, klen: int, expires: bool, length: int) -> tuple[str, int]:
        """A Valkey 8.1+ string that is not an integer. 8.1-9.0: "embed when the sum is
        up to 64 bytes" (robj, key, expire, sdshdr8 value); 9.1: the embedded value
        needs no value pointer (an 8-byte header) and is embedded up to 128 bytes
        (measured on 9.1.2); else a raw sds beside the object."""
        c = self.c
        head = self._head(klen, expires)
        value = 3 + length + 1
        if c.valkey_embval and length:  # an empty value keeps its pointer (measured)
            if head - 8 + value <= 128:
                return "embstr", c.a(head - 8 + value)
        elif head + value <= 64:
            return "embstr", c.a(head + value)
        return "raw", c.a(head) + c.a(sds_header(length) + length + 1)

    def string(self, klen: int, expires: bool, length: int, head: bytes) -> tuple[str, int]:
        """(encoding, memory) of a whole string key: ``klen`` bytes of key, ``length``
        bytes of value that start with ``head`` (all of it when ``length`` ≤ 20)."""
        # §10.6: "canonical integer text of ≤ 20 chars that fits a signed 64-bit long → int"
        if length <= 20 and is_int(head):
            encoding, value = "int", self.robj
        elif self.valkey:
            return self.valkey_string(klen, expires, length)
        elif length <= self.embstr_max:
            encoding, value = "embstr", self.embstr[length]
        else:
            encoding, value = "raw", self.raw(length)
        if self.apart:
            share = self.share[klen] if klen < self.TABLE else self._share(klen)
            return encoding, value + share
        return encoding, self.total(klen, expires, value, encoding, length)
