#!/usr/bin/env python3
"""Time RDB readers side by side: seconds as a multiple of redis-check-rdb's, peak RSS.

Each command runs as a child process (stdin from /dev/null, the page cache warmed by
reading the file once first); its wall time is measured around the child and its peak
RSS is the "%M" (maximum resident set size) that GNU ``/usr/bin/time`` reports for it.
(A child forked straight from this Python process would inherit this process's RSS
into its own ``ru_maxrss``; ``time`` is small, so its child's figure is the command's.)
MB are 10**6 bytes.

With ``--repeat N`` the commands run in N rounds, each round running every command once
in the same order, so that a slower stretch of a shared machine falls on all of them
alike. Each command's row gives the best (lowest), median and highest time of its N
runs and its highest peak RSS; "x ref" is its time divided by redis-check-rdb's: of the
best times, and the median of the N per-round ratios. The CPU time (user + system, from
``time``) is given too, with the median of its per-round ratios: on a machine shared
with other work it moves less than the wall time, which includes waiting for a CPU.

Commands (``--commands`` picks among check, dump, memory, info, old, old-json):
  redis-check-rdb FILE                          the C reference (if on PATH)
  rdbtool check FILE                            this project
  rdbtool dump FILE --jsonl -o /dev/null        this project
  rdbtool memory FILE --csv > /dev/null         this project
  rdbtool info FILE                             this project
  old rdbtools 0.1.15, no-op callback           old_rdbtools_noop.py in its own venv (old)
  rdb --command json FILE > /dev/null           old rdbtools 0.1.15 CLI (old-json)
``--compare-tree PATH`` (repeatable) adds the four rdbtool rows of another checkout,
run by its own ``PATH/.venv/bin/rdbtool``, to the same rounds: before and after figures
of a change, side by side. The old rdbtools reads RDB <= 9 only; on newer files its
rows say "skipped (RDB N)". Its virtualenv (benchmarks/.venv-oldrdbtools) is created on
first use.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
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
    cpu_seconds: float = 0.0  # user + system time of the child


@dataclass
class Result:
    tool: str
    command: str
    status: str  # "ok", or the reason it did not run or failed
    seconds: float | None = None  # the best of the runs
    peak_rss_mb: float | None = None
    mb_per_s: float | None = None
    keys_per_s: float | None = None
    vs_reference: float | None = None  # best seconds / redis-check-rdb's best seconds
    median_seconds: float | None = None
    max_seconds: float | None = None
    vs_reference_median: float | None = None  # median of the per-round ratios
    runs: list[float] = field(default_factory=list)  # seconds of each round, in order
    cpu_median_seconds: float | None = None  # user + system, median of the rounds
    vs_reference_cpu: float | None = None  # median of the per-round CPU-time ratios
    cpu_runs: list[float] = field(default_factory=list)


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
    trees: dict[str, str] = field(default_factory=dict)  # row label -> rdbtool, git rev
    load: tuple[str, str] = ("", "")  # /proc/loadavg before and after


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
            [GNU_TIME, "-f", "%M %U %S", "-o", rss.name, *command.argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if command.output_to_null else out,
            stderr=err,
        )
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        # time's last line; lines before it say how the child ended, if not normally
        peak_kib, user, system = rss.read().splitlines()[-1].split()
        return Run(
            seconds=seconds,
            cpu_seconds=float(user) + float(system),
            peak_rss_mb=int(peak_kib) * 1024 / MB,  # %M is in KiB
            exit_code=done.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def failure(run: Run) -> str:
    """A failed run's status: its exit code and last line of output."""
    lines = (run.stderr or run.stdout).strip().splitlines()
    return f"failed (exit {run.exit_code}): {lines[-1] if lines else ''}"


def run_best(command: Command, repeat: int) -> tuple[Result, Run]:
    """Best time and highest peak RSS of ``repeat`` runs; stops at the first failure."""
    shown = " ".join(command.argv) + (" > /dev/null" if command.output_to_null else "")
    best: Run | None = None
    peak = 0.0
    for _ in range(repeat):
        run = run_once(command)
        if run.exit_code != 0:
            return Result(command.tool, shown, failure(run)), run
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
# The rdbtool rows: (--commands name, row name, arguments after the executable, whether
# stdout goes to /dev/null).
RDBTOOL_ROWS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("check", "rdbtool check", ("check", "{file}"), False),
    ("dump", "rdbtool dump --jsonl", ("dump", "{file}", "--jsonl", "-o", "/dev/null"), False),
    ("memory", "rdbtool memory --csv", ("memory", "{file}", "--csv"), True),
    ("info", "rdbtool info", ("info", "{file}"), False),
)
COMMANDS = ("check", "dump", "memory", "info", "old", "old-json")
# Rows whose output gives the key count (the reference's, else rdbtool check's).
COUNTING_TOOLS = (REFERENCE, "rdbtool check")


@dataclass
class Variant:
    """One rdbtool to time: its executable and the suffix of its rows' names."""

    rdbtool: str
    label: str  # "" for a single rdbtool: rows keep their plain names


def git_rev(tree: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    rev = done.stdout.strip() or "?"
    # Changes under benchmarks/ do not change what rdbtool runs.
    status = ["status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks"]
    dirty = subprocess.run(
        ["git", "-C", str(tree), *status],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return rev + ("+changes" if dirty else "")


def variants_for(compare_trees: list[Path]) -> tuple[list[Variant], dict[str, str]]:
    """This checkout's rdbtool, then each ``--compare-tree``'s ``.venv/bin/rdbtool``;
    row labels are "@<git rev>" when there is more than one."""
    here = find_rdbtool()
    found: list[tuple[str, Path]] = []
    if here:
        found.append((here, BENCH_DIR.parent))
    for tree in compare_trees:
        binary = tree / ".venv" / "bin" / "rdbtool"
        if not binary.is_file():
            raise SystemExit(f"{binary} not found: make {tree}/.venv and pip install -e {tree}")
        found.append((str(binary), tree))
    if len(found) < 2:
        only = {"": f"{found[0][0]} ({git_rev(found[0][1])})"} if found else {}
        return [Variant(exe, "") for exe, _ in found], only
    variants: list[Variant] = []
    trees: dict[str, str] = {}
    for exe, tree in found:
        label = f"@{git_rev(tree)}"
        while any(v.label == label for v in variants):
            label += "'"
        variants.append(Variant(exe, label))
        trees[label] = f"{exe} ({tree})"
    return variants, trees


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def benchmark(
    path: Path,
    repeat: int,
    keys: int | None,
    skip_slow: bool = False,
    compare_trees: list[Path] | None = None,
    commands: tuple[str, ...] = COMMANDS,
    quiet: bool = True,
) -> Report:
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} not found: apt-get install time")
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    size = path.stat().st_size
    version = rdb_version(path)
    file = str(path)
    warm_cache(path)
    load_before = loadavg()
    results: list[Result] = []
    planned: list[tuple[Result, Command]] = []
    keys_source = "--keys" if keys is not None else ""
    notes: list[str] = []

    def unavailable(tool: str, command: str, status: str) -> None:
        results.append(Result(tool, command, status))

    def plan(command: Command) -> None:
        shown = " ".join(command.argv) + (" > /dev/null" if command.output_to_null else "")
        if skip_slow and command.tool in SLOW_TOOLS:
            unavailable(command.tool, shown, "skipped (--skip-slow)")
            return
        result = Result(command.tool, shown, "ok")
        results.append(result)
        planned.append((result, command))

    checker = shutil.which(REFERENCE)
    if checker:
        plan(Command(REFERENCE, [checker, file]))
    else:
        unavailable(REFERENCE, f"{REFERENCE} {file}", "not on PATH")

    variants, trees = variants_for(compare_trees or [])
    for name, tool, args, to_null in RDBTOOL_ROWS:
        if name not in commands:
            continue
        argv = [arg.format(file=file) for arg in args]
        if not variants:
            unavailable(tool, "rdbtool " + " ".join(argv), "not installed (pip install -e .)")
        for variant in variants:
            row = f"{tool} {variant.label}".rstrip()
            plan(Command(row, [variant.rdbtool, *argv], to_null))

    old = (
        ("old", "old rdbtools 0.1.15 (no-op parse)", ["bin/python", str(OLD_NOOP), file], False),
        ("old-json", "old rdbtools 0.1.15 rdb --command json",
         ["bin/rdb", "--command", "json", file], True),
    )  # fmt: skip
    wanted = [row for row in old if row[0] in commands]
    if wanted:
        setup_error = None if version > OLD_MAX_VERSION else ensure_old_venv()
        for _, tool, (exe, *rest), to_null in wanted:
            argv = [str(OLD_VENV / exe), *rest]
            if version > OLD_MAX_VERSION:
                unavailable(tool, " ".join(argv), f"skipped (RDB {version})")
            elif setup_error:
                unavailable(tool, " ".join(argv), setup_error)
            else:
                plan(Command(tool, argv, to_null))

    failed: set[str] = set()
    for round_number in range(1, repeat + 1):
        for result, command in planned:
            if command.tool in failed:
                continue
            run = run_once(command)
            if not quiet:
                print(
                    f"{path.name} round {round_number}/{repeat}: {command.tool} "
                    f"{run.seconds:.2f} s (CPU {run.cpu_seconds:.2f} s)",
                    file=sys.stderr,
                )
            if run.exit_code != 0:
                result.status = failure(run)
                result.runs, result.cpu_runs = [], []
                failed.add(command.tool)
                continue
            result.runs.append(run.seconds)
            result.cpu_runs.append(run.cpu_seconds)
            result.peak_rss_mb = max(result.peak_rss_mb or 0.0, run.peak_rss_mb)
            if not command.tool.startswith(COUNTING_TOOLS):
                continue
            found = keys_in(run.stdout + run.stderr)
            if found is None:
                continue
            if keys is None:
                keys, keys_source = found, command.tool
            elif found != keys and not any(command.tool in n for n in notes):
                notes.append(f"key counts differ: {command.tool} {found}, {keys_source} {keys}")

    reference = next((r for r in results if r.tool == REFERENCE and r.runs), None)
    for r in results:
        if not r.runs:
            r.peak_rss_mb = None
            continue
        r.seconds, r.max_seconds = min(r.runs), max(r.runs)
        r.median_seconds = statistics.median(r.runs)
        r.cpu_median_seconds = statistics.median(r.cpu_runs)
        r.mb_per_s = size / MB / r.seconds
        r.keys_per_s = keys / r.seconds if keys is not None else None
        if reference and reference.seconds and len(reference.runs) == len(r.runs):
            r.vs_reference = r.seconds / reference.seconds
            r.vs_reference_median = statistics.median(
                mine / ref for mine, ref in zip(r.runs, reference.runs, strict=True)
            )
            cpu = [m / ref for m, ref in zip(r.cpu_runs, reference.cpu_runs, strict=True) if ref]
            r.vs_reference_cpu = statistics.median(cpu) if cpu else None
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
        trees=trees,
        load=(load_before, loadavg()),
    )


def number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def print_table(report: Report) -> None:
    keys = "unknown" if report.keys is None else str(report.keys)
    source = f" (from {report.keys_from})" if report.keys_from else ""
    print(
        f"{report.file}: {report.size_mb:.1f} MB, RDB {report.rdb_version}, {keys} keys{source}; "
        f"{report.repeat} round(s); {report.date}; {report.machine}; "
        f"load {report.load[0]} before, {report.load[1]} after"
    )
    for label, where in report.trees.items():
        print(f"  {label or 'rdbtool'}: {where}")
    header = (
        "tool", "best s", "median s", "max s", "MB/s", "peak RSS MB",
        "x ref best", "x ref median", "CPU s median", "x ref CPU",
    )  # fmt: skip
    rows = [
        (
            r.tool,
            number(r.seconds, ".2f"),
            number(r.median_seconds, ".2f"),
            number(r.max_seconds, ".2f"),
            number(r.mb_per_s, ".1f"),
            number(r.peak_rss_mb, ".1f"),
            number(r.vs_reference, ".2f"),
            number(r.vs_reference_median, ".2f"),
            number(r.cpu_median_seconds, ".2f"),
            number(r.vs_reference_cpu, ".2f"),
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
    print_tree_ratios(report)


@dataclass
class TreeRatio:
    """One rdbtool row of the first tree (this checkout) against the same row of a
    compared tree: the per-round ratios of their times (the two ran one after the other
    in each round). Above 1: this checkout is slower."""

    tool: str  # the row's name without the tree label
    trees: str  # "@first / @other"
    wall: list[float]
    cpu: list[float]


def tree_ratios(report: Report) -> list[TreeRatio]:
    labels = [label for label in report.trees if label]
    if len(labels) < 2:
        return []
    rows = {r.tool: r for r in report.results if r.runs}
    ratios: list[TreeRatio] = []
    for _, tool, _, _ in RDBTOOL_ROWS:
        first = rows.get(f"{tool} {labels[0]}")
        for label in labels[1:]:
            other = rows.get(f"{tool} {label}")
            if first is None or other is None or len(first.runs) != len(other.runs):
                continue
            pairs = zip(first.cpu_runs, other.cpu_runs, strict=True)
            ratios.append(
                TreeRatio(
                    tool,
                    f"{labels[0]} / {label}",
                    [f / o for f, o in zip(first.runs, other.runs, strict=True)],
                    [f / o for f, o in pairs if o],
                )
            )
    return ratios


def spread(values: list[float]) -> str:
    """``median (min-max)``, or ``-``."""
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def print_tree_ratios(report: Report) -> None:
    ratios = tree_ratios(report)
    if not ratios:
        return
    print("this checkout's time over the compared tree's, per round: median (min-max)")
    width = max(len(f"{r.tool} {r.trees}") for r in ratios)
    for r in ratios:
        name = f"{r.tool} {r.trees}"
        print(f"  {name.ljust(width)}  wall {spread(r.wall)}  CPU {spread(r.cpu)}")


def print_markdown(report: Report) -> None:
    """The table as Markdown, for benchmarks/README.md."""
    print(
        "| tool | best s | median s | max s | × ref (best) | × ref (median) | CPU s (median) "
        "| × ref (CPU) | peak RSS MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in report.results:
        if r.status != "ok":
            print(f"| {r.tool} | {r.status} | | | | | | | |")
            continue
        print(
            f"| {r.tool} | {number(r.seconds, '.2f')} | {number(r.median_seconds, '.2f')} | "
            f"{number(r.max_seconds, '.2f')} | {number(r.vs_reference, '.2f')} | "
            f"{number(r.vs_reference_median, '.2f')} | {number(r.cpu_median_seconds, '.2f')} | "
            f"{number(r.vs_reference_cpu, '.2f')} | {number(r.peak_rss_mb, '.1f')} |"
        )
    ratios = tree_ratios(report)
    if ratios:
        print()
        print("| row | trees | wall, median (min–max) | CPU, median (min–max) |")
        print("| --- | --- | ---: | ---: |")
        for t in ratios:
            print(f"| {t.tool} | {t.trees} | {spread(t.wall)} | {spread(t.cpu)} |")


def load_reports(path: Path) -> list[Report]:
    """Reports saved by ``--save`` (or printed by ``--json``)."""
    reports = []
    for data in json.loads(path.read_text()):
        data["results"] = [Result(**r) for r in data["results"]]
        data["load"] = tuple(data["load"])
        reports.append(Report(**data))
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Generate a file first: benchmarks/gen_rdb.py (see benchmarks/README.md).",
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="RDB file(s) to read")
    parser.add_argument(
        "--show", type=Path, metavar="SAVED", help="print the tables of a --save file, run nothing"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds: runs per command (best, median, max kept)"
    )
    parser.add_argument("--keys", type=int, help="key count (default: from redis-check-rdb)")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no line on stderr after each run"
    )
    parser.add_argument(
        "--save", type=Path, metavar="OUT", help="also write the reports as JSON to OUT"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print each table as Markdown as well"
    )
    parser.add_argument(
        "--skip-slow",
        action="store_true",
        help="leave out rdbtool dump --jsonl and the old rdb --command json (for quick iteration)",
    )
    parser.add_argument(
        "--compare-tree",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="also time the rdbtool of this checkout (PATH/.venv/bin/rdbtool), in the same "
        "rounds; repeatable",
    )
    parser.add_argument(
        "--commands",
        default=",".join(COMMANDS),
        help="which rows to run besides redis-check-rdb, comma-separated from "
        f"{', '.join(COMMANDS)} [all]",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.show:
        for report in load_reports(args.show):
            print_table(report)
            if args.markdown:
                print_markdown(report)
            print()
        return
    if not args.files:
        parser.error("name at least one FILE (or --show SAVED)")
    commands = tuple(c.strip() for c in args.commands.split(",") if c.strip())
    unknown = sorted(set(commands) - set(COMMANDS))
    if unknown:
        parser.error(f"unknown command(s) {', '.join(unknown)}; choose from {', '.join(COMMANDS)}")
    reports = []
    for path in args.files:
        report = benchmark(
            path, args.repeat, args.keys, args.skip_slow, args.compare_tree, commands, args.quiet
        )
        reports.append(report)
        if not args.json:
            print_table(report)
            if args.markdown:
                print_markdown(report)
            print()
    if args.save:
        args.save.write_text(json.dumps([asdict(r) for r in reports], indent=2) + "\n")
    if args.json:
        print(json.dumps([asdict(r) for r in reports], indent=2))


if __name__ == "__main__":
    main()
