"""Shared helpers of the AOF tests (no tests here): the AOF fixtures, an independent
simple RESP parser, ``redis-check-aof`` runs, small hand-made AOFs and a live
``/usr/bin/redis-server`` loading an AOF."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, cli_env

REDIS_CHECK_AOF = "/usr/bin/redis-check-aof"
REDIS_SERVER = "/usr/bin/redis-server"

needs_rca = pytest.mark.skipif(not os.access(REDIS_CHECK_AOF, os.X_OK),
                               reason=f"{REDIS_CHECK_AOF} not found")


# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class AofFixture:
    """One AOF fixture: ``path`` (the single file or the ``appendonlydir``), its truth,
    and the files in load order."""

    id: str
    path: Path
    truth_path: Path

    @property
    def truth(self) -> dict[str, Any]:
        with open(self.truth_path, encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
        return data

    @property
    def multipart(self) -> bool:
        return self.path.is_dir()

    @property
    def files(self) -> list[Path]:
        if not self.multipart:
            return [self.path]
        lines = (self.path / "appendonly.aof.manifest").read_text().splitlines()
        entries = [dict(zip(ln.split()[0::2], ln.split()[1::2])) for ln in lines if ln]
        base = [self.path / e["file"] for e in entries if e["type"] == "b"]
        incr = [self.path / e["file"] for e in entries if e["type"] == "i"]
        return base + incr


def aof_fixtures() -> list[AofFixture]:
    out = []
    for truth in sorted(FIXTURES.glob("*/aof-*.truth.json")):
        folder = truth.with_name(truth.name[: -len(".truth.json")])
        path = folder / "appendonlydir" if (folder / "appendonlydir").is_dir() \
            else folder / "appendonly.aof"
        if path.exists():
            out.append(AofFixture(f"{folder.parent.name}/{folder.name}", path, truth))
    return out


def fixture_params() -> list[Any]:
    return [pytest.param(f, id=f.id) for f in aof_fixtures()]


# --------------------------------------------------------------------------- simple parser


@dataclass(frozen=True)
class Simple:
    offset: int
    args: tuple[bytes, ...]
    db: int
    timestamp: int | None


def simple_parse(data: bytes, start: int = 0, timestamp: int | None = None) -> list[Simple]:
    """A deliberately plain RESP reader (byte by byte with ``find``), independent of
    ``rdbtools.aof``: ``#`` lines up to ``\\n`` are skipped (``#TS:n`` sets the
    timestamp), SELECT is tracked. Raises ``ValueError`` on anything unexpected."""
    out = []
    pos, db, ts = start, 0, timestamp
    while pos < len(data):
        if data[pos:pos + 1] == b"#":
            end = data.index(b"\n", pos) + 1
            m = re.match(rb"#TS:(\d+)\r\n", data[pos:end])
            if m:
                ts = int(m.group(1))
            pos = end
            continue
        at = pos
        end = data.index(b"\r\n", pos)
        if data[pos:pos + 1] != b"*":
            raise ValueError(f"no '*' at {pos}")
        argc = int(data[pos + 1:end])
        pos = end + 2
        args = []
        for _ in range(argc):
            end = data.index(b"\r\n", pos)
            if data[pos:pos + 1] != b"$":
                raise ValueError(f"no '$' at {pos}")
            n = int(data[pos + 1:end])
            args.append(data[end + 2:end + 2 + n])
            if data[end + 2 + n:end + 4 + n] != b"\r\n":
                raise ValueError(f"no CRLF after the bulk at {end + 2}")
            pos = end + 4 + n
        out.append(Simple(at, tuple(args), db, ts))
        if args[0].upper() == b"SELECT":
            db = int(args[1])
    return out


def rdb_end(path: Path) -> int:
    """Where the RDB at the start of ``path`` ends (after its checksum), by the RDB
    reader, or 0 when the file does not start with one."""
    from rdbtools import read_rdb
    from rdbtools.events import End

    with open(path, "rb") as fh:
        if not fh.read(6).startswith((b"REDIS", b"VALKEY")):
            return 0
    for ev in read_rdb(str(path)):
        if isinstance(ev, End):
            return ev.offset + (1 if ev.checksum is None else 9)
    raise AssertionError("no End event")


# --------------------------------------------------------------------------- hand-made


def resp(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def small_aof() -> bytes:
    """About 1.5 KB: SELECTs, a MULTI block, #TS lines, arguments with CR LF, binary and
    empty arguments, a lower-case command."""
    parts = [
        b"#TS:1700000000\r\n",
        resp(b"SELECT", b"0"),
        resp(b"SET", b"k1", b"v1"),
        resp(b"SET", b"crlf", b"a\r\nb\r\n*1\r\n$4\r\nPING\r\n"),
        resp(b"RPUSH", b"list", b"", b"\x00\xff", b"x" * 100),
        b"#TS:1700000001\r\n",
        resp(b"MULTI"),
        resp(b"SELECT", b"3"),
        resp(b"INCRBY", b"c", b"5"),
        resp(b"EXEC"),
        resp(b"incr", b"c"),
        b"#some other annotation\r\n",
        resp(b"HSET", b"h", b"f\r\n", b"v" * 300),
        resp(b"SELECT", b"1"),
        b"#TS:1700000005\r\n",
        resp(b"ZADD", b"z", b"1.5", b"m"),
        resp(b"multi"),
        resp(b"DEL", b"k1", b"k2"),
        resp(b"exec"),
        resp(b"SET", b"last", b"\r"),
    ]
    return b"".join(parts)


# --------------------------------------------------------------------------- redis-check-aof


@dataclass(frozen=True)
class RcaResult:
    rc: int
    ok_up_to: int | None
    diff: int | None
    output: str


def rca(*args: str, stdin: str | None = None) -> RcaResult:
    """Run ``/usr/bin/redis-check-aof ARGS``; ``ok_up_to`` / ``diff`` of its last
    "AOF analyzed" line."""
    from helpers_server import real_clock_env

    proc = subprocess.run([REDIS_CHECK_AOF, *args], capture_output=True, text=True,
                          errors="replace", input=stdin, timeout=60, check=False,
                          env=real_clock_env())
    found = re.findall(r"ok_up_to=(\d+), ok_up_to_line=\d+, diff=(\d+)", proc.stdout)
    ok = int(found[-1][0]) if found else None
    diff = int(found[-1][1]) if found else None
    return RcaResult(proc.returncode, ok, diff, proc.stdout)


def copy_tree(src: Path, dst: Path) -> Path:
    """Copy a fixture file or folder (fixtures are read-only) and make it writable."""
    if src.is_dir():
        shutil.copytree(src, dst)
        for p in dst.iterdir():
            p.chmod(0o644)
        dst.chmod(0o755)
    else:
        shutil.copyfile(src, dst)
        dst.chmod(0o644)
    return dst


# --------------------------------------------------------------------------- live server


def server_available() -> str | None:
    """Why a live server test cannot run, or ``None``."""
    import importlib.util

    if not os.access(REDIS_SERVER, os.X_OK):
        return f"{REDIS_SERVER} not found"
    if importlib.util.find_spec("redis") is None:
        return "the redis Python package is not installed"
    return None


@contextmanager
def live_server(directory: Path, *args: str) -> Iterator[Any]:
    """``/usr/bin/redis-server --appendonly yes`` on ``directory`` (which holds the AOF:
    ``appendonly.aof``, upgraded by 7.x on start, or ``appendonlydir/``)."""
    from helpers_server import start_redis_server

    with start_redis_server(directory, "--appendonly", "yes", "--enable-debug-command",
                            "local", *args, binary=REDIS_SERVER) as server:
        yield server


def aoftool(*args: str, stdin: bytes | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``aoftool`` as a subprocess of the Python running the tests."""
    import sys

    cmd = [sys.executable, "-c", "import sys; from rdbtools.cli.aoftool import main; "
           "sys.exit(main())", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, env=cli_env(), cwd=cwd,
                          timeout=120, check=False)
