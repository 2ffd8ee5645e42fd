"""``rdbtool``: Redis / Valkey RDB files — ``dump``, ``check``, ``info``, ``convert``,
``load``, ``restore``.

Each command reads the file as a stream of events (``rdbtools.rdb.reader``), applies the
key filters (``rdbtools.ops.filters``), runs the library operation of the same name
(``rdbtools.ops``) and formats its result (``rdbtools.formats``). Exit codes:
``docs/cli.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from rdbtools import __version__
from rdbtools.cli._common import (
    FILE_ARG,
    NO_VERIFY,
    PROG,
    QUIET,
    STRICT_REPLAY,
    LazyGroup,
    filter_options,
    guarded,
    output_file,
    read_events,
    refuse_same_file,
    warn,
)
from rdbtools.events import Event
from rdbtools.ops.check import check
from rdbtools.ops.convert import convert
from rdbtools.ops.dump import dump
from rdbtools.ops.filters import KeyFilter, filter_events
from rdbtools.ops.info import info
from rdbtools.ops.inputs import read_input
from rdbtools.ops.load import load_jsonl
from rdbtools.rdb.module_types import ModuleNeeds
from rdbtools.rdb.targets import WRITABLE_VERSIONS
from rdbtools.reports.check import check_text
from rdbtools.reports.info import info_json, info_text


@click.group(cls=LazyGroup, lazy_commands={
    "diff": "rdbtools.cli._diff:diff_command",
    "memory": "rdbtools.cli._memory:memory_command",
    "restore": "rdbtools.cli._restore:restore_command",
}, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG)
def main() -> None:
    """Read Redis and Valkey RDB files (any version) and AOFs without a server.

    FILE is an RDB file, an AOF file or an appendonlydir (its manifest too; an AOF is
    replayed into the keyspace it builds), or - for an RDB on standard input.
    """


@main.command("dump", short_help="Write the keys as JSON Lines, JSON, RESP, names or Parquet.")
@click.argument("files", metavar="FILE|-...", nargs=-1, required=True)
@click.option("--jsonl", "as_jsonl", is_flag=True, help="JSON Lines, one key per line (default).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@click.option("--resp", "as_resp", is_flag=True, help="RESP commands for redis-cli --pipe.")
@click.option("--keys", "as_keys", is_flag=True, help="Key names, one per line.")
@click.option(
    "--parquet", "parquet_out", metavar="OUT.parquet",
    help="Write every key of every FILE to the Parquet file OUT.parquet: its metadata "
    "as columns and its --jsonl object as text (needs pip install 'rdbtools[arrow]').",
)
@click.option(
    "-o",
    "--output",
    default="-",
    metavar="OUT",
    help="Write to OUT (complete or not at all) instead of stdout.",
)
@NO_VERIFY
@STRICT_REPLAY
@QUIET
@filter_options
@guarded(PROG)
def dump_command(
    files: tuple[str, ...],
    as_jsonl: bool,
    as_json: bool,
    as_resp: bool,
    as_keys: bool,
    parquet_out: str | None,
    output: str,
    no_verify: bool,
    strict: bool,
    quiet: bool,
    key_filter: KeyFilter,
) -> None:
    """Write the keys of FILE as JSON Lines, JSON, RESP commands or key names; with
    --parquet, the keys of every FILE as one Parquet file.

    FILE is an RDB file, an AOF file or an appendonlydir (replayed), or - for standard
    input; it may be compressed (gzip, zstd, lz4, bzip2, xz: told by its first bytes) or
    a URL (s3://, gs://, https://, needs pip install 'rdbtools[remote]'). OUT must not
    be FILE.
    """
    chosen = [
        name
        for name, flag in (
            ("jsonl", as_jsonl),
            ("json", as_json),
            ("resp", as_resp),
            ("keys", as_keys),
            ("parquet", parquet_out is not None),
        )
        if flag
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one output format, not {' and '.join(chosen)}")
    verify = not no_verify
    if parquet_out is not None:
        if output != "-":
            raise click.UsageError("--parquet names its own output file; -o is not used with it")
        from rdbtools.ops.arrow import dump_parquet

        refuse_same_file(PROG, files, parquet_out)
        inputs = ((path, read_events(path, verify=verify, key_filter=key_filter,
                                     strict=strict, quiet=quiet).events)
                  for path in files)
        with output_file(parquet_out) as out:
            keys = dump_parquet(inputs, out)
        click.echo(f"{parquet_out}: {keys} keys", err=True)
        return
    if len(files) > 1:
        raise click.UsageError("several files are dumped together only with --parquet "
                               "(the other formats do not say which file a key came from)")
    fmt = chosen[0] if chosen else "jsonl"
    refuse_same_file(PROG, files, output)
    with output_file(output) as out:
        summary = dump(
            read_events(files[0], verify=verify, key_filter=key_filter, strict=strict,
                        quiet=quiet).events,
            out, format=fmt,
        )
    for what, count in summary.skipped.items():
        warn(PROG, f"skipped {what}: {count} (the {fmt} format cannot express them)")


@main.command("check", short_help="Read and verify everything; summarize.")
@FILE_ARG
@NO_VERIFY
@STRICT_REPLAY
@QUIET
@filter_options
@guarded(PROG)
def check_command(
    file: str,
    no_verify: bool,
    strict: bool,
    quiet: bool,
    key_filter: KeyFilter,
) -> None:
    """Read all of FILE, decoding every value, verify its checksum and summarize it.

    FILE is an RDB file, an AOF file or an appendonlydir (replayed), or - for standard
    input. Damage is reported as one line FILE@OFFSET: what (key ...) and a non-zero exit.
    """
    summary = check(read_events(file, verify=not no_verify, key_filter=key_filter,
                                strict=strict, quiet=quiet).events)
    click.echo(check_text(file, summary), nl=False)


@main.command("info", short_help="Keys, sizes, TTLs and the biggest keys.")
@FILE_ARG
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@click.option(
    "--top",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="N",
    help="How many of the biggest keys to list.",
)
@NO_VERIFY
@STRICT_REPLAY
@QUIET
@filter_options
@guarded(PROG)
def info_command(
    file: str,
    as_json: bool,
    top: int,
    no_verify: bool,
    strict: bool,
    quiet: bool,
    key_filter: KeyFilter,
) -> None:
    """Report what FILE holds: keys per database, type and encoding, serialized sizes,
    TTLs, the biggest keys and element-count percentiles, in one pass.

    FILE is an RDB file, an AOF file or an appendonlydir (replayed), or - for standard
    input. The keys an AOF builds have no record of their own: their sizes are those of
    the records the RDB writer would write for them (the RDB version of the AOF's
    preamble or base, else 12).
    """
    inp = read_events(file, verify=not no_verify, key_filter=key_filter, strict=strict,
                      quiet=quiet)
    events = inp.events
    if inp.kind == "aof":
        from rdbtools.ops.rdb_sizes import with_rdb_sizes

        events = with_rdb_sizes(events)
    report = info(
        events,
        top=top,
        now_ms=key_filter.now_ms,
    )
    click.echo(info_json(report) if as_json else info_text(file, report), nl=False)


def _target(to_version: str | None, to_valkey: bool) -> str:
    if to_valkey and to_version:
        raise click.UsageError("choose --to-version or --to-valkey, not both")
    return "valkey" if to_valkey else (to_version or "11")


TO_VERSION = click.option(
    "--to-version",
    type=click.Choice([str(v) for v in WRITABLE_VERSIONS]),
    metavar="N",
    help="RDB version to write, 6 (Redis 2.6) to 12 (Redis 7.4/8.x) [default: 11].",
)
TO_VALKEY = click.option("--to-valkey", is_flag=True, help="Write a Valkey 9 file (VALKEY080).")
STRICT = click.option(
    "--strict", is_flag=True, help="Fail (and write nothing) if anything would be lost."
)


def _write_rdb(events: Iterable[Event], output: str, target: str, strict: bool) -> None:
    needs = ModuleNeeds()
    with output_file(output) as out:
        report = convert(needs.watch(events), out, version=target, strict=strict)
    for line in report.lines():
        warn(PROG, f"lost: {line}")
    for line in needs.lines():
        warn(PROG, line)
    click.echo(
        f"{output}: RDB {target}, {report.keys} keys written, "
        f"{len(report.losses)} losses, {report.dropped_keys} keys dropped",
        err=True,
    )


@main.command("convert", short_help="Rewrite an RDB (or JSON Lines dump) as another version.")
@click.argument("infile", metavar="IN|-")
@click.argument("outfile", metavar="OUT")
@TO_VERSION
@TO_VALKEY
@STRICT
@NO_VERIFY
@filter_options
@guarded(PROG)
def convert_command(
    infile: str,
    outfile: str,
    to_version: str | None,
    to_valkey: bool,
    strict: bool,
    no_verify: bool,
    key_filter: KeyFilter,
) -> None:
    """Rewrite IN (an RDB file or a dump --jsonl file) as an RDB of another version.

    Every key is encoded as the target version's server would encode it. What the target
    cannot hold (hash field TTLs before 12, streams before 9, functions before 10, ...)
    is converted or dropped, each loss reported on stderr; --strict makes any loss an
    error. OUT is written beside its final path and renamed into place; IN is never
    touched (OUT may be IN: the file is then converted in place). One key at a time is
    held in memory (a big key spills to a temporary file).
    """
    events = read_input(infile, verify=not no_verify, jsonl=True, key_filter=key_filter).events
    _write_rdb(events, outfile, _target(to_version, to_valkey), strict)


@main.command("load", short_help="Build an RDB from a dump --jsonl file.")
@click.argument("infile", metavar="DUMP.jsonl|-")
@click.option("-o", "--output", required=True, metavar="OUT", help="The RDB file to write.")
@TO_VERSION
@TO_VALKEY
@STRICT
@filter_options
@guarded(PROG)
def load_command(
    infile: str,
    output: str,
    to_version: str | None,
    to_valkey: bool,
    strict: bool,
    key_filter: KeyFilter,
) -> None:
    """Build an RDB file from a JSON Lines dump (the inverse of dump --jsonl).

    A malformed line stops the load with an error naming the line, the key and the field;
    OUT is then not written.
    """
    refuse_same_file(PROG, (infile,), output)
    events = filter_events(load_jsonl(infile), key_filter)
    _write_rdb(events, output, _target(to_version, to_valkey), strict)
