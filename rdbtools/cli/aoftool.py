"""``aoftool``: Redis / Valkey append-only files — ``check``, ``fix``, ``dump``, ``stats``,
``rewrite``.

PATH is a single AOF file (plain RESP or with an RDB preamble), a multi-part AOF
directory (``appendonlydir/``) or its manifest file; ``-`` reads a single AOF from
standard input (``check``, ``dump``, ``stats``). Each command calls the library
operation of the same name (``rdbtools.ops.aof_*``) and prints its report. Errors: one
line on stderr and the exit codes of ``docs/aof.md`` (those of ``rdbtool``).
"""

from __future__ import annotations

import os

import click

from rdbtools import __version__
from rdbtools.aof.reader import open_aof, read_aof
from rdbtools.aof.writer import REWRITE_FORMATS
from rdbtools.cli._common import fail, guarded, output_file, refuse_same_file, warn
from rdbtools.ops.aof_check import aof_check
from rdbtools.ops.aof_dump import aof_dump
from rdbtools.ops.aof_fix import aof_fix
from rdbtools.ops.aof_stats import aof_stats
from rdbtools.rdb.targets import WRITABLE_VERSIONS
from rdbtools.reports.aof import (
    check_text,
    cut_text,
    fix_text,
    origin_line,
    rewrite_json,
    rewrite_text,
    stats_json,
    stats_text,
)

PROG = "aoftool"
TIME_T_MAX = (1 << 63) - 1
"""The largest time redis-check-aof's --truncate-to-timestamp takes (a 64-bit time_t)."""

PATH_ARG = click.argument("path", metavar="PATH")
NO_VERIFY = click.option(
    "--no-verify", is_flag=True, help="Do not verify the CRC64 of an RDB preamble or base."
)
CHECK_TS = click.option(
    "--truncate-to-timestamp", "timestamp", type=click.IntRange(min=1, max=TIME_T_MAX),
    metavar="T", help="Also say where fix --truncate-to-timestamp T would cut (the first #TS: "
    "annotation later than T, unix seconds).",
)
FIX_TS = click.option(
    "--truncate-to-timestamp", "timestamp", type=click.IntRange(min=1, max=TIME_T_MAX),
    metavar="T", help="Cut the last file at the first #TS: annotation later than T (unix seconds).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG)
def main() -> None:
    """Read, check and repair Redis and Valkey append-only files without a server.

    PATH is an AOF file (plain, or with an RDB preamble), a multi-part AOF directory
    (appendonlydir/) or its manifest file; - reads an AOF file from standard input.
    """


@main.command("check", short_help="Verify an AOF; summarize it or name the first damage.")
@PATH_ARG
@CHECK_TS
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Processes for a big file: 1, or 2 (the second half in another "
                   "process) [default: 2 when there are 2 CPUs].")
@click.option("--replay", is_flag=True,
              help="Also replay every command (the keyspace is held in memory) and list "
                   "the commands the server refuses when it loads them.")
@NO_VERIFY
@guarded(PROG)
def check_command(path: str, timestamp: int | None, jobs: int | None, replay: bool,
                  no_verify: bool) -> None:
    """Read all of PATH: the manifest, the RDB preamble or base (with its checksum) and
    the framing of every command, and summarize it.

    Damage is one line FILE@OFFSET: what [ok_up_to=N, diff=M] and a non-zero exit; the
    verdict and ok_up_to are those of redis-check-aof. With --truncate-to-timestamp it
    also says where aoftool fix would cut (nothing is changed). With --replay it also
    lists the commands the server would refuse (and skip) when it loads PATH.
    """
    if jobs is None:
        jobs = 2 if (os.cpu_count() or 1) >= 2 else 1
    if replay and path == "-":
        raise click.UsageError("--replay reads PATH twice: it needs a file, not stdin")
    if replay and os.path.exists(path) and not os.path.isdir(path) \
            and not os.path.isfile(path):
        raise click.UsageError("--replay reads PATH twice: it needs a file, not a pipe")
    report = aof_check(path, verify_checksum=not no_verify, truncate_to_timestamp=timestamp,
                       jobs=jobs, replay=replay)
    if report.problem is not None:
        fail(PROG, report.problem_line(), report.problem.exit_code)
    for note in report.warnings:
        warn(PROG, note)
    text = check_text(report)
    if timestamp is not None:
        text += cut_text(report, timestamp)
    click.echo(text, nl=False)


@main.command("fix", short_help="Repair a damaged tail (keeps a backup).")
@PATH_ARG
@click.option("--salvage", is_flag=True,
              help="Also keep the commands after damage in the middle of the file.")
@FIX_TS
@click.option("--dry-run", is_flag=True, help="Only say what would be done.")
@guarded(PROG)
def fix_command(path: str, salvage: bool, timestamp: int | None, dry_run: bool) -> None:
    """Repair PATH like redis-check-aof --fix, never in place: cut the last file after its
    last complete command; the original is kept as FILE.bak.<UTC time> and the repaired
    file is written beside it, fsync-ed, read back and renamed into place.

    --salvage resynchronises on the next complete command after damage in the middle and
    reports every byte range it drops. --truncate-to-timestamp T cuts the last file at
    the first #TS: annotation later than T instead.
    """
    if salvage and timestamp is not None:
        raise click.UsageError("choose --salvage or --truncate-to-timestamp, not both")
    report = aof_fix(path, salvage_commands=salvage, truncate_to_timestamp=timestamp,
                     dry_run=dry_run)
    click.echo(fix_text(report, dry_run), nl=False)


@main.command("dump", short_help="Write the commands, one per line (text or JSON Lines).")
@PATH_ARG
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help='JSON Lines: {"db", "args", "offset", "timestamp", "file"} per command.')
@click.option("-o", "--output", default="-", metavar="OUT",
              help="Write to OUT (complete or not at all) instead of stdout.")
@NO_VERIFY
@guarded(PROG)
def dump_command(path: str, as_jsonl: bool, output: str, no_verify: bool) -> None:
    """Write every command of PATH, one per line: FILE@OFFSET db=N CMD arg ... (arguments
    as redis-cli takes them), or with --jsonl one JSON object per command. The keys of an
    RDB preamble or base are written as rdbtool dump --jsonl writes them."""
    refuse_same_file(PROG, [path], output)
    with output_file(output) as out:
        summary = aof_dump(read_aof(path, verify_checksum=not no_verify), out,
                           format="jsonl" if as_jsonl else "text")
    if output != "-":
        click.echo(f"{output}: {summary.commands} commands, {summary.rdb_keys} RDB keys",
                   err=True)


@main.command("stats", short_help="Commands by name, hot keys, databases, timeline.")
@PATH_ARG
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=0),
              metavar="N", help="How many of the most written keys to list.")
@click.option("--counters", default=1024, show_default=True, type=click.IntRange(min=1),
              metavar="K", help="Counters of the heavy-hitters summary (memory bound).")
@NO_VERIFY
@guarded(PROG)
def stats_command(path: str, as_json: bool, top: int, counters: int,
                  no_verify: bool) -> None:
    """Report what PATH is made of: commands by name (count, bytes), writes per database,
    the most written keys (Misra-Gries heavy hitters, bounded memory) and the commands
    per minute from #TS: annotations."""
    report = aof_stats(path, top=top, capacity=counters, verify_checksum=not no_verify)
    for note in report.warnings:
        warn(PROG, note)
    if top and report.decrements:
        warn(PROG, f"more distinct keys than {counters} counters: key counts are lower "
                   f"bounds (at most {report.decrements} below)")
    click.echo(stats_json(report) if as_json else stats_text(report), nl=False)


REWRITE_VERSIONS = (*map(str, WRITABLE_VERSIONS), "valkey")


@main.command("rewrite", short_help="Compact an AOF offline, as BGREWRITEAOF would.")
@PATH_ARG
@click.option("-o", "--output", default=None, metavar="OUT",
              help="Write the result to the file OUT (complete or not at all) and leave "
                   "PATH untouched; OUT must not be a file of PATH [default: rewrite PATH "
                   "in place].")
@click.option("--format", "fmt", type=click.Choice(REWRITE_FORMATS), default=None,
              help="aof: RESP commands; preamble: an RDB as aof-use-rdb-preamble yes "
                   "writes it; rdb: a plain RDB file [default: what the server's own "
                   "rewrite writes: preamble when PATH has an RDB preamble or base, else "
                   "aof].")
@click.option("--to-version", type=click.Choice(REWRITE_VERSIONS), default=None, metavar="N",
              help="RDB version of preamble/rdb output, and the server whose commands "
                   "aof output uses (9 = 6.2, 10 = 7.0, 11 = 7.2, 12 = 7.4, valkey) "
                   "[default: the server that wrote PATH, from its RDB preamble or base, "
                   "else from its layout, #TS: annotations and commands; the choice and "
                   "the reason are printed].")
@click.option("--strict", is_flag=True,
              help="Fail, writing nothing: exit 7 if the target cannot hold something, "
                   "exit 5 on a command replay does not model.")
@click.option("--keep-history", is_flag=True,
              help="Multi-part AOF: keep the old files, listed as history (type h) in the "
                   "manifest, instead of removing them.")
@click.option("--skip-unknown", is_flag=True,
              help="Drop commands replay does not model instead of keeping them as they "
                   "were.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@NO_VERIFY
@guarded(PROG)
def rewrite_command(path: str, output: str | None, fmt: str | None, to_version: str | None,
                    strict: bool, keep_history: bool, skip_unknown: bool, as_json: bool,
                    no_verify: bool) -> None:
    """Replay PATH and write the smallest equivalent AOF, as BGREWRITEAOF would: per
    database a SELECT, then per key SET / RPUSH / SADD / ZADD / HMSET (at most 64
    elements a command), PEXPIREAT, and for streams XADD, XSETID, XGROUP CREATE and
    XCLAIM; function libraries as FUNCTION LOAD; RedisJSON documents as JSON.SET.
    A command replay does not model (another module's, an unknown one) is kept as it
    was, with every later command on the keys it touches, after all other keys.

    By default for the server that wrote PATH, in the format its own rewrite writes: the
    version comes from the RDB preamble or base (redis-ver / valkey-ver), else from the
    evidence (a single file without #TS: annotations is Redis 6.2's; a multi-part AOF is
    7.0+'s); the line "target ..." on stderr says which server was assumed and why.
    What that server cannot hold is listed as lost; --strict refuses instead.

    A single file is replaced in place (written beside, fsync-ed, renamed over); the
    original is kept beside it as PATH.bak.<UTC time>. A multi-part AOF gets a new base
    (<prefix>.<seq+1>.base.aof or .base.rdb), a new empty incr file and a new manifest,
    exactly as the server does after a rewrite; the old files stay until the new
    manifest is in place and are then removed (or kept as history). A crash at any
    moment leaves an AOF the server loads; the next run removes what it left. Stop the
    server that writes PATH first. With -o OUT the result is one file and PATH is not
    touched.

    Memory: replay holds the whole keyspace of PATH in memory (a key's final value is
    known only at the end of the log); the output is written as it is produced.
    """
    from rdbtools.ops.aof_rewrite import OutputIsInput, aof_rewrite, check_output

    if path == "-" and output is None:
        raise click.UsageError("standard input cannot be rewritten in place: give -o OUT")
    if output == "-":
        raise click.UsageError("-o must name a file")
    if output is not None and path != "-":
        try:
            check_output(open_aof(path), output)
        except OutputIsInput as err:
            raise click.UsageError(str(err)) from None
    report = aof_rewrite(path, output=output, format=fmt, to_version=to_version,
                         keep_history=keep_history, skip_unknown=skip_unknown,
                         verify_checksum=not no_verify, strict=strict)
    click.echo(f"{PROG}: {origin_line(report)}", err=True)
    if report.layout == "multi" and output is None and report.version.isdigit() \
            and int(report.version) < 10:
        warn(PROG, "a server before 7.0 reads no multi-part AOF: for one, give -o FILE")
    for loss in report.losses[:20]:
        warn(PROG, f"lost: {loss}")
    if len(report.losses) > 20:
        warn(PROG, f"... {len(report.losses) - 20} more losses (see --json)")
    click.echo(rewrite_json(report) if as_json else rewrite_text(report), nl=False)
