"""``rdbtool dump / check / info`` through click's CliRunner and as subprocesses, on
real fixture files: every format, the filters, stdin, streaming and the help texts."""

from __future__ import annotations

import base64
import contextlib
import json
import select
import subprocess
import threading
from pathlib import Path

import pytest
from cli_support import parse_resp, strings_rdb
from click.testing import CliRunner
from helpers import FIXTURES, cli_env, rdbtool_cmd, run_rdbtool

from rdbtools.cli import rdbtool

SMALL = FIXTURES / "7.4.1" / "small-encodings.rdb"
OLD = FIXTURES / "3.2.13" / "small-encodings.rdb"

pytestmark = pytest.mark.skipif(not SMALL.is_file(), reason=f"fixture {SMALL} not found")


def invoke(*args: str, stdin: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(rdbtool.main, list(args), input=stdin)
    return result.exit_code, result.stdout_bytes, result.stderr


def jsonl(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.decode().splitlines()]


def keys_of(out: bytes) -> list[tuple[object, object]]:
    return [(o["db"], o["key"]) for o in jsonl(out) if "key" in o]


def test_dump_defaults_to_jsonl() -> None:
    code, out, err = invoke("dump", str(SMALL))
    assert code == 0 and err == ""
    lines = jsonl(out)
    assert lines[0] == {"record": "header", "magic": "REDIS", "version": 12}
    assert lines[-1]["record"] == "end" and lines[-1]["checksum_state"] == "ok"
    assert len([o for o in lines if "key" in o]) == 113
    code2, out2, _ = invoke("dump", str(SMALL), "--jsonl")
    assert code2 == 0 and out2 == out


def test_dump_json_document() -> None:
    code, out, _ = invoke("dump", str(SMALL), "--json")
    assert code == 0
    doc = json.loads(out)
    assert sorted(doc["dbs"]) == ["0", "1", "15"]
    assert sum(len(v) for v in doc["dbs"].values()) == 113
    assert [r["record"] for r in doc["records"]].count("function") == 2


def test_dump_resp_and_keys() -> None:
    code, out, err = invoke("dump", str(SMALL), "--resp")
    assert code == 0 and err == ""
    commands = parse_resp(out)
    assert commands[0][:3] == [b"FUNCTION", b"LOAD", b"REPLACE"]
    assert [c[1] for c in commands if c[0] == b"SELECT"] == [b"0", b"1", b"15"]
    assert any(c[0] == b"HPEXPIREAT" for c in commands)
    code, out, _ = invoke("dump", str(SMALL), "--keys")
    assert code == 0 and out.count(b"\n") == 113
    assert b"key:bin\x00\xff\xfe:name\n" in out


def test_one_format_only() -> None:
    code, _, err = invoke("dump", str(SMALL), "--json", "--resp")
    assert code == 2 and "choose one output format" in err


def test_filters_on_dump() -> None:
    _, out, _ = invoke("dump", str(SMALL), "--db", "1", "--db", "15")
    assert {db for db, _ in keys_of(out)} == {1, 15}
    _, out, _ = invoke("dump", str(SMALL), "--key", "str:int:*")
    assert keys_of(out) and all(str(k).startswith("str:int:") for _, k in keys_of(out))
    _, out, _ = invoke("dump", str(SMALL), "--key-regex", "^zset:(small|geo)$")
    assert sorted(k for _, k in keys_of(out)) == ["zset:geo", "zset:small"]
    _, out, _ = invoke("dump", str(SMALL), "--type", "stream", "--type", "set")
    assert {o["type"] for o in jsonl(out) if "key" in o} == {"stream", "set"}
    # binary key names: the pattern is matched on bytes
    _, out, _ = invoke("dump", str(SMALL), "--key", "key:bin*", "--keys")
    assert out == b"key:bin\x00\xff\xfe:name\n"
    # file-level records pass every filter
    _, out, _ = invoke("dump", str(SMALL), "--type", "module")
    assert keys_of(out) == [] and jsonl(out)[0]["record"] == "header"


def test_no_expired_and_now() -> None:
    _, out, _ = invoke("dump", str(SMALL))
    ttls = sorted(o["expire_at_ms"] for o in jsonl(out) if o.get("expire_at_ms") is not None)
    assert len(ttls) >= 2
    cut = ttls[1]  # keys expiring before this are dropped, the one at it is kept
    _, out, _ = invoke("dump", str(SMALL), "--no-expired", "--now", str(cut))
    kept = [o["expire_at_ms"] for o in jsonl(out) if o.get("expire_at_ms") is not None]
    assert sorted(kept) == [t for t in ttls if t >= cut]
    _, out, _ = invoke("dump", str(SMALL), "--no-expired", "--now", "0")
    assert len(keys_of(out)) == 113


def test_check() -> None:
    code, out, err = invoke("check", str(SMALL))
    text = out.decode()
    assert code == 0 and err == ""
    assert text.startswith(f"{SMALL}: ok\n")
    assert "RDB version 12" in text and "redis-ver=7.4.1" in text
    assert "db0: 105 keys, db1: 6 keys, db15: 2 keys" in text
    assert "keys        113 (" in text and "functions   2 libraries" in text
    assert "checksum    ok (CRC64 verified)" in text
    code, out, _ = invoke("check", str(SMALL), "--no-verify", "--type", "list")
    assert code == 0 and "keys        8 (" in out.decode() and "not verified" in out.decode()
    code, out, _ = invoke("check", str(OLD))
    assert code == 0 and "none (RDB version < 5" not in out.decode()  # 3.2 writes RDB 7


def test_info() -> None:
    code, out, err = invoke("info", str(SMALL), "--top", "3")
    text = out.decode()
    assert code == 0 and err == ""
    assert "keys: 113," in text and "biggest keys (top 3" in text and "str:random:long" in text
    code, out, _ = invoke("info", str(SMALL), "--json", "--top", "2", "--now", "0")
    report = json.loads(out)
    assert report["keys"] == 113 and len(report["top"]) == 2
    assert report["top"][0]["bytes"] >= report["top"][1]["bytes"]
    assert report["now_ms"] == 0 and report["ttl"]["expired"] == 0
    assert sum(t["keys"] for t in report["types"].values()) == 113
    assert report["ttl"]["hashes_with_field_ttl"] >= 1
    assert {"keys", "min", "p50", "p90", "p99", "max"} == set(report["elements"]["list"])
    binary = [t for t in report["top"] if isinstance(t["key"], dict)]
    for t in binary:
        base64.b64decode(t["key"]["b64"])
    _, out, _ = invoke("info", str(SMALL), "--json", "--db", "15")
    assert json.loads(out)["keys"] == 2


def test_stdin_gives_the_same_output() -> None:
    data = SMALL.read_bytes()
    _, from_path, _ = invoke("dump", str(SMALL))
    code, from_stdin, _ = invoke("dump", "-", stdin=data)
    assert code == 0 and from_stdin == from_path
    proc = run_rdbtool("dump", "-", stdin=data)
    assert proc.returncode == 0 and proc.stdout == from_path


def test_subprocess_every_command() -> None:
    for args in (["dump", "--resp"], ["dump", "--keys"], ["dump", "--json"], ["check"], ["info"]):
        proc = run_rdbtool(args[0], str(OLD), *args[1:])
        assert proc.returncode == 0 and proc.stderr == b"" and proc.stdout, args


def test_output_is_streamed() -> None:
    """Keys come out of the pipe while the input is still arriving: the test holds back
    the last part of a 4 MB input until it has read the first key line."""
    data = strings_rdb(4000, 1000)
    held_back = len(data) - 1_500_000
    release = threading.Event()
    proc = subprocess.Popen(
        [*rdbtool_cmd(), "dump", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=cli_env()
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError):
            stdin.write(data[:held_back])
            stdin.flush()
            release.wait(60)
            stdin.write(data[held_back:])
            stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        first_key = None
        while first_key is None:
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            assert ready, "no output within 30 s while the input was held back"
            line = json.loads(proc.stdout.readline())
            first_key = line.get("key")
        assert first_key == "k0" and not release.is_set()
        release.set()
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == 0 and rest.count(b'"key"') == 3999
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        feeder.join(10)


def test_broken_pipe_is_quiet() -> None:
    proc = subprocess.Popen(
        [*rdbtool_cmd(), "dump", str(SMALL)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and err == b""


def test_help_and_version() -> None:
    code, out, _ = invoke("--help")
    assert code == 0 and all(c in out.decode() for c in ("dump", "check", "info"))
    for cmd in ("dump", "check", "info"):
        code, out, _ = invoke(cmd, "--help")
        assert code == 0 and "--key-regex" in out.decode() and "--no-expired" in out.decode()
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith(b"rdbtool, version ")


def test_every_fixture_in_every_format(tmp_path: Path) -> None:
    """Each format parses back on every real-server fixture."""
    files = sorted(FIXTURES.glob("*/*.rdb"))
    assert files
    for f in files:
        for fmt in ("jsonl", "json", "resp", "keys"):
            code, out, err = invoke("dump", str(f), f"--{fmt}")
            assert code == 0 and err == "", (f, fmt, err)
            if fmt == "jsonl":
                jsonl(out)
            elif fmt == "json":
                json.loads(out)
            elif fmt == "resp":
                parse_resp(out)
        for cmd in (["check"], ["info", "--json"]):
            code, out, err = invoke(cmd[0], str(f), *cmd[1:])
            assert code == 0 and err == "", (f, cmd, err)
