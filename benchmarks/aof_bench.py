#!/usr/bin/env python3
"""Time AOF tools side by side on one generated AOF: seconds, MB/s, commands/s, peak RSS.

Rows (each a child process under GNU ``time``, page cache warm, best of ``--repeat``):
  redis-check-aof FILE                      the C reference (Redis 7.0.15)
  aoftool check FILE                        this project: RESP framing, MULTI/EXEC, #TS
  rdbtool check FILE                        this project: parse + replay the whole AOF
  aoftool rewrite FILE -o OUT --format F    this project: offline compaction, F = aof, preamble
  redis-server: load + BGREWRITEAOF         the server loading the same AOF
                                            (appendonly yes) and then rewriting it
The server row is timed from the process start until ``INFO persistence`` says
``loading:0``, then from BGREWRITEAOF until the rewrite is no longer in progress or
scheduled; its peak RSS is the server's ``VmHWM`` (the forked rewrite child not included).
The bar the project tracks: ``aoftool rewrite`` takes at most 4x the server's
load + rewrite, and ``aoftool check`` parses at least 40 MB/s.

The AOF is made by ``tests/test_aof_gen.py`` (SET / RPUSH / HSET / ZADD / XADD with
overwrites and deletes, SELECTs, MULTI/EXEC, ``#TS:`` annotations) unless ``FILE`` exists.

Usage: python benchmarks/aof_bench.py [FILE] [--mb 200] [--repeat 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "tests"))

from run import GNU_TIME, MB, Command, find_tool, run_best, warm_cache  # noqa: E402
from test_aof_gen import generate, resp  # noqa: E402

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CHECK_AOF = "/usr/bin/redis-check-aof"
DEFAULT_FILE = BENCH_DIR / "data" / "gen-aof-200mb.aof"


@dataclass
class Row:
    tool: str
    command: str
    status: str
    seconds: float | None = None
    peak_rss_mb: float | None = None
    mb_per_s: float | None = None
    commands_per_s: float | None = None
    vs_server: float | None = None  # seconds / server load + rewrite seconds


def beside(name: str) -> str:
    """A console script of this project (``run.find_tool``), or exit."""
    found = find_tool(name)
    if found is None:
        raise SystemExit(f"{name} not found: pip install -e .")
    return found


def count_commands(path: Path) -> int:
    """Commands in the AOF, as ``aoftool check`` counts them."""
    out = subprocess.run([beside("aoftool"), "check", str(path)], capture_output=True,
                         text=True, check=True).stdout
    match = re.search(r"^\s*commands\s+(\d+)", out, re.MULTILINE)
    if match is None:
        raise SystemExit(f"aoftool check printed no command count:\n{out}")
    return int(match.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Client:
    """One connection to the server for the polling (a ``redis-cli`` process per poll
    would take CPU from the server being timed). Connects on first use; ``None`` from
    ``call`` while the server does not accept connections yet."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.reader: Any = None

    def call(self, *args: bytes) -> bytes | None:
        if self.sock is None:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            except OSError:
                return None
            self.reader = self.sock.makefile("rb")
        self.sock.sendall(resp(*args))
        line = self.reader.readline()
        if line[:1] == b"$":
            data: bytes = self.reader.read(int(line[1:]) + 2)
            return data[:-2]
        if line[:1] == b"-":
            raise SystemExit(f"redis-server: {line.decode().strip()}")
        return line.strip()

    def info(self, section: bytes) -> dict[str, str]:
        text = self.call(b"INFO", section)
        if text is None:
            return {}
        return dict(line.split(":", 1) for line in text.decode().splitlines() if ":" in line)

    def close(self) -> None:
        if self.sock is not None:
            self.reader.close()
            self.sock.close()


def _wait(client: _Client, done: Callable[[dict[str, str]], bool],
          timeout: float = 600.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        info = client.info(b"persistence")
        if info and done(info):
            return
        time.sleep(0.005)
    raise SystemExit("redis-server did not finish in time")


def server_load_rewrite(path: Path) -> tuple[float, float, float, int]:
    """(load seconds, rewrite seconds, peak RSS MB, keys) of redis-server on ``path``."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        # The server moves the file into appendonlydir/ on its first start: give it a
        # hard link (or a copy), never the benchmark file itself.
        try:
            os.link(path, Path(tmp) / "appendonly.aof")
        except OSError:
            shutil.copy(path, Path(tmp) / "appendonly.aof")
        port = free_port()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
             "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = _Client(port)
        try:
            _wait(client, lambda i: i.get("loading") == "0")
            load = time.perf_counter() - start
            begin = time.perf_counter()
            client.call(b"BGREWRITEAOF")
            _wait(client, lambda i: i.get("aof_rewrite_in_progress") == "0"
                  and i.get("aof_rewrite_scheduled") == "0")
            rewrite = time.perf_counter() - begin
            keys = sum(int(m.group(1)) for m in re.finditer(
                r"keys=(\d+)", "\n".join(client.info(b"keyspace").values())))
            status = Path(f"/proc/{proc.pid}/status").read_text()
            hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
            peak = int(hwm.group(1)) * 1024 / MB if hwm else float("nan")
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=60)
    return load, rewrite, peak, keys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--mb", type=float, default=200.0, help="size to generate [200]")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args()
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} not found: apt-get install time")
    path: Path = args.file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ({args.mb:g} MB)", file=sys.stderr)
        generate(path, args.mb)
    size = path.stat().st_size
    warm_cache(path)
    commands = count_commands(path)
    rows: list[Row] = []

    load, rewrite, server_rss, server_keys = min(
        (server_load_rewrite(path) for _ in range(args.repeat)), key=lambda r: r[0] + r[1])
    server_total = load + rewrite
    rows.append(Row("redis-server 7.0.15: load", "appendonly yes, start until loading:0",
                    "ok", load, server_rss, size / MB / load, commands / load))
    rows.append(Row("redis-server 7.0.15: BGREWRITEAOF", "after the load", "ok", rewrite))
    rows.append(Row("redis-server 7.0.15: load + rewrite", "", "ok", server_total,
                    server_rss, size / MB / server_total, commands / server_total, 1.0))

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        out = Path(tmp) / "rewritten"
        cmds = [
            Command("redis-check-aof", [REDIS_CHECK_AOF, str(path)]),
            Command("aoftool check", [beside("aoftool"), "check", str(path)]),
            Command("rdbtool check (parse + replay)", [beside("rdbtool"), "check", str(path)]),
        ]
        has_rewrite = subprocess.run([beside("aoftool"), "rewrite", "--help"],
                                     capture_output=True).returncode == 0
        for fmt in ("aof", "preamble"):
            if has_rewrite:
                cmds.append(Command(f"aoftool rewrite --format {fmt}",
                                    [beside("aoftool"), "rewrite", str(path), "-o",
                                     f"{out}.{fmt}", "--format", fmt]))
        for cmd in cmds:
            result, _ = run_best(cmd, args.repeat)
            row = Row(result.tool, result.command, result.status, result.seconds,
                      result.peak_rss_mb)
            if result.seconds:
                row.mb_per_s = size / MB / result.seconds
                row.commands_per_s = commands / result.seconds
                row.vs_server = result.seconds / server_total
            rows.append(row)
        if not has_rewrite:
            rows.append(Row("aoftool rewrite", "", "not available in this build"))

    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# {path.name}: {size / MB:.1f} MB, {commands:,} commands, server keys after "
          f"load {server_keys:,}; {date}; {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {load_avg}; best of {args.repeat}\n")
    print("| tool | seconds | MB/s | commands/s | peak RSS MB | x server load+rewrite |")
    print("|---|---:|---:|---:|---:|---:|")

    def fmt(v: float | None, spec: str) -> str:
        return "" if v is None else format(v, spec)

    for r in rows:
        if r.status != "ok":
            print(f"| {r.tool} | {r.status} | | | | |")
            continue
        print(f"| {r.tool} | {fmt(r.seconds, '.2f')} | {fmt(r.mb_per_s, '.1f')} | "
              f"{fmt(r.commands_per_s, ',.0f')} | {fmt(r.peak_rss_mb, '.1f')} | "
              f"{fmt(r.vs_server, '.2f')} |")
    if args.json:
        args.json.write_text(json.dumps({"file": str(path), "bytes": size,
                                         "commands": commands, "date": date,
                                         "load_average": load_avg,
                                         "rows": [asdict(r) for r in rows]}, indent=2))


if __name__ == "__main__":
    main()
