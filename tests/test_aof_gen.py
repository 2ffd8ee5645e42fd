"""A generated AOF for speed measurements (docs/aof.md), and a check that it is valid.

``python tests/test_aof_gen.py OUT [MB] [--seed N]`` writes an AOF of about ``MB``
megabytes (default 100) as Redis 7 appends it with ``aof-timestamp-enabled yes``: many
SET / RPUSH / HSET / ZADD / XADD commands with overwrites and deletes, SELECTs, a few
MULTI/EXEC blocks and a ``#TS:`` annotation every few hundred commands. Values are
printable ASCII except some that hold ``\\r\\n`` and other bytes (a parser must not split
on them). Speed is measured with it, never in a test: the test below only makes a small
one and checks that ``redis-check-aof`` and our reader accept it.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_server import real_clock_env

REDIS_CHECK_AOF = "/usr/bin/redis-check-aof"


def resp(*args: bytes) -> bytes:
    """One command as RESP (FORMAT.md §8.1)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def commands(seed: int, binary_share: float = 0.005) -> Iterator[bytes]:
    """An endless stream of RESP commands and ``#TS:`` lines."""
    rnd = random.Random(seed)
    letters = b"abcdefghijklmnopqrstuvwxyz0123456789"
    pool = [bytes(rnd.choices(letters, k=rnd.randint(4, 120))) for _ in range(512)]
    binary = [bytes(rnd.randrange(256) for _ in range(rnd.randint(2, 60))) + b"\r\n"
              for _ in range(16)]
    ts = 1_700_000_000
    db = -1
    n = 0
    while True:
        if n % 300 == 0:
            ts += rnd.randint(0, 3)
            yield b"#TS:%d\r\n" % ts
        n += 1
        want_db = 0 if rnd.random() < 0.97 else rnd.randint(1, 3)
        if want_db != db:
            db = want_db
            yield resp(b"SELECT", b"%d" % db)
        key = b"key:%d" % rnd.randint(0, 200_000)
        r = rnd.random()
        value = rnd.choice(binary) if rnd.random() < binary_share else rnd.choice(pool)
        if r < 0.40:
            yield resp(b"SET", key, value)
        elif r < 0.55:
            yield resp(b"RPUSH", b"l" + key, *(rnd.choice(pool)[:20] for _ in range(4)))
        elif r < 0.70:
            yield resp(b"HSET", b"h" + key, b"field:%d" % rnd.randint(0, 50), value)
        elif r < 0.82:
            yield resp(b"ZADD", b"z" + key, b"%.17g" % rnd.random(), rnd.choice(pool)[:16])
        elif r < 0.90:
            yield resp(b"XADD", b"x" + key, b"%d-%d" % (ts * 1000, n), b"f", value[:30],
                       b"g", b"1")
        elif r < 0.95:
            yield resp(b"DEL", key)
        elif r < 0.97:
            yield resp(b"PEXPIREAT", key, b"%d" % (ts * 1000 + 3_600_000))
        else:
            # One piece, so that ``generate`` never stops inside a MULTI block.
            yield b"".join((resp(b"MULTI"),
                            resp(b"INCRBY", b"counter:%d" % rnd.randint(0, 99), b"3"),
                            resp(b"SET", key, value),
                            resp(b"EXEC")))


def generate(path: Path, megabytes: float, seed: int = 1, binary_share: float = 0.005) -> int:
    """Write about ``megabytes`` MB of AOF to ``path``; return the size written."""
    limit = int(megabytes * 1_000_000)
    written = 0
    batch: list[bytes] = []
    with open(path, "wb") as fp:
        for piece in commands(seed, binary_share):
            batch.append(piece)
            written += len(piece)
            if len(batch) >= 4096 or written >= limit:
                fp.write(b"".join(batch))
                batch.clear()
                if written >= limit:
                    break
    return written


@pytest.mark.skipif(shutil.which(REDIS_CHECK_AOF) is None, reason="no redis-check-aof")
def test_generated_aof_is_valid(tmp_path: Path) -> None:
    from rdbtools.aof.reader import read_aof
    from rdbtools.events import Command

    path = tmp_path / "gen.aof"
    size = generate(path, 0.3)
    proc = subprocess.run([REDIS_CHECK_AOF, str(path)], capture_output=True, check=False,
                          timeout=60, env=real_clock_env())
    assert proc.returncode == 0, proc.stdout
    assert f"ok_up_to={size}".encode() in proc.stdout
    cmds = [ev for ev in read_aof(path) if isinstance(ev, Command)]
    assert len(cmds) > 1000
    assert all(c.timestamp is not None for c in cmds)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--seed")]
    seed = 1
    for i, a in enumerate(sys.argv):
        if a == "--seed":
            seed = int(sys.argv[i + 1])
            args.remove(sys.argv[i + 1])
    if not args:
        sys.exit("usage: python tests/test_aof_gen.py OUT [MB] [--seed N]")
    size = generate(Path(args[0]), float(args[1]) if len(args) > 1 else 100.0, seed)
    print(f"{args[0]}: {size} bytes")
