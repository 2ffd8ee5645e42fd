#!/usr/bin/env python3
"""Time ``rdbtool memory`` next to the old rdbtools' ``rdb --command memory``.

Rows (each a child process under GNU ``/usr/bin/time`` for its peak RSS, wall time
measured around it, the page cache warmed first; best time and highest RSS of
``--repeat`` runs):

  rdbtool memory FILE --jsonl -o /dev/null      one row per key
  rdbtool memory FILE --csv -o /dev/null        one row per key
  rdbtool memory FILE --json -o OUT             the summary (keys are read from OUT)
  rdbtool memory FILE --html OUT.html           the HTML report
  rdb --command memory FILE > /dev/null         old rdbtools 0.1.15 (RDB <= 9 only)

The old tool runs at about 1.7 MB/s, so it is timed on a smaller file given with
``--small`` (both tools run on it, side by side); ``--big`` adds this project's rows on
a big file. ``--old-timeout S`` stops the old tool after S seconds (the row then says
so; no figure is extrapolated). MB are 10**6 bytes.

    python benchmarks/memory_bench.py --small benchmarks/data/bench-1-20mb.rdb \\
        --big benchmarks/data/bench-1-200mb.rdb
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run import GNU_TIME, MB, find_rdbtool, warm_cache  # noqa: E402

OLD_RDB = BENCH_DIR / ".venv-oldrdbtools" / "bin" / "rdb"


@dataclass
class Row:
    file: str
    tool: str
    command: str
    status: str
    seconds: float | None = None
    peak_rss_mb: float | None = None
    mb_per_s: float | None = None
    keys_per_s: float | None = None


def rdbtool() -> str:
    found = find_rdbtool()
    if found is None:
        raise SystemExit("rdbtool not found: pip install -e .")
    return found


def run_once(argv: list[str], timeout: float | None) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, exit code) of one child under GNU time; exit code -1 when
    it ran past ``timeout``."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [GNU_TIME, "-f", "%M", "-o", rss.name, *argv],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            _, err = proc.communicate(timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return time.perf_counter() - start, 0.0, -1
        seconds = time.perf_counter() - start
        if code != 0:
            sys.stderr.write(err.decode("utf-8", "replace")[-500:])
        text = rss.read().split()
        return seconds, (int(text[-1]) * 1024 / MB if text else 0.0), code


def measure(
    file: Path, tool: str, argv: list[str], keys: int | None, repeat: int,
    timeout: float | None = None,
) -> Row:
    shown = " ".join(argv)
    best: float | None = None
    peak = 0.0
    for _ in range(repeat):
        seconds, rss, code = run_once(argv, timeout)
        if code == -1:
            return Row(str(file), tool, shown, f"stopped after {timeout:.0f} s (--old-timeout)")
        if code != 0:
            return Row(str(file), tool, shown, f"failed (exit {code})")
        peak = max(peak, rss)
        best = seconds if best is None else min(best, seconds)
    assert best is not None
    size = file.stat().st_size / MB
    return Row(str(file), tool, shown, "ok", best, peak, size / best,
               keys / best if keys else None)


def bench_file(path: Path, repeat: int, with_old: bool, old_timeout: float | None) -> list[Row]:
    warm_cache(path)
    tool = rdbtool()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        report = Path(tmp) / "report.html"
        # the summary first: its output gives the key count for keys/s
        first = measure(path, "rdbtool memory --json (summary)",
                        [tool, "memory", str(path), "--json", "-o", str(summary)], None, repeat)
        keys = json.loads(summary.read_text())["keys"] if first.status == "ok" else None
        if first.seconds:
            first.keys_per_s = keys / first.seconds if keys else None
        rows.append(measure(path, "rdbtool memory --jsonl",
                            [tool, "memory", str(path), "--jsonl", "-o", "/dev/null"],
                            keys, repeat))
        rows.append(measure(path, "rdbtool memory --csv",
                            [tool, "memory", str(path), "--csv", "-o", "/dev/null"],
                            keys, repeat))
        rows.append(first)
        rows.append(measure(path, "rdbtool memory --html",
                            [tool, "memory", str(path), "--html", str(report)], keys, repeat))
        if with_old:
            if not OLD_RDB.is_file():
                rows.append(Row(str(path), "old rdbtools 0.1.15 rdb --command memory", "",
                                f"not installed ({OLD_RDB}; see benchmarks/run.py)"))
            else:
                rows.append(measure(path, "old rdbtools 0.1.15 rdb --command memory",
                                    [str(OLD_RDB), "--command", "memory", str(path)],
                                    keys, 1, old_timeout))
    return rows


def table(rows: list[Row]) -> str:
    head = ["file", "tool", "s", "MB/s", "keys/s", "peak RSS MB", "status"]
    lines = [head]
    for r in rows:
        lines.append([
            Path(r.file).name, r.tool,
            f"{r.seconds:.2f}" if r.seconds else "-",
            f"{r.mb_per_s:.1f}" if r.mb_per_s else "-",
            f"{r.keys_per_s:,.0f}" if r.keys_per_s else "-",
            f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb else "-",
            r.status,
        ])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    text = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |"
        for line in lines
    ]
    rule = "| " + " | ".join(
        "-" * (w - 1) + (":" if 2 <= i <= 5 else "-") for i, w in enumerate(widths)
    ) + " |"
    return "\n".join([text[0], rule, *text[1:]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=Path, required=True,
                        help="a file both tools read (RDB <= 9 for the old tool)")
    parser.add_argument("--big", type=Path, help="a big file only this project reads")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--old-timeout", type=float, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} not found: apt-get install time")
    load = os.getloadavg()
    rows = bench_file(args.small, args.repeat, True, args.old_timeout)
    if args.big is not None:
        rows += bench_file(args.big, args.repeat, False, None)
    load_after = os.getloadavg()
    ours = next((r for r in rows if r.tool == "rdbtool memory --jsonl" and r.mb_per_s), None)
    old = next((r for r in rows if r.tool.startswith("old") and r.mb_per_s), None)
    ratio = ours.mb_per_s / old.mb_per_s if ours and old and ours.mb_per_s and old.mb_per_s \
        else None
    if args.json:
        print(json.dumps({"rows": [r.__dict__ for r in rows], "jsonl_vs_old": ratio,
                          "loadavg_before": load, "loadavg_after": load_after}, indent=2))
        return
    print(table(rows))
    if ratio:
        print(f"\nrdbtool memory --jsonl vs old rdb --command memory on {args.small.name}: "
              f"{ratio:.1f}x the MB/s")
    print(f"load average (1, 5, 15 min): before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; "
          f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
