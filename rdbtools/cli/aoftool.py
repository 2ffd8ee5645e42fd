"""``aoftool``: the AOF command group. Its commands are not built yet."""

from __future__ import annotations

import click

from rdbtools import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aoftool")
def main() -> None:
    """Tools for Redis / Valkey append-only files.

    The AOF commands are not built yet: this version has no subcommands. Use rdbtool
    for RDB files (including RDB-format AOF base files).
    """
