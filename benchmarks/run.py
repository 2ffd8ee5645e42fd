#!/usr/bin/env python3
"""Time RDB readers side by side on one file: seconds, MB/s, keys/s and peak RSS.

Each command runs as a child process (stdin from /dev/null, the page cache warmed by
reading the file once first); its wall time is measured around the child and its peak
RSS is the "%M" (maximum resident set size) that GNU ``/usr/bin/time`` reports for it.
(A child forked straight from this Python process would inherit this process's RSS
into its own ``ru_maxrss``; ``time`` is small, so its child's figure is the command's.)
With ``--repeat N`` the best (lowest) time and the highest peak RSS of the N runs are
reported. MB are 10**6 bytes.

Commands:
  redis-check-rdb FILE                          the C reference (if on PATH)
  rdbtool check FILE                            this project
  rdbtool dump FILE --jsonl -o /dev/null        this project
  old rdbtools 0.1.15, no-op callback           old_rdbtools_noop.py in its own venv
  rdb --command json FILE > /dev/null           old rdbtools 0.1.15 CLI
The old rdbtools reads RDB <= 9 only; on newer files its rows say "skipped (RDB N)".
Its virtualenv (benchmarks/.venv-oldrdbtools) is created on first use.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OLD_VENV = BENCH_DIR / ".venv-oldrdbtools"
OLD_NOOP = BENCH_DIR / "old_rdbtools_noop.py"
OLD_PACKAGES = ("rdbtools==0.1.15", "python-lzf")
OLD_MAX_VERSION = 9
REFERENCE = "redis-check-rdb"
GNU_TIME = "/usr/bin/time"  # Debian package "time"
MB = 1_000_000
# Key count lines: "[info] N keys read" (redis-check-rdb), "  keys  N (...)" (rdbtool check).
KEY_PATTERNS = (
    re.compile(r"(\d+) keys read"),
    re.compile(r"^\s*keys\s+(\d+)", re.MULTILINE),
)


@dataclass
class Command:
    tool: str
    argv: list[str]
    output_to_null: bool = False  # stdout to /dev/null instead of being captured


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Result:
    tool: str
    command: str
    status: str  # "ok", or the reason it did not run or failed
    seconds: float | None = None
    peak_rss_mb: float | None = None
    mb_per_s: float | None = None
    keys_per_s: float | None = None
    vs_reference: float | None = None  # seconds / redis-check-rdb seconds


@dataclass
class Report:
    file: str
    size_mb: float
    rdb_version: int
    keys: int | None
    keys_from: str  # which command's output gave the key count, or "--keys"
    notes: list[str]  # disagreements between the key counts the tools printed
    repeat: int
    date: str
    machine: str
    results: list[Result]


def rdb_version(path: Path) -> int:
    """The version from the 9-byte header (``REDIS0009``, ``VALKEY080``)."""
    with path.open("rb") as f:
        head = f.read(9)
    if head[:5] == b"REDIS" and head[5:].isdigit():
        return int(head[5:])
    if head[:6] == b"VALKEY" and head[6:].isdigit():
        return int(head[6:])
    raise SystemExit(f"{path}: not an RDB file (header {head!r})")


def warm_cache(path: Path) -> None:
    with path.open("rb") as f:
        while f.read(16 * 2**20):
            pass


def run_once(command: Command) -> Run:
    """Run one child under GNU time; wall time measured around it."""
    with (
        tempfile.NamedTemporaryFile("r") as rss,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        start = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", rss.name, *command.argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if command.output_to_null else out,
            stderr=err,
        )
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            peak_rss_mb=int(rss.read().split()[-1]) * 1024 / MB,  # %M is in KiB
            exit_code=done.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def run_best(command: Command, repeat: int) -> tuple[Result, Run]:
    """Best time and highest peak RSS of ``repeat`` runs; stops at the first failure."""
    shown = " ".join(command.argv) + (" > /dev/null" if command.output_to_null else "")
    best: Run | None = None
    peak = 0.0
    for _ in range(repeat):
        run = run_once(command)
        if run.exit_code != 0:
            lines = (run.stderr or run.stdout).strip().splitlines()
            last = lines[-1] if lines else ""
            return Result(command.tool, shown, f"failed (exit {run.exit_code}): {last}"), run
        peak = max(peak, run.peak_rss_mb)
        if best is None or run.seconds < best.seconds:
            best = run
    assert best is not None
    return Result(command.tool, shown, "ok", best.seconds, peak), best


def find_tool(name: str) -> str | None:
    """A console script (``rdbtool``, ``aoftool``) beside this interpreter first (skips
    pyenv's shim), then on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def find_rdbtool() -> str | None:
    """``rdbtool``, as ``find_tool`` finds it."""
    return find_tool("rdbtool")


def ensure_old_venv() -> str | None:
    """Create the old rdbtools' virtualenv if needed; return an error line or None."""
    if (OLD_VENV / "bin" / "rdb").is_file():
        return None
    print(f"creating {OLD_VENV} ({' '.join(OLD_PACKAGES)})", file=sys.stderr)
    steps = (
        [sys.executable, "-m", "venv", str(OLD_VENV)],
        [str(OLD_VENV / "bin" / "python"), "-m", "pip", "install", "-q", *OLD_PACKAGES],
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return f"venv setup failed: {lines[-1] if lines else done.returncode}"
    return None


def keys_in(text: str) -> int | None:
    for pattern in KEY_PATTERNS:
        match = pattern.search(text)
        if match:
            return int(match.group(1))
    return None


# Rows that take most of a run's time; ``--skip-slow`` leaves them out.
SLOW_TOOLS = frozenset({"rdbtool dump --jsonl", "old rdbtools 0.1.15 rdb --command json"})


def benchmark(path: Path, repeat: int, keys: int | None, skip_slow: bool = False) -> Report:
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} not found: apt-get install time")
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    size = path.stat().st_size
    version = rdb_version(path)
    file = str(path)
    warm_cache(path)
    results: list[Result] = []
    keys_source = "--keys" if keys is not None else ""
    notes: list[str] = []

    def measure(command: Command) -> None:
        nonlocal keys, keys_source
        if skip_slow and command.tool in SLOW_TOOLS:
            results.append(Result(command.tool, " ".join(command.argv), "skipped (--skip-slow)"))
            return
        result, run = run_best(command, repeat)
        results.append(result)
        found = keys_in(run.stdout + run.stderr) if result.status == "ok" else None
        if found is None:
            return
        if keys is None:
            keys, keys_source = found, command.tool
        elif found != keys:
            notes.append(f"key counts differ: {command.tool} {found}, {keys_source} {keys}")

    def unavailable(tool: str, command: str, status: str) -> None:
        results.append(Result(tool, command, status))

    checker = shutil.which(REFERENCE)
    if checker:
        measure(Command(REFERENCE, [checker, file]))
    else:
        unavailable(REFERENCE, f"{REFERENCE} {file}", "not on PATH")

    rdbtool = find_rdbtool()
    ours = (
        ("rdbtool check", ["check", file]),
        ("rdbtool dump --jsonl", ["dump", file, "--jsonl", "-o", "/dev/null"]),
    )
    for tool, args in ours:
        if rdbtool:
            measure(Command(tool, [rdbtool, *args]))
        else:
            unavailable(tool, "rdbtool " + " ".join(args), "not installed (pip install -e .)")

    old = (
        ("old rdbtools 0.1.15 (no-op parse)", ["bin/python", str(OLD_NOOP), file], False),
        ("old rdbtools 0.1.15 rdb --command json", ["bin/rdb", "--command", "json", file], True),
    )
    setup_error = None if version > OLD_MAX_VERSION else ensure_old_venv()
    for tool, (exe, *args), to_null in old:
        argv = [str(OLD_VENV / exe), *args]
        if version > OLD_MAX_VERSION:
            unavailable(tool, " ".join(argv), f"skipped (RDB {version})")
        elif setup_error:
            unavailable(tool, " ".join(argv), setup_error)
        else:
            measure(Command(tool, argv, to_null))

    reference = next((r.seconds for r in results if r.tool == REFERENCE and r.seconds), None)
    for r in results:
        if r.seconds:
            r.mb_per_s = size / MB / r.seconds
            r.keys_per_s = keys / r.seconds if keys is not None else None
            r.vs_reference = r.seconds / reference if reference else None
    return Report(
        file=file,
        size_mb=size / MB,
        rdb_version=version,
        keys=keys,
        keys_from=keys_source,
        notes=notes,
        repeat=repeat,
        date=date,
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        results=results,
    )


def number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def print_table(report: Report) -> None:
    keys = "unknown" if report.keys is None else str(report.keys)
    source = f" (from {report.keys_from})" if report.keys_from else ""
    print(
        f"{report.file}: {report.size_mb:.1f} MB, RDB {report.rdb_version}, {keys} keys{source}; "
        f"best of {report.repeat}; {report.date}; {report.machine}"
    )
    header = ("tool", "seconds", "MB/s", "keys/s", "peak RSS MB", f"x {REFERENCE}")
    rows = [
        (
            r.tool,
            number(r.seconds, ".2f"),
            number(r.mb_per_s, ".1f"),
            number(r.keys_per_s, ",.0f" if (r.keys_per_s or 0) >= 100 else ".3g"),
            number(r.peak_rss_mb, ".1f"),
            number(r.vs_reference, ".2f"),
        )
        for r in report.results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))
    for r in report.results:
        if r.status != "ok":
            print(f"{r.tool}: {r.status}  [{r.command}]")
    for note in report.notes:
        print(note)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Generate a file first: benchmarks/gen_rdb.py (see benchmarks/README.md).",
    )
    parser.add_argument("file", type=Path, help="RDB file to read")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (best kept)")
    parser.add_argument("--keys", type=int, help="key count (default: from redis-check-rdb)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--skip-slow",
        action="store_true",
        help="leave out rdbtool dump --jsonl and the old rdb --command json (for quick iteration)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    report = benchmark(args.file, args.repeat, args.keys, args.skip_slow)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
