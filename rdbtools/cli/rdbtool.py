"""``rdbtool``: read Redis / Valkey RDB files — ``dump``, ``check``, ``info``.

Each command reads the file as a stream of events (``rdbtools.rdb.reader``), applies the
key filters (``rdbtools.ops.filters``), runs the library operation of the same name
(``rdbtools.ops``) and formats its result (``rdbtools.formats``). Exit codes:
``docs/cli.md``.
"""

from __future__ import annotations

import click

from rdbtools import __version__
from rdbtools.cli._common import (
    filter_options,
    guarded,
    output_file,
    read_events,
    warn,
)
from rdbtools.formats.check_report import check_text
from rdbtools.formats.info_report import info_json, info_text
from rdbtools.ops.check import check
from rdbtools.ops.dump import dump
from rdbtools.ops.filters import KeyFilter
from rdbtools.ops.info import info

PROG = "rdbtool"

FILE_ARG = click.argument("file", metavar="FILE|-")
NO_VERIFY = click.option(
    "--no-verify", is_flag=True, help="Do not verify the CRC64 checksum (faster)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG)
def main() -> None:
    """Read Redis and Valkey RDB files (any version) without a server.

    FILE is a path, or - for standard input.
    """


@main.command("dump", short_help="Write the keys as JSON Lines, JSON, RESP or names.")
@FILE_ARG
@click.option("--jsonl", "as_jsonl", is_flag=True, help="JSON Lines, one key per line (default).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@click.option("--resp", "as_resp", is_flag=True, help="RESP commands for redis-cli --pipe.")
@click.option("--keys", "as_keys", is_flag=True, help="Key names, one per line.")
@click.option(
    "-o",
    "--output",
    default="-",
    metavar="OUT",
    help="Write to OUT (complete or not at all) instead of stdout.",
)
@NO_VERIFY
@filter_options
@guarded(PROG)
def dump_command(
    file: str,
    as_jsonl: bool,
    as_json: bool,
    as_resp: bool,
    as_keys: bool,
    output: str,
    no_verify: bool,
    key_filter: KeyFilter,
) -> None:
    """Write the keys of FILE as JSON Lines, JSON, RESP commands or key names."""
    chosen = [
        name
        for name, flag in (
            ("jsonl", as_jsonl),
            ("json", as_json),
            ("resp", as_resp),
            ("keys", as_keys),
        )
        if flag
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one output format, not {' and '.join(chosen)}")
    fmt = chosen[0] if chosen else "jsonl"
    with output_file(output) as out:
        summary = dump(
            read_events(file, verify=not no_verify, key_filter=key_filter), out, format=fmt
        )
    for what, count in summary.skipped.items():
        warn(PROG, f"skipped {what}: {count} (the {fmt} format cannot express them)")


@main.command("check", short_help="Read and verify everything; summarize.")
@FILE_ARG
@NO_VERIFY
@filter_options
@guarded(PROG)
def check_command(
    file: str,
    no_verify: bool,
    key_filter: KeyFilter,
) -> None:
    """Read all of FILE, decoding every value, verify its checksum and summarize it.

    Damage is reported as one line FILE@OFFSET: what (key ...) and a non-zero exit.
    """
    summary = check(read_events(file, verify=not no_verify, key_filter=key_filter))
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
@filter_options
@guarded(PROG)
def info_command(
    file: str,
    as_json: bool,
    top: int,
    no_verify: bool,
    key_filter: KeyFilter,
) -> None:
    """Report what FILE holds: keys per database, type and encoding, serialized sizes,
    TTLs, the biggest keys and element-count percentiles, in one pass."""
    report = info(
        read_events(file, verify=not no_verify, key_filter=key_filter),
        top=top,
        now_ms=key_filter.now_ms,
    )
    click.echo(info_json(report) if as_json else info_text(file, report), nl=False)
