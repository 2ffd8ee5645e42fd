"""Reading through a pipe gives exactly what reading the file gives.

- Every fixture read through a file object whose ``read(n)`` returns 1..64 bytes at a time
  (seeded) yields the same events (offsets included) as the plain read by path, and fails
  the same way where the plain read fails.
- ``cat FILE | rdbtool dump - --jsonl`` prints the same as ``rdbtool dump FILE --jsonl``.
"""

from __future__ import annotations

import io
import shlex
import subprocess
import zlib
from typing import Any

import helpers
import pytest
from helpers import RdbCase

CASES = helpers.all_cases()
PARAMS = helpers.case_params(CASES)


def _seed(case: RdbCase) -> int:
    return zlib.crc32(case.id.encode())


def _first_difference(a: list[Any], b: list[Any]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"event {i}: plain {x!r:.300}\n          chunked {y!r:.300}"
    return f"plain has {len(a)} events, chunked {len(b)}"


def _same_error(plain: BaseException | None, other: BaseException | None) -> str | None:
    if (plain is None) != (other is None):
        return f"plain read error {plain!r}, other read error {other!r}"
    if plain is None or other is None:
        return None
    if type(plain) is not type(other):
        return f"plain read raised {type(plain).__name__}, other {type(other).__name__}: {other}"
    for attr in ("offset", "key"):
        a, b = getattr(plain, attr, None), getattr(other, attr, None)
        if a != b:
            return f"{attr}: plain {a!r}, other {b!r} ({plain} / {other})"
    return None


@pytest.mark.parametrize("case", PARAMS)
def test_small_random_chunks_give_identical_events(case: RdbCase) -> None:
    plain = helpers.read_case(case.path)
    chunked = helpers.read_all(helpers.ChunkedReader(case.data, seed=_seed(case), max_chunk=64))
    err = _same_error(plain.error, chunked.error)
    assert err is None, f"{case.id}: {err}"
    assert plain.events == chunked.events, (
        f"{case.id}: {_first_difference(plain.events, chunked.events)}"
    )


@pytest.mark.parametrize("case", PARAMS)
def test_file_object_and_one_byte_reads(case: RdbCase) -> None:
    """An open binary file and a 1-byte-at-a-time pipe give the plain read's events."""
    plain = helpers.read_case(case.path)
    with open(case.path, "rb") as fh:
        opened = helpers.read_all(fh)
    err = _same_error(plain.error, opened.error)
    assert err is None, f"{case.id} (open file): {err}"
    assert plain.events == opened.events, (
        f"{case.id}: {_first_difference(plain.events, opened.events)}"
    )
    if len(case.data) <= 16384:
        one = helpers.read_all(helpers.ChunkedReader(case.data, seed=1, max_chunk=1))
        err = _same_error(plain.error, one.error)
        assert err is None, f"{case.id} (1-byte reads): {err}"
        assert plain.events == one.events, (
            f"{case.id}: {_first_difference(plain.events, one.events)}"
        )


@pytest.mark.parametrize("case", PARAMS)
def test_buffered_reader_over_pipe(case: RdbCase) -> None:
    """``io.BufferedReader`` over a short-reading raw stream (what ``sys.stdin.buffer`` is)."""
    plain = helpers.read_case(case.path)
    raw = helpers.ChunkedReader(case.data, seed=_seed(case) ^ 0x5A5A, max_chunk=37)
    got = helpers.read_all(io.BufferedReader(raw, buffer_size=128))
    err = _same_error(plain.error, got.error)
    assert err is None, f"{case.id}: {err}"
    assert plain.events == got.events, f"{case.id}: {_first_difference(plain.events, got.events)}"


@pytest.mark.parametrize("case", PARAMS)
def test_cli_stdin_pipe_equals_file(case: RdbCase) -> None:
    if case.kind == "aof-preamble":
        pytest.skip("single-file AOF: the CLI reads it as an AOF, not as an RDB")
    from_file = helpers.cli_dump_jsonl(case.path)
    cmd = f"cat {shlex.quote(str(case.path))} | {shlex.join(helpers.rdbtool_cmd())} dump - --jsonl"
    piped = subprocess.run(
        ["sh", "-c", cmd], capture_output=True, env=helpers.cli_env(), timeout=120, check=False
    )
    assert piped.returncode == from_file.returncode, (
        f"{case.id}: exit {piped.returncode} from stdin, {from_file.returncode} from the file; "
        f"stderr: {piped.stderr.decode(errors='replace')[-600:]}"
    )
    assert b"Traceback" not in piped.stderr, piped.stderr.decode(errors="replace")[-3000:]
    if from_file.returncode == 0:
        if piped.stdout != from_file.stdout:
            a = from_file.stdout.splitlines()
            b = piped.stdout.splitlines()
            diff = next(
                (
                    f"line {i + 1}: file {x[:300]!r}\n stdin {y[:300]!r}"
                    for i, (x, y) in enumerate(zip(a, b))
                    if x != y
                ),
                f"{len(a)} lines from the file, {len(b)} from stdin",
            )
            pytest.fail(f"{case.id}: stdin output differs from file output: {diff}", pytrace=False)
    else:
        assert len(piped.stderr.decode(errors="replace").strip().splitlines()) == 1, piped.stderr
