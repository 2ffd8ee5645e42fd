#!/usr/bin/env python3
"""Time the writing side on one RDB: `rdbtool convert` to several versions (MB/s of
input, keys/s, peak RSS), and moving the keys into a live server: `rdbtool restore`
against `rdbtool dump --resp | redis-cli --pipe`, both into the same fresh
`/usr/bin/redis-server` (flushed between runs), in one run.

usage: python benchmarks/write_restore.py FILE [--repeat N] [--versions 9,11,12] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import MB, Command, find_rdbtool, keys_in, run_once, warm_cache  # noqa: E402

SERVER = "/usr/bin/redis-server"
CLI = "/usr/bin/redis-cli"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(workdir: Path) -> Iterator[int]:
    """A fresh server on a free loopback port, no persistence; yields its port."""
    port = free_port()
    proc = subprocess.Popen(
        [SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--save", "", "--appendonly", "no", "--logfile", str(workdir / "server.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if subprocess.run([CLI, "-p", str(port), "ping"], capture_output=True,
                              text=True).stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait()


def cli(port: int, *args: str) -> str:
    return subprocess.run([CLI, "-p", str(port), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def best(argv: list[str], repeat: int, before: object = None) -> tuple[float, float, str]:
    """Best wall time, highest peak RSS and the output of ``argv`` over ``repeat`` runs
    (``before`` is called before each)."""
    times, rss, out = [], 0.0, ""
    for _ in range(repeat):
        if callable(before):
            before()
        run = run_once(Command("x", argv))
        if run.exit_code != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {run.stderr.strip()[-400:]}")
        times.append(run.seconds)
        rss = max(rss, run.peak_rss_mb)
        out = run.stdout + run.stderr
    return min(times), rss, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--versions", default="9,11,12")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    path: Path = args.file
    rdbtool = find_rdbtool()
    if rdbtool is None:
        sys.exit("rdbtool is not installed (pip install -e .)")
    size = path.stat().st_size
    warm_cache(path)
    check = run_once(Command("check", [rdbtool, "check", str(path)]))
    keys = keys_in(check.stdout) or 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="rdbtools-bench-") as tmp:
        work = Path(tmp)
        for v in args.versions.split(","):
            out = work / f"out-{v}.rdb"
            secs, rss, _ = best([rdbtool, "convert", str(path), str(out), "--to-version", v],
                                args.repeat)
            rows.append({"tool": f"rdbtool convert --to-version {v}", "seconds": secs,
                         "mb_per_s": size / MB / secs, "keys_per_s": keys / secs,
                         "peak_rss_mb": rss, "output_mb": out.stat().st_size / MB})
            out.unlink()
        now = str(int(time.time() * 1000))
        with server(work) as port:
            flush = (lambda: cli(port, "flushall"))  # noqa: E731
            secs, rss, text = best([rdbtool, "restore", str(path), "--url",
                                    f"redis://127.0.0.1:{port}", "--now", now], args.repeat,
                                   flush)
            written = int(cli(port, "dbsize") or 0)
            for db in range(1, 16):
                written += int(cli(port, "-n", str(db), "dbsize") or 0)
            rows.append({"tool": "rdbtool restore", "seconds": secs, "keys": written,
                         "keys_per_s": written / secs, "peak_rss_mb": rss,
                         "mb_per_s": size / MB / secs, "summary": text.strip()[-200:]})
            resp = work / "dump.resp"
            dsecs, drss, _ = best([rdbtool, "dump", str(path), "--resp", "--no-expired",
                                   "--now", now, "-o", str(resp)], args.repeat)
            pipe_times = []
            for _ in range(args.repeat):
                flush()
                t = time.perf_counter()
                with open(resp, "rb") as fp:
                    subprocess.run([CLI, "-p", str(port), "--pipe"], stdin=fp,
                                   stdout=subprocess.DEVNULL, check=True)
                pipe_times.append(time.perf_counter() - t)
            psecs = min(pipe_times)
            rows.append({"tool": "rdbtool dump --resp (to a file)", "seconds": dsecs,
                         "mb_per_s": size / MB / dsecs, "keys_per_s": keys / dsecs,
                         "peak_rss_mb": drss})
            rows.append({"tool": "redis-cli --pipe of that file", "seconds": psecs,
                         "keys_per_s": written / psecs,
                         "resp_mb": os.path.getsize(resp) / MB})
            rows.append({"tool": "dump --resp + redis-cli --pipe, total",
                         "seconds": dsecs + psecs, "keys_per_s": written / (dsecs + psecs)})
    report = {"file": str(path), "size_mb": size / MB, "keys": keys, "rows": rows,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "load": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{path} ({size / MB:.1f} MB, {keys:,} keys), {report['date']}, "
          f"load {report['load']:.2f}")
    print(f"| {'tool':<40} | seconds | MB/s | keys/s | peak RSS MB |")
    print(f"| {'-' * 40} | ---: | ---: | ---: | ---: |")
    for r in rows:
        def f(k: str, fmt: str, r: dict[str, object] = r) -> str:
            v = r.get(k)
            return format(v, fmt) if isinstance(v, (int, float)) else ""
        print(f"| {r['tool']:<40} | {f('seconds', '.2f')} | {f('mb_per_s', '.1f')} | "
              f"{f('keys_per_s', ',.0f')} | {f('peak_rss_mb', '.1f')} |")
    if shutil.which(CLI) is None:
        print("note: redis-cli not found")


if __name__ == "__main__":
    main()
