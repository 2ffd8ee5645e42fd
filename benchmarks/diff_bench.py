#!/usr/bin/env python3
"""Time ``rdbtool diff`` on two benchmark-size files, under a memory budget.

Cases (each one ``rdbtool diff`` child process under GNU ``/usr/bin/time``, stdout to
/dev/null, after both files were read once to warm the page cache):

  same data, RDB 9 vs RDB 10   A = data/bench-1-200mb.rdb, B = data/bench-1-200mb-rdb10.rdb
                               (the same content written by Redis 6.2 and 7.0), with
                               --ignore-stream-times (the two servers wrote the PEL
                               delivery times at different moments): must exit 0
  same data, all fields        the same without --ignore-stream-times: exits 1, and
                               every reported change is a PEL delivery time or a
                               consumer's seen / active time
  mutated copy                 A against a copy of A (written here by RdbWriter as RDB 10,
                               so every key is re-encoded) with known changes: some keys
                               dropped, some added, some string values and TTLs changed;
                               the summary must count exactly those

The figures: wall seconds, MB/s (the two inputs' sizes together, 10**6 bytes, divided by
the seconds), peak RSS (``%M``) against ``--memory-budget``, and the load average before
and after (other processes on the machine slow the run down). Exit status 1 when a check
fails or a peak RSS exceeds the budget.

    python benchmarks/diff_bench.py [--budget MB] [--a FILE] [--b FILE] [--json] [--keep]

The mutated copy (data/<A>-mutated.rdb) is made again each run and removed at the end
unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATA = BENCH_DIR / "data"
GNU_TIME = "/usr/bin/time"
MB = 1_000_000
EVERY = 50_000
"""Every EVERY-th key of A is dropped in the mutated copy; the keys right after those
get another value (strings) or another TTL (other types)."""
ADDED = 25
_SCRIPT = Path(sys.executable).parent / "rdbtool"
RDBTOOL = [str(_SCRIPT)] if _SCRIPT.exists() else [
    sys.executable, "-c", "from rdbtools.cli.rdbtool import main; main()"]


@dataclass
class Mutations:
    dropped: int = 0
    changed: int = 0
    added: int = 0


@dataclass
class Result:
    case: str
    seconds: float
    mb_per_s: float
    peak_rss_mb: float
    budget_mb: int
    exit_code: int
    summary: str
    lines: int
    check: str


def mutated_events(path: Path, m: Mutations) -> Iterator[object]:
    """The events of ``path`` with the changes ``Mutations`` counts."""
    from rdbtools import read_rdb
    from rdbtools.events import KeyEnd, KeyStart, StringValue

    n = 0
    dropping = changing = False
    for ev in read_rdb(str(path)):
        if isinstance(ev, KeyStart):
            n += 1
            if n % EVERY == 0:
                dropping = True
                m.dropped += 1
                continue
            if n % EVERY == 1 and n > 1:
                changing = True
                m.changed += 1
                if ev.type != "string":
                    ev = replace(ev, expire_ms=4_200_000_000_000 + n)
                    changing = False
        if dropping:
            dropping = not isinstance(ev, KeyEnd)
            continue
        if changing and isinstance(ev, StringValue):
            ev = replace(ev, data=ev.data + b"+changed")
        if isinstance(ev, KeyEnd):
            changing = False
        yield ev
    for i in range(ADDED):
        key = b"diff-bench:added:%d" % i
        yield KeyStart(0, key, "string", "", 0)
        yield StringValue(b"new value %d" % i)
        yield KeyEnd(key, 0, 0)
        m.added += 1


def make_mutated(a: Path, out: Path) -> Mutations:
    from rdbtools.rdb.writer import RdbWriter

    m = Mutations()
    tmp = out.with_suffix(".tmp")
    with open(tmp, "wb") as fp:
        w = RdbWriter(fp, 10)
        for ev in mutated_events(a, m):
            w.write(ev)  # type: ignore[arg-type]
        w.close()
    os.replace(tmp, out)
    return m


def run_diff(case: str, a: Path, b: Path, budget: int, extra: list[str]) -> Result:
    argv = [GNU_TIME, "-f", "%M", *RDBTOOL, "diff", str(a), str(b), "--memory-budget",
            str(budget), *extra]
    out_path = DATA / ".diff-bench.out"
    t0 = time.perf_counter()
    with open(out_path, "wb") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - t0
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    rss_kb = int(err[-1]) if err and err[-1].isdigit() else 0
    summary = next((line for line in err if line.startswith("keys: ")), " | ".join(err[-3:]))
    lines = sum(1 for _ in open(out_path, "rb"))
    size = a.stat().st_size + b.stat().st_size
    return Result(case, round(seconds, 2), round(size / MB / seconds, 1),
                  round(rss_kb / 1024, 1), budget, proc.returncode, summary, lines, "")


def counts(summary: str) -> tuple[int, int, int, int] | None:
    m = re.match(r"keys: (\d+) equal, (\d+) changed, (\d+) only in A, (\d+) only in B",
                 summary)
    return None if m is None else tuple(int(x) for x in m.groups())  # type: ignore[return-value]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", type=Path, default=DATA / "bench-1-200mb.rdb")
    ap.add_argument("--b", type=Path, default=DATA / "bench-1-200mb-rdb10.rdb")
    ap.add_argument("--budget", type=int, default=256, metavar="MB")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the mutated copy")
    args = ap.parse_args()
    for p in (args.a, args.b):
        if not p.is_file():
            print(f"{p}: missing; make it with benchmarks/gen_rdb.py (see README.md)",
                  file=sys.stderr)
            return 2
    mutated = DATA / (args.a.stem + "-mutated.rdb")
    t0 = time.perf_counter()
    m = make_mutated(args.a, mutated)
    made = time.perf_counter() - t0
    for p in (args.a, args.b, mutated):
        with open(p, "rb") as fp:
            while fp.read(1 << 24):
                pass
    load_before = os.getloadavg()
    results = []
    r = run_diff("same data, RDB 9 vs RDB 10, --ignore-stream-times --keys-only",
                 args.a, args.b, args.budget, ["--ignore-stream-times", "--keys-only"])
    r.check = "ok" if r.exit_code == 0 and r.lines == 0 else "FAIL: expected no difference"
    results.append(r)
    r = run_diff("same data, RDB 9 vs RDB 10, all fields (text)", args.a, args.b,
                 args.budget, [])
    with open(DATA / ".diff-bench.out", encoding="utf-8", errors="replace") as fp:
        only_times = all("delivered at" in line or "seen_time_ms:" in line
                         or "active_time_ms:" in line for line in fp)
    r.check = "ok" if r.exit_code == 1 and only_times else \
        "FAIL: expected stream times (PEL delivery, consumers seen / active) only"
    results.append(r)
    r = run_diff("mutated copy (RDB 10 by RdbWriter), --jsonl", args.a, mutated,
                 args.budget, ["--jsonl"])
    got = counts(r.summary)
    want_changed = m.changed
    ok = got is not None and got[1:] == (want_changed, m.dropped, m.added) and r.exit_code == 1
    r.check = "ok" if ok else (f"FAIL: expected {want_changed} changed, {m.dropped} only in "
                               f"A, {m.added} only in B")
    results.append(r)
    load_after = os.getloadavg()
    os.unlink(DATA / ".diff-bench.out")
    if not args.keep:
        os.unlink(mutated)
    over = [x for x in results if x.peak_rss_mb > x.budget_mb]
    failed = [x for x in results if x.check != "ok"]
    if args.json:
        print(json.dumps({"results": [asdict(x) for x in results],
                          "mutations": asdict(m), "mutated_file_seconds": round(made, 1),
                          "load_before": load_before, "load_after": load_after}, indent=2))
    else:
        print(f"A = {args.a} ({args.a.stat().st_size / MB:.1f} MB), "
              f"B = {args.b} ({args.b.stat().st_size / MB:.1f} MB), "
              f"mutated = {mutated} ({mutated.stat().st_size / MB:.1f} MB, made in "
              f"{made:.0f} s: {m.dropped} dropped, {m.changed} changed, {m.added} added)")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
        print()
        print("| case | seconds | MB/s | peak RSS MB | budget MB | exit | output lines | check |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for x in results:
            print(f"| {x.case} | {x.seconds:.2f} | {x.mb_per_s:.1f} | {x.peak_rss_mb:.1f} | "
                  f"{x.budget_mb} | {x.exit_code} | {x.lines} | {x.check} |")
        print()
        for x in results:
            print(f"{x.case}: {x.summary}")
    for x in over:
        print(f"FAIL: {x.case}: peak RSS {x.peak_rss_mb} MB > budget {x.budget_mb} MB",
              file=sys.stderr)
    for x in failed:
        print(f"FAIL: {x.case}: {x.check}", file=sys.stderr)
    return 1 if over or failed else 0


if __name__ == "__main__":
    sys.exit(main())
