"""``rdbtool memory``: per-key memory estimates, and where the memory goes.

The command reads each FILE (an RDB, or an AOF that is replayed), estimates each key
(``rdbtools.ops.memory.memory_rows``) and either writes the rows (``--jsonl``,
``--csv``) or aggregates them (``memory_summary``) into a text or JSON summary or an
HTML report. Reference: ``docs/memory.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial

import click

from rdbtools.cli._common import (
    PROG,
    QUIET,
    STRICT_REPLAY,
    filter_options,
    guarded,
    output_file,
    read_events,
    refuse_same_file,
    warn,
)
from rdbtools.events import Event
from rdbtools.memory.aggregate import DEFAULT_MAX_PREFIXES
from rdbtools.memory.model import STATES
from rdbtools.memory.rows import MemoryRow
from rdbtools.memory.server import ServerFacts
from rdbtools.ops.filters import KeyFilter
from rdbtools.ops.memory import Head, memory_rows, memory_summary, server_facts
from rdbtools.reports.memory.html import render_html
from rdbtools.reports.memory.rows import write_csv, write_jsonl
from rdbtools.reports.memory.summary_json import summary_json
from rdbtools.reports.memory.text import summary_text
from rdbtools.server_version import parse_version

MODEL_MAJORS = {"redis": range(2, 9), "valkey": range(7, 10)}
"""The major versions ``--model`` takes: Redis 2.x to 8.x, Valkey 7.x to 9.x."""


@click.command("memory", short_help="Estimate each key's memory; summarize, CSV, HTML.")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option(
    "--top", default=10, show_default=True, type=click.IntRange(min=0), metavar="N",
    help="How many of the biggest keys to list (and prefixes per depth in the summary).",
)
@click.option(
    "--prefix", "separator", default=":", show_default=True, metavar="SEP",
    help="The separator that splits keys into segments (prefixes).",
)
@click.option(
    "--depth", default=2, show_default=True, type=click.IntRange(0, 16), metavar="D",
    help="Aggregate by key patterns of 1..D segments, ids folded into {id} (0: none).",
)
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One JSON object per key.")
@click.option("--csv", "as_csv", is_flag=True, help="One CSV row per key, with a header.")
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON document.")
@click.option(
    "--html", "html_out", metavar="OUT.html",
    help="Write a self-contained HTML report (charts, prefix treemap) to OUT.html.",
)
@click.option(
    "--parquet", "parquet_out", metavar="OUT.parquet",
    help="Write one row per key (the --jsonl columns, typed) to the Parquet file "
    "OUT.parquet, for DuckDB, Spark ... (needs pip install 'rdbtools[arrow]').",
)
@click.option(
    "-o", "--output", default="-", metavar="OUT",
    help="Write to OUT (complete or not at all) instead of stdout.",
)
@click.option(
    "--model", "version", metavar="VERSION",
    help="Estimate for this server version (7.0, 7.4, 8.0, valkey-8.0 ...) "
    "[default: the version the file names].",
)
@click.option(
    "--allocator", type=click.Choice(["jemalloc", "jemalloc-q16", "libc"]), default=None,
    help="The server's allocator: jemalloc (source builds), jemalloc-q16 (a system "
    "jemalloc with a 16-byte quantum, as distribution packages link), libc "
    "[default: jemalloc; jemalloc-q16 before 4.0; with --model-from: the server's].",
)
@click.option(
    "--model-from", "model_from", metavar="URL",
    help="Ask the server at URL (redis://[user:password@]host:port, rediss://, unix://) "
    "for its version, allocator (INFO memory, MEMORY MALLOC-STATS), pointer size and "
    "cluster mode, and use them (--model / --allocator still override).",
)
@click.option(
    "--state", type=click.Choice(STATES), default="live", show_default=True,
    help="live: as the server that wrote the file held each key; loaded: as a server "
    "restarted from the file holds it (they differ for streams: a live Redis 6.2+ holds "
    "the last stream node at 4 KiB).",
)
@click.option(
    "--raw-prefixes", is_flag=True,
    help="Prefixes as the keys spell them, without folding ids (numbers, UUIDs, hex) "
    "into {id}.",
)
@click.option(
    "--max-prefixes", default=DEFAULT_MAX_PREFIXES, show_default=True,
    type=click.IntRange(min=1), metavar="N",
    help="Prefixes kept per depth before the lightest are folded into (other).",
)
@click.option("--no-verify", is_flag=True, help="Do not verify the CRC64 checksum (faster).")
@STRICT_REPLAY
@QUIET
@filter_options
@guarded(PROG)
def memory_command(
    files: tuple[str, ...],
    top: int,
    separator: str,
    depth: int,
    as_jsonl: bool,
    as_csv: bool,
    as_json: bool,
    html_out: str | None,
    parquet_out: str | None,
    output: str,
    version: str | None,
    allocator: str | None,
    model_from: str | None,
    state: str,
    raw_prefixes: bool,
    max_prefixes: int,
    no_verify: bool,
    strict: bool,
    quiet: bool,
    key_filter: KeyFilter,
) -> None:
    """Estimate the memory each key of FILE... takes in a running server.

    FILE is an RDB file, an AOF file or an appendonlydir (replayed), or - for standard
    input; give several (the nodes of a cluster, say) and every row names its file.
    --jsonl / --csv write one row per key, --parquet the same rows as a Parquet file;
    otherwise a summary: totals per file, database, type and encoding, the biggest keys,
    memory by key pattern, TTL, element-count, memory, idle and frequency distributions
    (text, --json, or an HTML report with --html). One key at a time is held in memory;
    the prefix tables are bounded by --max-prefixes. A FILE may be compressed (gzip,
    zstd, lz4, bzip2, xz) or a URL (s3://, gs://, https://).

    The estimate follows the server version the file names and an assumed allocator
    (the summaries say which); --model-from asks the server the file came from (or one
    like it) and says on standard error which model it chose.
    """
    chosen = [
        name
        for name, flag in (
            ("--jsonl", as_jsonl),
            ("--csv", as_csv),
            ("--json", as_json),
            ("--html", html_out is not None),
            ("--parquet", parquet_out is not None),
        )
        if flag
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one output format, not {' and '.join(chosen)}")
    for name, given in (("--html", html_out), ("--parquet", parquet_out)):
        if given is not None and output != "-":
            raise click.UsageError(f"{name} names its own output file; -o is not used with it")
    if not separator:
        raise click.BadParameter("must not be empty", param_hint="'--prefix'")
    if version is not None and not _known_model(version):
        raise click.BadParameter(
            f"{version!r} is not a server version the model knows (Redis 2.x to 8.x: "
            "7.0, 7.4.1 ...; Valkey 7.x to 9.x: valkey-8.0 ...)",
            param_hint="'--model'",
        )
    repeated = sorted({f for f in files if files.count(f) > 1})
    if repeated:
        raise click.BadParameter(f"{repeated[0]} is given twice", param_hint="FILE...")
    refuse_same_file(PROG, files, next(o for o in (html_out, parquet_out, output)
                                       if o is not None))
    verify = not no_verify
    server: ServerFacts | None = server_facts(model_from) if model_from else None

    def seen(file: str, head: Head) -> None:
        if head.choice.note is not None:
            warn(PROG, f"{file}: {head.choice.note}")
        if server is not None:
            click.echo(f"{PROG}: {file}: memory model {head.choice.describe()}", err=True)

    def events_of(path: str) -> Iterator[Event]:
        return read_events(path, verify=verify, key_filter=key_filter, strict=strict,
                           quiet=quiet).events

    if as_jsonl or as_csv or parquet_out is not None:

        def rows() -> Iterator[MemoryRow]:
            for path in files:
                yield from memory_rows(
                    events_of(path), file=path, version=version, allocator=allocator,
                    state=state, server=server, seen=partial(seen, path),
                )

        if parquet_out is not None:
            from rdbtools.memory.arrow import write_memory_parquet

            with output_file(parquet_out) as out:
                count = write_memory_parquet(rows(), out)
            click.echo(f"{parquet_out}: {count} keys", err=True)
            return
        with output_file(output) as out:
            (write_jsonl if as_jsonl else write_csv)(rows(), out)
        return

    summary = memory_summary(
        ((path, events_of(path)) for path in files),
        top=top,
        separator=os.fsencode(separator),
        depth=depth,
        now_ms=key_filter.now_ms,
        version=version,
        allocator=allocator,
        state=state,
        server=server,
        max_prefixes=max_prefixes,
        patterns=not raw_prefixes,
        seen=seen,
    )
    if html_out is not None:
        with output_file(html_out) as out:
            out.write(render_html(summary).encode("utf-8"))
        click.echo(
            f"{html_out}: {summary.keys} keys, {summary.memory} bytes estimated", err=True
        )
        return
    text = summary_json(summary, prefix_rows=top) if as_json else summary_text(
        summary, prefix_rows=top
    )
    with output_file(output) as out:
        out.write(text.encode("utf-8"))


def _known_model(version: str) -> bool:
    """Whether ``version`` names a server version whose major ``MODEL_MAJORS`` lists."""
    try:
        server, (major, _, _) = parse_version(version, exact=True)
    except ValueError:
        return False
    return major in MODEL_MAJORS[server]
