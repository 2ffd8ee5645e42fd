"""The hostile corpus (``hostile_corpus``) through every reading command, each run as a
subprocess under a 1 GiB address-space limit and a generous timeout: the assertion is
never about speed, only "no hang, no traceback, no MemoryError, one line naming the
file and the offset, a documented exit code".

Covered: lying counts in every compact format field (stream nodes included, also inside
an AOF preamble, a manifest's base and a RESTORE payload), LZF bombs, a listpack of
millions of entries, length claims on standard input, ``/dev/zero`` and FIFOs where a
manifest or a part file should be, empty inputs.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import helpers
import hostile_corpus as H
import pytest

MEM_CAP = 1 << 30
TIMEOUT = 60  # seconds: a hang fails the test; nothing here is close to it

RDB_COMMANDS = ["dump", "check", "info", "memory", "convert", "diff"]
AOF_COMMANDS = ["check", "dump", "stats"]

REPRESENTATIVE = [
    "stream master fields -4",
    "stream entry fields -3",
    "stream lp-count wrong",
    "stream count + deleted wraps",
    "listpack count 60000 of 2",
    "ziplist zlbytes 2^32-1",
    "intset count 2^31",
    "zipmap length 2^32-1",
    "lzf ulen 2^62",
    "module string 2^62",
]
"""Corpus files run through every command (all of the corpus is read in process, on
both backends, by test_hostile_decoders)."""


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEM_CAP, MEM_CAP))


def _cmd(tool: str, *args: str) -> list[str]:
    return [sys.executable, "-c",
            f"import sys; from rdbtools.cli.{tool} import main; sys.exit(main())", *args]


def run(tool: str, *args: str, stdin: bytes | None = None, pure: bool = False,
        stdin_fd: int | None = None) -> subprocess.CompletedProcess[bytes]:
    env = helpers.cli_env()
    if pure:
        env["RDBTOOLS_PURE_PYTHON"] = "1"
    return subprocess.run(_cmd(tool, *args), input=stdin,
                          stdin=stdin_fd if stdin is None else None,
                          capture_output=True, env=env, timeout=TIMEOUT,
                          preexec_fn=_cap, check=False)


def one_line(proc: subprocess.CompletedProcess[bytes], tool: str, codes: set[int],
             *, offset: bool = True) -> str:
    """The run failed with one of ``codes`` and said so in exactly one line."""
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "MemoryError" not in err, err[-2000:]
    lines = err.splitlines()
    assert proc.returncode in codes, (proc.returncode, err[-2000:])
    assert len(lines) == 1 and lines[0].startswith(f"{tool}: "), err[-2000:]
    if offset:
        assert "@0x" in lines[0], lines[0]
    return lines[0]


def rdbtool_args(command: str, path: Path | str, tmp: Path) -> list[str]:
    """``rdbtool COMMAND`` reading ``path`` (``-``: standard input), outputs in ``tmp``."""
    src = str(path)
    if command == "convert":
        return [command, src, str(tmp / "out.rdb")]
    if command == "load":
        return [command, src, "-o", str(tmp / "out.rdb")]
    if command == "restore":
        return [command, src, "--url", "redis://127.0.0.1:1", "--dry-run",
                "--target-version", "11"]
    if command == "diff":
        good = tmp / "good.rdb"
        good.write_bytes(H.stream_rdb(H.GOOD_NODE))
        return [command, src, str(good)]
    if command == "dump":
        return [command, src, "-o", str(tmp / "out.jsonl")]
    return [command, src]


def rdbtool_codes(command: str, codes: set[int]) -> set[int]:
    return {2} if command == "diff" else codes  # diff: every error is 2 (docs/diff.md)


# --------------------------------------------------------------------------- RDB corpus


@pytest.mark.parametrize("command", RDB_COMMANDS)
@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_corpus_through_every_rdbtool_command(name: str, command: str,
                                              tmp_path: Path) -> None:
    path = tmp_path / "hostile.rdb"
    path.write_bytes(H.hostile_rdbs()[name])
    proc = run("rdbtool", *rdbtool_args(command, path, tmp_path))
    line = one_line(proc, "rdbtool", rdbtool_codes(command, {3, 6}))
    assert str(path) in line and "(key b'" in line, line
    if command in ("convert", "dump"):
        assert not (tmp_path / "out.rdb").exists() and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("name", REPRESENTATIVE[:4])
def test_corpus_on_the_pure_python_backend(name: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.rdb"
    path.write_bytes(H.hostile_rdbs()[name])
    for command in ("check", "dump"):
        proc = run("rdbtool", *rdbtool_args(command, path, tmp_path), pure=True)
        assert "(key b's')" in one_line(proc, "rdbtool", {3})


# --------------------------------------------------------------------------- the stream lie in AOFs

NEGATIVE_FIELDS = H.STREAM_NODES["master fields -4"]


def _preamble_aof(tmp: Path) -> Path:
    p = tmp / "appendonly.aof"
    p.write_bytes(H.stream_rdb(NEGATIVE_FIELDS) + H.resp(b"SET", b"a", b"1"))
    return p


def _manifest_base(tmp: Path) -> Path:
    d = tmp / "appendonlydir"
    d.mkdir()
    (d / "appendonly.aof.1.base.rdb").write_bytes(H.stream_rdb(NEGATIVE_FIELDS))
    (d / "appendonly.aof.1.incr.aof").write_bytes(b"")
    (d / "appendonly.aof.manifest").write_bytes(
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n")
    return d


@pytest.mark.parametrize("make", [_preamble_aof, _manifest_base], ids=["preamble", "base"])
def test_stream_lie_in_an_aof(make: object, tmp_path: Path) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    for command in AOF_COMMANDS:
        line = one_line(run("aoftool", command, str(path)), "aoftool", {3})
        assert "(key b's')" in line and "stream node" in line, line
    for command in ("check", "dump", "info"):
        line = one_line(run("rdbtool", command, str(path)), "rdbtool", {3})
        assert "(key b's')" in line, line


def test_stream_lie_in_a_restore_payload(tmp_path: Path) -> None:
    """``aoftool check`` decodes RESTORE payloads: the AOF is not "ok". Replaying it,
    the RESTORE fails as on a server that checks payloads, and has no effect."""
    path = tmp_path / "restore.aof"
    path.write_bytes(H.stream_restore_aof(NEGATIVE_FIELDS) + H.resp(b"SET", b"a", b"1"))
    line = one_line(run("aoftool", "check", str(path)), "aoftool", {3})
    assert "restore.aof@0x17: RESTORE payload: stream node" in line and "(key b's')" in line
    proc = run("rdbtool", "dump", str(path))
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    assert b'"key":"a"' in proc.stdout and b'"key":"s"' not in proc.stdout
    good = tmp_path / "good.aof"
    good.write_bytes(H.stream_restore_aof(H.GOOD_NODE))
    proc = run("aoftool", "check", str(good))
    assert proc.returncode == 0 and b"ok" in proc.stdout, proc.stderr


# ------------------------------------------------------------------- what one record may cost


@pytest.mark.parametrize("command", ["check", "dump", "info", "memory"])
def test_lzf_zero_bomb_reads_within_the_cap(command: str, tmp_path: Path) -> None:
    """3 MB of LZF inflating to 275 MB of zeros: one copy of the string at most."""
    path = tmp_path / "bomb.rdb"
    path.write_bytes(H.lzf_zero_bomb(3))
    args = ["dump", str(path), "-o", os.devnull] if command == "dump" else [command, str(path)]
    proc = run("rdbtool", *args)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("command", ["check", "dump", "info", "memory", "convert"])
def test_lzf_bomb_over_the_string_limit(command: str, tmp_path: Path) -> None:
    path = tmp_path / "bomb.rdb"
    path.write_bytes(H.lzf_zero_bomb(7))
    proc = run("rdbtool", *rdbtool_args(command, path, tmp_path))
    line = one_line(proc, "rdbtool", {6})
    assert "exceeds the limit 536870912" in line and "(key b'z')" in line


@pytest.mark.parametrize("command", ["check", "dump", "info", "memory"])
def test_listpack_of_twelve_million_entries(command: str, tmp_path: Path) -> None:
    """The 12-million-entry listpack hash of a few hundred KB: read in runs, within the
    cap (it needed ~1.9 GB when decoded whole)."""
    path = tmp_path / "bomb.rdb"
    path.write_bytes(H.lzf_listpack_bomb())
    assert path.stat().st_size < 600_000
    args = ["dump", str(path), "-o", os.devnull] if command == "dump" else [command, str(path)]
    proc = run("rdbtool", *args)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _piped(prefix: bytes, zeros: int, tool: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``tool`` reading ``prefix`` then ``zeros`` zero bytes from a pipe (written by a
    shell, so the test never holds them)."""
    producer = subprocess.Popen(
        ["sh", "-c", f'printf "$1"; head -c {zeros} /dev/zero', "sh",
         "".join(f"\\{b:03o}" for b in prefix)],
        stdout=subprocess.PIPE)
    assert producer.stdout is not None
    try:
        return run(tool, *args, stdin_fd=producer.stdout.fileno())
    finally:
        producer.stdout.close()
        producer.kill()
        producer.wait()


@pytest.mark.parametrize("command", ["check", "dump", "info"])
def test_length_claim_on_stdin_is_not_buffered(command: str) -> None:
    """A 2^39-byte key followed by 1.5 GB of zeros on a pipe: refused from the claim."""
    prefix = b"REDIS0009\xfe\x00\x00\x81" + (2**39).to_bytes(8, "big")
    proc = _piped(prefix, 1_500_000_000, "rdbtool", command, "-")
    line = one_line(proc, "rdbtool", {6})
    assert line.startswith("rdbtool: -@0x15: a string of 549755813888 bytes exceeds the limit")


@pytest.mark.parametrize("command", AOF_COMMANDS)
def test_bulk_length_claim_on_stdin_is_not_buffered(command: str) -> None:
    """``$1099511627776`` then 1.5 GB of zeros: read past (not kept), then refused."""
    proc = _piped(b"*2\r\n$3\r\nGET\r\n$1099511627776\r\n", 1_500_000_000,
                  "aoftool", command, "-")
    line = one_line(proc, "aoftool", {3})
    assert "-@0x1d: a bulk string of 1099511627776 bytes is longer than 536870912" in line


def test_memory_error_is_one_line(tmp_path: Path) -> None:
    """Under a cap (200 MiB) too small for the 275 MB string, running out of memory is one line
    and exit 6, not a traceback."""
    path = tmp_path / "bomb.rdb"
    path.write_bytes(H.lzf_zero_bomb(3))

    def small_cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (200 << 20, 200 << 20))

    proc = subprocess.run(_cmd("rdbtool", "check", str(path)), capture_output=True,
                          env=helpers.cli_env(), timeout=TIMEOUT, preexec_fn=small_cap,
                          check=False)
    line = one_line(proc, "rdbtool", {6}, offset=False)
    assert "out of memory" in line


# --------------------------------------------------------------------------- not regular files


def _multi(tmp: Path) -> Path:
    d = tmp / "appendonlydir"
    shutil.copytree(helpers.FIXTURES / "7.0.15" / "aof-multipart-preamble-yes-rewritten"
                    / "appendonlydir", d)
    return d


NOT_REGULAR = {
    "zero-manifest": ("appendonly.aof.manifest", "/dev/zero"),
    "fifo-manifest": ("appendonly.aof.manifest", None),
    "fifo-incr": ("*.incr.aof", None),
    "zero-base": ("*.base.*", "/dev/zero"),
}
"""What to replace in a multi-part AOF, and by what: a symbolic link to a device, or
(``None``) a FIFO that no one writes."""


@pytest.mark.parametrize("case", sorted(NOT_REGULAR))
def test_not_a_regular_file_in_a_multi_part_aof(case: str, tmp_path: Path) -> None:
    pattern, target = NOT_REGULAR[case]
    d = _multi(tmp_path)
    victim = sorted(d.glob(pattern))[-1]
    victim.unlink()
    if target is None:
        os.mkfifo(victim)
    else:
        victim.symlink_to(target)
    for tool, command in [("aoftool", c) for c in AOF_COMMANDS] + [
            ("rdbtool", "check"), ("rdbtool", "dump"), ("rdbtool", "info")]:
        line = one_line(run(tool, command, str(d)), tool, {3})
        assert "not a regular file" in line, line


# --------------------------------------------------------------------------- empty inputs


EMPTY_RDBTOOL = ["dump", "check", "info", "memory", "convert", "load", "restore", "diff"]


@pytest.mark.parametrize("command", EMPTY_RDBTOOL)
@pytest.mark.parametrize("content", [b"", b" \n\t\n"], ids=["empty", "blank"])
def test_empty_input_for_rdbtool(command: str, content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "in.rdb"
    path.write_bytes(content)
    proc = run("rdbtool", *rdbtool_args(command, path, tmp_path))
    one_line(proc, "rdbtool", rdbtool_codes(command, {3}))
    assert not (tmp_path / "out.rdb").exists()


@pytest.mark.parametrize("command", ["dump", "check", "convert", "load", "restore"])
def test_empty_stdin_for_rdbtool(command: str, tmp_path: Path) -> None:
    proc = run("rdbtool", *rdbtool_args(command, "-", tmp_path), stdin=b"")
    assert one_line(proc, "rdbtool", {3}).startswith("rdbtool: -@0x0:")


@pytest.mark.parametrize("command", AOF_COMMANDS)
def test_empty_input_for_aoftool(command: str, tmp_path: Path) -> None:
    path = tmp_path / "appendonly.aof"
    path.write_bytes(b"")
    if command == "check":
        # the checker says what the server (and redis-check-aof) says: an empty dataset
        for proc in (run("aoftool", "check", str(path)),
                     run("aoftool", "check", "-", stdin=b"")):
            assert proc.returncode == 0, proc.stderr
            assert "empty (0 bytes)" in proc.stdout.decode()
    else:
        assert "empty input" in one_line(run("aoftool", command, str(path)), "aoftool", {3})
        assert "empty input" in one_line(run("aoftool", command, "-", stdin=b""),
                                         "aoftool", {3})
    line = one_line(run("rdbtool", "check", str(path)), "rdbtool", {3})
    assert "empty input" in line
