"""``rdbtool restore``: write the keys of a file into a live server (standalone or
cluster), through ``rdbtools.ops.restore``."""

from __future__ import annotations

import click

from rdbtools.cli._common import (
    FILE_ARG,
    NO_VERIFY,
    PROG,
    filter_options,
    guarded,
    warn,
)
from rdbtools.cli._progress import Progress
from rdbtools.errors import RestoreError
from rdbtools.ops.connection import (
    DEFAULT_TIMEOUT,
    PASSWORD_ENV,
    Tls,
    check_url,
    connect,
    server_errors,
)
from rdbtools.ops.filters import KeyFilter
from rdbtools.ops.inputs import read_input
from rdbtools.ops.restore import TARGET_VERSIONS, restore
from rdbtools.rdb.module_types import ModuleNeeds
from rdbtools.reports.restore import missing_text, restore_text


@click.command("restore", short_help="Write the keys into a live server.")
@FILE_ARG
@click.option(
    "--url",
    required=True,
    metavar="URL",
    help="redis://[[user]:password@]host[:port][/db] (port 6379 by default), rediss://... "
    "for TLS, or unix:///path/to/socket[?db=N]. A password not in the URL is read from "
    f"${PASSWORD_ENV}; it is never printed.",
)
@click.option(
    "--replace", "conflict", flag_value="replace", default=True,
    help="Overwrite existing keys (the default).",
)
@click.option(
    "--skip-existing", "conflict", flag_value="skip-existing", help="Leave existing keys alone."
)
@click.option(
    "--fail-on-conflict",
    "conflict",
    flag_value="fail-on-conflict",
    help="Stop with an error at the first existing key.",
)
@click.option(
    "--to-db", type=click.IntRange(min=0), metavar="N",
    help="Write the keys of every database into database N (a cluster needs 0).",
)
@click.option(
    "--cluster", is_flag=True,
    help="The server must be a cluster node (found out from INFO cluster otherwise).",
)
@click.option(
    "--tls-ca", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
    help="rediss://: verify the server with this CA bundle (PEM).",
)
@click.option(
    "--tls-cert", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
    help="rediss://: client certificate (PEM), for servers with tls-auth-clients.",
)
@click.option(
    "--tls-key", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
    help="rediss://: the client certificate's private key (PEM).",
)
@click.option(
    "--tls-insecure", is_flag=True,
    help="rediss://: do not verify the server's certificate or name.",
)
@click.option(
    "--timeout", default=DEFAULT_TIMEOUT, show_default=True,
    type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
    help="Longest wait to connect and for each reply.",
)
@click.option(
    "--pipeline", default=100, show_default=True, type=click.IntRange(min=1),
    metavar="N", help="Commands sent per round trip.",
)
@click.option(
    "--target-version", default="auto", show_default=True, metavar="auto|N",
    help="The server's RDB version, 1-12 or 80 for Valkey 9 (asked from the server when "
    "auto).",
)
@click.option(
    "--mode", type=click.Choice(["auto", "payload", "commands"]), default="auto",
    show_default=True,
    help="RESTORE payloads, plain write commands, or payloads where they can go.",
)
@click.option("--dry-run", is_flag=True, help="Encode everything, send nothing.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line on the terminal.")
@NO_VERIFY
@filter_options
@guarded(PROG)
def restore_command(
    file: str,
    url: str,
    conflict: str,
    to_db: int | None,
    cluster: bool,
    tls_ca: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_insecure: bool,
    timeout: float,
    pipeline: int,
    target_version: str,
    mode: str,
    dry_run: bool,
    quiet: bool,
    no_verify: bool,
    key_filter: KeyFilter,
) -> None:
    """Write the keys of FILE (an RDB or a dump --jsonl file) into the server at URL.

    Keys go as RESTORE ... ABSTTL with a payload encoded for the server's RDB version, in
    pipelined batches; what that version cannot hold is reported as a loss. A key goes
    as write commands instead when the server is older than RDB 6 or the payload is
    bigger than its proto-max-bulk-len. Keys whose TTL has passed are skipped and
    counted. One key at a time is held in memory.

    Each key goes to its own database (or to --to-db). Keys of a database the server
    lacks are never written elsewhere: they are skipped, counted, and the exit code is
    9. A cluster node (INFO cluster) is written through the cluster client: each key to
    its slot's primary, functions to every primary; keys of databases other than 0
    need --to-db 0 (or --db 0 to leave the others out).
    """
    if target_version != "auto" and (
        not target_version.isdigit() or int(target_version) not in TARGET_VERSIONS
    ):
        raise click.BadParameter("auto, 1-12, or 80 (Valkey 9)", param_hint="--target-version")
    version = None if target_version == "auto" else int(target_version)
    tls = Tls(tls_ca, tls_cert, tls_key, tls_insecure)
    check_url(url, tls)  # a bad URL is a usage error, even for --dry-run
    client = None
    if not (dry_run and version):
        client = connect(url, tls=tls, timeout=timeout, cluster=True if cluster else None)
    needs = ModuleNeeds()
    inp = read_input(file, verify=not no_verify, jsonl=True, key_filter=key_filter)
    events = needs.watch(inp.events)
    size = inp.size  # the progress line's total: an RDB's key records carry their offsets
    try:
        with Progress(size, label="restore", enabled=False if quiet else None) as bar, \
                server_errors(url, timeout):
            summary = restore(
                events, client, conflict=conflict, pipeline=pipeline, target_version=version,
                mode=mode, dry_run=dry_run, now_ms=key_filter.now_ms, to_db=to_db,
                progress=bar.update,
            )
    finally:
        if client is not None:
            client.close()
    for loss in summary.losses:
        warn(PROG, f"lost: {loss}")
    for line in needs.lines():
        warn(PROG, line)
    primaries = len(client.get_primaries()) if summary.cluster and client else None
    click.echo(restore_text(summary, dry_run=dry_run, primaries=primaries), err=True)
    if summary.missing_db:
        raise RestoreError(f"{summary.skipped_missing_db} keys not written: "
                           f"{missing_text(summary)}: map them with --to-db N, or leave "
                           "them out with --db")
