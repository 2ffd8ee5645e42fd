"""``rdbtool diff A B``: what changed between two snapshots (RDB files or AOFs).

Exit codes follow ``diff(1)``, not the rest of ``rdbtool``: 0 no difference, 1 the
snapshots differ, 2 any error (bad input, unreadable file, bad option), always with the
one-line message the other commands print. Ctrl-C exits 130 and a closed output pipe
141, as for every command.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Generator, Iterator
from importlib import resources
from typing import ParamSpec, TextIO, TypeVar

import click

from rdbtools.cli._common import PROG, fail, filter_options, guarded, os_message
from rdbtools.diff import Item, sorted_items
from rdbtools.errors import RdbToolsError
from rdbtools.ops.diff import Change, DiffSummary, diff_files
from rdbtools.ops.filters import KeyFilter
from rdbtools.reports.diff import (
    json_line,
    prefix_json_line,
    prefix_text,
    summary_line,
    text_line,
)

EXIT_DIFFERENT = 1
EXIT_TROUBLE = 2
BASELINE_MB = 64
"""Megabytes of the budget kept for the interpreter, the readers' buffers and the keys
being compared; the rest holds the join's keys (at least half of the budget)."""

P = ParamSpec("P")
R = TypeVar("R")


def _trouble_is_2(fn: Callable[P, R]) -> Callable[P, R]:
    """Every error -> its usual one-line message, and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except RdbToolsError as err:
            fail(PROG, str(err), EXIT_TROUBLE)
        except BrokenPipeError:
            raise
        except OSError as err:
            fail(PROG, os_message(err), EXIT_TROUBLE)

    return wrapper


def budget_bytes(megabytes: int) -> int:
    """The bytes the join may hold for a ``--memory-budget`` of ``megabytes``."""
    mib = 1 << 20
    return max(megabytes * mib // 2, (megabytes - BASELINE_MB) * mib)


@click.command(
    "diff",
    short_help="What changed between two snapshots (RDB or AOF); exit 1 if any.",
)
@click.argument("a", metavar="A", required=False)
@click.argument("b", metavar="B", required=False)
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help="One JSON object per change (its schema: rdbtool diff --schema).")
@click.option("--schema", is_flag=True,
              help="Print the schema of the --jsonl objects and exit.")
@click.option("--exclude", "exclude", multiple=True, metavar="GLOB",
              help="Leave out the keys matching this Redis-style glob, on both sides "
              "(repeatable).")
@click.option("--summary", is_flag=True,
              help="Instead of the changes: the differing keys counted by key prefix and "
              "type (changed, added, removed); with --jsonl one object per row.")
@click.option("--summary-depth", default=2, show_default=True, type=click.IntRange(min=1),
              metavar="D", help="The ':'-separated parts of a key that make its prefix "
              "in --summary.")
@click.option("--sort", "sort_keys", is_flag=True,
              help="Write the changes in key order (database, then key bytes; function "
              "libraries last), within --memory-budget (temporary files beyond it).")
@click.option("--keys-only", is_flag=True,
              help="Only which keys differ: one line per key, no values.")
@click.option("--ignore-ttl", is_flag=True,
              help="Do not compare expiries (of keys and of hash fields).")
@click.option("--ignore-stream-times", is_flag=True,
              help="Do not compare PEL delivery times and consumers' seen / active times "
              "(a server sets them from its clock when it replays an AOF).")
@click.option("--memory-budget", default=256, show_default=True,
              type=click.IntRange(min=1), metavar="MB",
              help="The memory the diff aims to stay within: keys of A are held up to it "
              "(64 MB are left for the rest), then go to temporary files.")
@click.option("--tmpdir", metavar="DIR", default=None,
              type=click.Path(exists=True, file_okay=False, writable=True),
              help="Where the temporary files go [default: $TMPDIR or /tmp].")
@click.option("--no-verify", is_flag=True, help="Do not verify the CRC64 checksums (faster).")
@filter_options
@guarded(PROG)
@_trouble_is_2
def diff_command(
    a: str | None,
    b: str | None,
    as_jsonl: bool,
    schema: bool,
    exclude: tuple[str, ...],
    summary: bool,
    summary_depth: int,
    sort_keys: bool,
    keys_only: bool,
    ignore_ttl: bool,
    ignore_stream_times: bool,
    memory_budget: int,
    tmpdir: str | None,
    no_verify: bool,
    key_filter: KeyFilter,
) -> None:
    """Compare snapshot A with snapshot B, key by key and element by element.

    A and B are RDB files, AOF files or appendonlydirs (a directory with a manifest, a
    *.manifest, a *.aof, a file of RESP commands: replayed, as for dump); one of them may
    be - for standard input. Values are compared as the server sees them, whatever
    their encoding or RDB version. Each difference is one line: - only in A, + only in
    B, ~ changed (type, TTL, value, hash field, set or sorted-set member, list elements,
    stream entry, metadata, consumer group, PEL entry, consumer, function library). A
    summary line goes to stderr.

    Exit status as diff(1): 0 no difference, 1 differences, 2 trouble (with a one-line
    message).

    Memory: keys of A up to --memory-budget, then temporary partition files (removed at
    the end, on error and on Ctrl-C); plus one whole key of each side while they are
    compared: a single key is never split. An AOF is replayed in memory.
    """
    if schema:
        click.echo(_schema(), nl=False)
        return
    if a is None or b is None:
        raise click.UsageError("give two snapshots, A and B")
    if a == "-" and b == "-":
        raise click.UsageError("only one of A and B can be standard input")
    if summary and sort_keys:
        raise click.UsageError("--summary rows are always sorted; --sort is for changes")
    budget = budget_bytes(memory_budget)
    gen = diff_files(a, b, verify=not no_verify, key_filter=key_filter,
                     ignore_ttl=ignore_ttl, ignore_stream_times=ignore_stream_times,
                     keys_only=keys_only or summary,
                     memory_budget=budget // 2 if sort_keys else budget, tmpdir=tmpdir,
                     exclude=[os.fsencode(g) for g in exclude],
                     summary_depth=summary_depth if summary else None)
    out = sys.stdout
    with contextlib.closing(gen):
        if summary:
            result = _drain(gen)
            if as_jsonl:
                out.writelines(prefix_json_line(row) + "\n" for row in result.prefixes)
            else:
                out.write(prefix_text(result.prefixes))
        else:
            def line(change: Change) -> str:
                return json_line(change) if as_jsonl else text_line(change, keys_only)

            result = _write_changes(gen, line, out, budget // 2 if sort_keys else None,
                                    tmpdir)
    out.flush()
    click.echo(summary_line(result), err=True)
    if result.differ:
        sys.exit(EXIT_DIFFERENT)


def _schema() -> str:
    return (resources.files("rdbtools.diff") / "jsonl-schema.md").read_text("utf-8")


def _drain(gen: Generator[Change, None, DiffSummary]) -> DiffSummary:
    """Run the diff to its end, dropping the changes; its summary."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            result: DiffSummary = stop.value
            return result


def _write_changes(gen: Generator[Change, None, DiffSummary], line: Callable[[Change], str],
                   out: TextIO, sort_budget: int | None, tmpdir: str | None) -> DiffSummary:
    """Write each change as ``line`` renders it, in the diff's order, or (``sort_budget``)
    sorted by key within that many bytes; the diff's summary."""
    summary: list[DiffSummary] = []

    def changes() -> Iterator[Change]:
        while True:
            try:
                yield next(gen)
            except StopIteration as stop:
                summary.append(stop.value)
                return

    if sort_budget is None:
        for change in changes():
            out.write(line(change))
            out.write("\n")
    else:
        for _, text in sorted_items(_by_key(changes(), line), sort_budget, tmpdir):
            out.write(text)
    return summary[0]


def _by_key(changes: Iterator[Change], line: Callable[[Change], str]) -> Iterator[Item]:
    """One item per key (its changes come together): the sort key and its lines."""
    current: tuple[int | None, bytes] | None = None
    lines: list[str] = []
    for change in changes:
        where = (change.db, change.key)
        if where != current and lines:
            yield _item(current, lines)
            lines = []
        current = where
        lines.append(line(change) + "\n")
    if lines:
        yield _item(current, lines)


def _item(where: tuple[int | None, bytes] | None, lines: list[str]) -> Item:
    assert where is not None
    db, key = where
    return ((1, 0, key) if db is None else (0, db, key), "".join(lines))

