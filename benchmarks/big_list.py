#!/usr/bin/env python3
"""Check that ``rdbtool dump --jsonl`` reads a ~1 GB single-list RDB in bounded memory.

Generates ``data/biglist-<seed>-<mb>mb.rdb`` with ``gen_rdb.py --big-list-mb`` (Redis
7.0.15, RDB 10) when it is missing, runs the same side-by-side benchmark as ``run.py``
on it (the old rdbtools rows are skipped: RDB 10), prints the table and then whether
the peak RSS of ``rdbtool dump FILE --jsonl -o /dev/null`` stayed under ``--limit-mb``.
Exit status: 0 under the limit, 1 over it or when the dump failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from run import BENCH_DIR, benchmark, print_table

DUMP_TOOL = "rdbtool dump --jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=1024, help="list size to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--file", type=Path, help="use this RDB instead of generating one")
    parser.add_argument("--limit-mb", type=float, default=200, help="peak RSS limit (10**6 B)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (best kept)")
    args = parser.parse_args()

    path: Path = args.file or BENCH_DIR / "data" / f"biglist-{args.seed}-{args.mb}mb.rdb"
    if not path.exists():
        generate = [sys.executable, str(BENCH_DIR / "gen_rdb.py"), "--seed", str(args.seed)]
        subprocess.run([*generate, "--big-list-mb", str(args.mb), "--out", str(path)], check=True)

    report = benchmark(path, args.repeat, keys=None)
    print_table(report)

    dump = next(r for r in report.results if r.tool == DUMP_TOOL)
    if dump.peak_rss_mb is None:
        print(f"FAIL: {DUMP_TOOL} did not run: {dump.status}")
        sys.exit(1)
    verdict = "PASS" if dump.peak_rss_mb < args.limit_mb else "FAIL"
    print(
        f"{verdict}: {DUMP_TOOL} peak RSS {dump.peak_rss_mb:.1f} MB "
        f"{'<' if verdict == 'PASS' else '>='} {args.limit_mb:g} MB "
        f"on {report.size_mb:.0f} MB ({path.name})"
    )
    sys.exit(0 if verdict == "PASS" else 1)


if __name__ == "__main__":
    main()
