"""What the command-line tools share: the key-filter options, reading an input, atomic
output files, and the error wrapper that turns every expected failure into one line on
stderr and a documented exit code (``rdbtools.errors``, ``docs/cli.md``)."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, BinaryIO, NoReturn, ParamSpec, TypeVar

import click

from rdbtools._spec import LOGICAL_TYPES
from rdbtools.atomic import atomic_file, name_write_error
from rdbtools.cli._progress import Progress
from rdbtools.errors import LimitExceeded, RdbToolsError
from rdbtools.events import Event
from rdbtools.ops.filters import KeyFilter
from rdbtools.ops.inputs import Input, read_input

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USAGE = 2
"""A bad option or argument, as ``click`` exits for its own usage errors."""
EXIT_OS_ERROR = 8
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a writer whose reader went away."""
EXIT_INTERRUPTED = 130


def filter_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the key-filter options shared by every command; the command receives them
    as one ``key_filter: KeyFilter`` argument."""

    @functools.wraps(fn)
    def with_filter(
        *args: Any,
        dbs: tuple[int, ...],
        key_glob: str | None,
        key_regex: str | None,
        types: tuple[str, ...],
        no_expired: bool,
        now_ms: int | None,
        **kwargs: Any,
    ) -> R:
        try:
            key_filter = KeyFilter(
                dbs=frozenset(dbs) if dbs else None,
                key_glob=os.fsencode(key_glob) if key_glob is not None else None,
                key_regex=os.fsencode(key_regex) if key_regex is not None else None,
                types=frozenset(types) if types else None,
                no_expired=no_expired,
                now_ms=now_ms,
            )
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="'--key-regex'") from None
        return fn(*args, key_filter=key_filter, **kwargs)

    options = [
        click.option(
            "--db",
            "dbs",
            type=click.IntRange(min=0),
            multiple=True,
            metavar="N",
            help="Only keys of database N (repeatable).",
        ),
        click.option(
            "--key",
            "key_glob",
            metavar="GLOB",
            help="Only keys matching this Redis-style glob (the whole key).",
        ),
        click.option(
            "--key-regex",
            metavar="RE",
            help="Only keys in which this regular expression is found.",
        ),
        click.option(
            "--type",
            "types",
            multiple=True,
            type=click.Choice(LOGICAL_TYPES),
            metavar="T",
            help=f"Only keys of type T (repeatable): {', '.join(LOGICAL_TYPES)}.",
        ),
        click.option("--no-expired", is_flag=True, help="Leave out keys whose TTL has passed."),
        click.option(
            "--now",
            "now_ms",
            type=int,
            metavar="MS",
            help="The time (unix ms) that --no-expired and TTL reports compare with "
            "[default: now].",
        ),
    ]
    wrapped: Callable[..., R] = with_filter
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


def read_events(path: str, *, verify: bool, key_filter: KeyFilter,
                strict: bool = False, quiet: bool = True) -> Input:
    """The events of ``path`` (``-``: stdin; a URL; compressed or not; an RDB, or an AOF
    replayed into the keyspace it builds, held in memory; ``strict``: a command replay
    does not model is an error: ``rdbtools.ops.inputs.read_input``), filtered, and what
    it was. Patterns in the filter are the option text encoded as the file system
    encodes names. Unless ``quiet``, a progress line is drawn on stderr while an RDB is
    read, when stderr is a terminal."""
    bar = None if quiet else Progress(None, label=os.path.basename(path) or path)
    if bar is None or not bar.enabled:  # no terminal: not even the counting
        return read_input(path, verify=verify, key_filter=key_filter, strict=strict)
    if os.path.isfile(path):
        bar.total = os.path.getsize(path)
    inp = read_input(path, verify=verify, key_filter=key_filter, strict=strict,
                     progress=bar.update)
    return replace(inp, events=_closing(inp.events, bar))


def _closing(events: Iterator[Event], bar: Progress) -> Iterator[Event]:
    with bar:
        yield from events


STRICT_REPLAY = click.option(
    "--strict", is_flag=True,
    help="For an AOF: fail on a command replay does not model (by default the keys it "
    "touches are shown as not-replayed, with their command names).")
PROG = "rdbtool"
FILE_ARG = click.argument("file", metavar="FILE|-")
NO_VERIFY = click.option(
    "--no-verify", is_flag=True, help="Do not verify the CRC64 checksum (faster)."
)


class LazyGroup(click.Group):
    """A command group whose commands named in ``lazy_commands`` (name →
    ``"module:attribute"``) are imported when first run or listed, so that a command
    loads only what it uses (click's "lazily loading subcommands" pattern)."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = self.lazy_commands.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        import importlib

        module, _, attribute = where.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{where} is not a click command")
        return command


QUIET = click.option("-q", "--quiet", is_flag=True,
                     help="No progress line on the terminal while the input is read.")


@contextlib.contextmanager
def output_file(path: str) -> Iterator[BinaryIO]:
    """A binary output: stdout for ``-``; otherwise ``rdbtools.atomic.atomic_file``: a
    temporary file beside ``path`` renamed onto it when the block succeeds (a device or
    FIFO is written in place), so ``path`` is either untouched or complete."""
    if path == "-":
        stdout = sys.stdout.buffer
        try:
            yield stdout
            stdout.flush()
        except OSError as err:
            raise name_write_error(err, "<standard output>") from None
        return
    with atomic_file(path) as fp:
        yield fp


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_same_file(prog: str, inputs: tuple[str, ...] | list[str], output: str) -> None:
    """Exit 2 with one line when ``output`` would overwrite one of ``inputs`` (the same
    file, by ``os.path.samefile`` or else by real path) or land inside an input that is
    a directory (a multi-part AOF): checked before anything is written. ``-`` (standard
    input or output) and special files (``/dev/null``) are never refused."""
    if output == "-" or (os.path.exists(output) and not os.path.isfile(output)):
        return
    parent = os.path.dirname(os.path.realpath(output))
    for path in inputs:
        if path == "-":
            continue
        if _same_file(path, output):
            fail(prog, f"{output}: the output is the input {path}; write somewhere else",
                 EXIT_USAGE)
        if os.path.isdir(path) and _same_file(path, parent):
            fail(prog, f"{output}: the output is inside the input directory {path}; "
                 "write somewhere else", EXIT_USAGE)


LINE_MAX = 2000
"""Characters of a message printed whole; the middle of a longer one is left out (keys
are already shortened by ``rdbtools.errors.key_text``; this bounds any other text)."""


def one_line(message: str) -> str:
    """``message`` on one line (CR and LF escaped), at most about ``LINE_MAX``
    characters: the head and the tail of a longer one, with the count left out."""
    text = message.replace("\r", "\\r").replace("\n", "\\n")
    if len(text) > LINE_MAX:
        cut = len(text) - LINE_MAX
        text = f"{text[:LINE_MAX - 200]}... ({cut} characters left out) ...{text[-200:]}"
    return text


def fail(prog: str, message: str, code: int) -> NoReturn:
    """Print ``prog: message`` as one line on stderr and exit with ``code``."""
    click.echo(f"{prog}: {one_line(message)}", err=True)
    sys.exit(code)


def warn(prog: str, message: str) -> None:
    """Print ``prog: warning: message`` as one line on stderr."""
    click.echo(f"{prog}: warning: {one_line(message)}", err=True)


def os_message(err: OSError) -> str:
    name = err.filename2 if err.filename2 is not None else err.filename
    text = err.strerror or str(err)
    return f"{os.fsdecode(name)}: {text}" if name is not None else text


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def guarded(prog: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a command: ``RdbToolsError`` -> one line and ``err.exit_code``; ``OSError``
    -> one line and exit 8; running out of memory -> one line and exit 6 (a limit
    exceeded: the one of the machine); a closed stdout pipe -> quiet exit 141; Ctrl-C
    -> exit 130."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except RdbToolsError as err:
                fail(prog, str(err), err.exit_code)
            except BrokenPipeError:
                _silence_stdout()
                sys.exit(EXIT_BROKEN_PIPE)
            except OSError as err:
                fail(prog, os_message(err), EXIT_OS_ERROR)
            except MemoryError:
                fail(prog, "out of memory: the input needs more memory than this process "
                     "may use", LimitExceeded.exit_code)
            except KeyboardInterrupt:
                fail(prog, "interrupted", EXIT_INTERRUPTED)

        return wrapper

    return decorate
