"""``aoftool rewrite`` / ``rdbtools.ops.aof_rewrite``: every AOF fixture rewritten in each
format reads back (our reader + replay) to the keyspace of the original; the multi-part
swap leaves the manifest and files the server would; the AOF writer writes the commands
of ``rewriteAppendOnlyFileRio``; errors write nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import RESP_DIGESTS, aof_path, canon_record, pinned_fixture
from test_aof_support import AofFixture, aof_fixtures, copy_tree, resp, simple_parse

from rdbtools.aof import read_aof
from rdbtools.aof.commands import score_text
from rdbtools.aof.manifest import load_manifest
from rdbtools.aof.swap import manifest_line
from rdbtools.aof.writer import AofWriter
from rdbtools.cli.aoftool import main
from rdbtools.errors import WriteError
from rdbtools.events import (
    Event,
    Function,
    HashFields,
    KeyEnd,
    KeyStart,
    ListItems,
    ModuleValue,
    StreamConsumer,
    StreamEntries,
    StreamEntry,
    StreamGroup,
    StreamMeta,
    StreamPending,
    StringValue,
    ZSetMembers,
    records,
)
from rdbtools.ops.aof_rewrite import _write_aof, aof_rewrite
from rdbtools.replay import Obj, Replayer, replay

FORMATS = ("aof", "preamble", "rdb")
FIXTURES = aof_fixtures()


def keyspace(path: str | Path, *, stream_v1: bool = False
             ) -> tuple[dict[tuple[int, bytes], dict[str, Any]], list[bytes]]:
    """What our reader + replay make of an AOF: canonical records (consumer seen and
    active times, the replay's clock, left out) and the function libraries. With
    ``stream_v1`` the stream counters that servers before 7.0 do not keep (entries added,
    max deleted id, entries read) are left out too."""
    events = list(replay(read_aof(str(path))))
    out = {}
    for r in records(events):
        c = canon_record(r)
        if c["type"] == "stream":
            for g in c["value"]["groups"].values():
                for cons in g["consumers"].values():
                    cons["seen_time_ms"] = cons["active_time_ms"] = None
                if stream_v1:
                    g["entries_read"] = None
            if stream_v1:
                c["value"]["entries_added"] = c["value"]["max_deleted_id"] = None
        out[(r.db, r.key)] = c
    functions = sorted(bytes(e.code) for e in events if isinstance(e, Function))
    return out, functions


def _diff(a: dict[Any, Any], b: dict[Any, Any]) -> list[str]:
    problems = [f"only in original: {k!r}" for k in a.keys() - b.keys()]
    problems += [f"only in rewrite: {k!r}" for k in b.keys() - a.keys()]
    problems += [f"{k!r}: {a[k]!r:.300} != {b[k]!r:.300}" for k in a.keys() & b.keys()
                 if a[k] != b[k]]
    return problems


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fx", [pytest.param(f, id=f.id) for f in FIXTURES])
def test_fixture_rewrite_reads_back_the_same(fx: AofFixture, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"out.{fmt}"
    report = aof_rewrite(str(fx.path), output=str(out), format=fmt)
    assert report.losses == ()
    # the server that wrote it: the input's RDB version (at least 7.0's in a multi-part
    # AOF); else 12 for the field TTLs of 7.4 / 8.0, 10 for another multi-part AOF, 9
    # (6.2) for a single file
    rdb = [f for f in fx.files if f.read_bytes()[:5] == b"REDIS"]
    if rdb:
        rdb_version = int(rdb[0].read_bytes()[5:9])
        want_version = str(max(rdb_version, 10) if fx.multipart else rdb_version)
    elif fx.multipart:
        want_version = "12" if fx.id.startswith(("7.4", "8.0")) else "10"
    else:
        want_version = "9"
    assert report.version == want_version, report.reason
    old = report.version == "9"
    want, want_functions = keyspace(fx.path, stream_v1=old)
    got, got_functions = keyspace(out, stream_v1=old)
    assert report.keys == len(want) > 0
    assert not _diff(want, got), "\n".join(_diff(want, got)[:10])
    assert got_functions == want_functions
    assert report.after == (("out." + fmt, out.stat().st_size),)
    assert report.size_before == sum(p.stat().st_size for p in fx.files)
    with open(out, "rb") as fp:
        head = fp.read(5)
    assert (head == b"REDIS") == (fmt != "aof")
    if fmt == "aof":
        # an input with #TS: annotations gives a rewrite that starts with one
        assert (head == b"#TS:1") == ("-timestamps-" in fx.id)


@pytest.mark.parametrize("fx", [pytest.param(f, id=f.id) for f in FIXTURES])
def test_plain_keys_fast_path_writes_what_the_events_write(fx: AofFixture) -> None:
    """``aof_rewrite`` writes strings, lists, sets, sorted sets and plain hashes
    straight from the keyspace (``AofWriter.write_plain``): byte for byte what the
    writer makes of the same keys' events."""
    replayer = Replayer()
    replayer.apply(read_aof(str(fx.path)))
    for version in (9, 10, 12):
        slow, fast = io.BytesIO(), io.BytesIO()
        AofWriter(slow, version).write_all(replayer.events())
        _write_aof(replayer, fast, version, None, False)
        assert fast.getvalue() == slow.getvalue()
        assert len(slow.getvalue()) > 0


def test_plain_keys_fast_path_batches_and_empty_keys() -> None:
    replayer = Replayer()
    replayer.dbs = {0: {b"l": Obj("list", [b"%d" % i for i in range(130)], 5),
                        b"h": Obj("hash", {b"f%d" % i: (b"v", None) for i in range(65)}),
                        b"z": Obj("zset", {b"a": -0.0, b"b": 1.5}),
                        b"e": Obj("set", set())},
                    3: {b"s": Obj("string", b"x", None)}}
    for zero in (False, True):
        replayer.listpack_zero = zero
        slow, fast = io.BytesIO(), io.BytesIO()
        slow_report = AofWriter(slow, 10).write_all(replayer.events())
        fast_report = _write_aof(replayer, fast, 10, None, False)
        assert fast.getvalue() == slow.getvalue()
        assert fast_report.keys == slow_report.keys == 4
        assert fast_report.dropped_keys == slow_report.dropped_keys == 1
    cmds = [c.args for c in simple_parse(fast.getvalue())]
    names = [c[0] for c in cmds]
    assert names.count(b"RPUSH") == 3 and names.count(b"HMSET") == 2
    assert (b"ZADD", b"z", b"0", b"a", b"1.5", b"b") in cmds
    assert (b"PEXPIREAT", b"l", b"5") in cmds


@pytest.mark.parametrize("fmt", FORMATS)
def test_multipart_in_place(fmt: str, tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.id == "7.0.15/aof-multipart-preamble-yes-rewritten")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    want = keyspace(d)
    report = aof_rewrite(str(d), format=fmt)
    suffix = "aof" if fmt == "aof" else "rdb"
    assert sorted(os.listdir(d)) == [f"appendonly.aof.3.base.{suffix}",
                                     "appendonly.aof.3.incr.aof", "appendonly.aof.manifest"]
    assert (d / "appendonly.aof.manifest").read_bytes() == (
        f"file appendonly.aof.3.base.{suffix} seq 3 type b\n"
        "file appendonly.aof.3.incr.aof seq 3 type i\n").encode()
    assert (d / "appendonly.aof.3.incr.aof").stat().st_size == 0
    assert report.removed == ("appendonly.aof.2.incr.aof", "appendonly.aof.2.base.rdb")
    assert report.size_before == 31016
    assert report.size_after == (d / f"appendonly.aof.3.base.{suffix}").stat().st_size
    assert keyspace(d) == want
    base = (d / f"appendonly.aof.3.base.{suffix}").read_bytes()
    if fmt == "preamble":
        assert b"aof-base\xc0\x01" in base[:200]  # AUX aof-base = 1, as a 7.0 base
    elif fmt == "rdb":
        assert b"aof-base\xc0\x00" in base[:200]


def test_keep_history_lists_old_files_as_the_server_does(tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.id == "7.0.15/aof-multipart-preamble-no-writes")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    want = keyspace(d)
    report = aof_rewrite(str(d / "appendonly.aof.manifest"), format="preamble",
                         keep_history=True)
    assert report.history == ("appendonly.aof.1.incr.aof", "appendonly.aof.1.base.aof")
    assert (d / "appendonly.aof.manifest").read_text() == (
        "file appendonly.aof.2.base.rdb seq 2 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type h\n"
        "file appendonly.aof.1.base.aof seq 1 type h\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n")
    assert (d / "appendonly.aof.1.incr.aof").exists()
    assert keyspace(d) == want
    # a second rewrite drops all history, as aofDelHistoryFiles does
    report = aof_rewrite(str(d), format="aof")
    assert set(report.removed) == {"appendonly.aof.1.incr.aof", "appendonly.aof.1.base.aof",
                                   "appendonly.aof.2.incr.aof", "appendonly.aof.2.base.rdb"}
    assert sorted(os.listdir(d)) == ["appendonly.aof.3.base.aof", "appendonly.aof.3.incr.aof",
                                     "appendonly.aof.manifest"]
    assert keyspace(d) == want


def test_leftovers_of_an_interrupted_rewrite_are_replaced(tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.id == "7.0.15/aof-multipart-preamble-yes-writes")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    want = keyspace(d)
    (d / "appendonly.aof.2.base.rdb").write_bytes(b"REDIS0010 half")
    # with -o the directory is not touched, the leftover is only not read
    report = aof_rewrite(str(d), output=str(tmp_path / "out.aof"))
    assert report.leftovers == () and keyspace(tmp_path / "out.aof") == want
    assert (d / "appendonly.aof.2.base.rdb").read_bytes() == b"REDIS0010 half"
    report = aof_rewrite(str(d), format="preamble")
    assert report.leftovers == ("appendonly.aof.2.base.rdb",)
    assert keyspace(d) == want


def test_single_file_in_place(tmp_path: Path) -> None:
    """A 6.2 AOF without a preamble is rewritten for 6.2, as commands (what its own
    rewrite writes), and the original is kept beside it until the new file is in
    place; the format and version follow the input after that too."""
    fx = next(f for f in FIXTURES if f.id == "6.2.14/aof-single-preamble-no-rewritten")
    p = copy_tree(fx.path, tmp_path / "appendonly.aof")
    original = p.read_bytes()
    want = keyspace(p, stream_v1=True)
    report = aof_rewrite(str(p), now=0)
    assert (report.version, report.format, report.server) == ("9", "aof", "Redis 6.2")
    assert "a single file: written by Redis 6.2 or older" in report.reason
    assert report.output == str(p) and report.losses == ()
    backup = tmp_path / "appendonly.aof.bak.19700101T000000Z"
    assert report.backup == str(backup) == report.original
    assert backup.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["appendonly.aof", backup.name]
    assert report.size_before == 68024 and report.size_after == p.stat().st_size
    data = p.read_bytes()
    assert b"ENTRIESADDED" not in data and b"ENTRIESREAD" not in data  # 6.2's forms
    assert b"XSETID" in data and b"XGROUP" in data
    assert keyspace(p, stream_v1=True) == want
    report = aof_rewrite(str(p), format="preamble", now=1)
    assert (report.version, report.format) == ("9", "preamble")
    assert p.read_bytes().startswith(b"REDIS0009")
    assert keyspace(p, stream_v1=True) == want
    # an RDB preamble gives a preamble, of its own version
    report = aof_rewrite(str(p), now=2)
    assert (report.version, report.format, report.server) == ("9", "preamble", "Redis 6.2.14")
    assert report.reason == "written by the RDB preamble (RDB 9, Redis 6.2.14)"
    assert len(os.listdir(tmp_path)) == 4
    report = aof_rewrite(str(p), to_version="10", now=3)
    assert report.reason == "given with --to-version" and report.format == "preamble"
    assert p.read_bytes().startswith(b"REDIS0010")
    assert keyspace(p, stream_v1=True) == want


def test_stdin(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="standard input"):
        aof_rewrite("-")
    res = CliRunner().invoke(main, ["rewrite", "-"])
    assert res.exit_code == 2 and "give -o OUT" in res.output
    data = resp(b"SET", b"a", b"1") + resp(b"SET", b"a", b"2") + resp(b"RPUSH", b"l", b"x")
    out = tmp_path / "out.aof"
    res = CliRunner().invoke(main, ["rewrite", "-", "-o", str(out)], input=data)
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == resp(b"SELECT", b"0") + resp(b"SET", b"a", b"2") + \
        resp(b"RPUSH", b"l", b"x")


# --------------------------------------------------------------------------- the writer


def _commands(events: list[Event], version: int | str = 10) -> list[tuple[bytes, ...]]:
    buf = io.BytesIO()
    w = AofWriter(buf, version)
    w.write_all(events)
    return [c.args for c in simple_parse(buf.getvalue())]


def _key(t: str, key: bytes = b"k", db: int = 0, expire: int | None = None,
         rdb_type: int = 0) -> KeyStart:
    return KeyStart(db, key, t, "x", rdb_type, expire)


def test_batches_of_64_and_pexpireat() -> None:
    items = tuple(b"%d" % i for i in range(130))
    cmds = _commands([_key("list", expire=123), ListItems(items[:100]), ListItems(items[100:]),
                      KeyEnd(b"k", 0, 0)])
    assert cmds[0] == (b"SELECT", b"0")
    assert cmds[1] == (b"RPUSH", b"k", *items[:64])
    assert cmds[2] == (b"RPUSH", b"k", *items[64:128])
    assert cmds[3] == (b"RPUSH", b"k", *items[128:])
    assert cmds[4] == (b"PEXPIREAT", b"k", b"123")
    assert len(cmds) == 5


def test_select_per_database_and_scores() -> None:
    cmds = _commands([_key("string", b"a"), StringValue(b"1"), KeyEnd(b"a", 0, 0),
                      _key("zset", b"z", db=3),
                      ZSetMembers(((b"m", 0.1), (b"n", float("-inf")), (b"o", -0.0))),
                      KeyEnd(b"z", 0, 0)])
    assert cmds == [(b"SELECT", b"0"), (b"SET", b"a", b"1"), (b"SELECT", b"3"),
                    (b"ZADD", b"z", b"0.10000000000000001", b"m", b"-inf", b"n", b"-0", b"o")]
    assert score_text(0.1, True, b"z") == b"0.1"
    assert score_text(0.1, False, b"z") == b"0.10000000000000001"
    with pytest.raises(WriteError, match="key b'z'"):
        score_text(float("nan"), False, b"z")


def test_hash_field_ttls_field_by_field() -> None:
    fields = ((b"a", b"1", None), (b"b", b"2", 99), (b"c", b"3", None))
    events: list[Event] = [_key("hash", rdb_type=25), HashFields(fields), KeyEnd(b"k", 0, 0)]
    assert _commands(events, 12)[1:] == [
        (b"HMSET", b"k", b"a", b"1"), (b"HMSET", b"k", b"b", b"2"),
        (b"HPEXPIREAT", b"k", b"99", b"FIELDS", b"1", b"b"), (b"HMSET", b"k", b"c", b"3")]
    buf = io.BytesIO()
    w = AofWriter(buf, 10)
    w.write_all([_key("hash"), HashFields(fields), KeyEnd(b"k", 0, 0)])
    assert w.report.lines() == [
        "db 0 key b'k': TTL of field b'b' dropped: servers before 7.4 have no field TTLs"]
    with pytest.raises(WriteError):
        AofWriter(io.BytesIO(), 10, strict=True).write_all(
            [_key("hash"), HashFields(fields), KeyEnd(b"k", 0, 0)])


def _stream(entries: tuple[StreamEntry, ...], with_group: bool = True) -> list[Event]:
    group = StreamGroup(b"g", (5, 0), 2,
                        (StreamPending((1, 1), b"c2", 1000, 3),),
                        (StreamConsumer(b"c2", 1, 1, ((1, 1),)),
                         StreamConsumer(b"c1", 1, 1, ())))
    evs: list[Event] = [_key("stream", b"s")]
    if entries:
        evs.append(StreamEntries(entries))
    evs.append(StreamMeta(len(entries), (5, 0), None, (2, 0), 4))
    if with_group:
        evs.append(group)
    evs.append(KeyEnd(b"s", 0, 0))
    return evs


CLAIM = (b"XCLAIM", b"s", b"g", b"c2", b"0", b"1-1", b"TIME", b"1000", b"RETRYCOUNT", b"3",
         b"JUSTID", b"FORCE")


def test_stream_as_rewrite_stream_object() -> None:
    e = StreamEntry((1, 1), ((b"f", b"v"),))
    assert _commands(_stream((e,)))[1:] == [
        (b"XADD", b"s", b"1-1", b"f", b"v"),
        (b"XSETID", b"s", b"5-0", b"ENTRIESADDED", b"4", b"MAXDELETEDID", b"2-0"),
        (b"XGROUP", b"CREATE", b"s", b"g", b"5-0", b"ENTRIESREAD", b"2"),
        (b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"c1"), CLAIM]
    assert _commands(_stream((), with_group=False), 9)[1:] == [
        (b"XADD", b"s", b"MAXLEN", b"0", b"0-1", b"x", b"y"), (b"XSETID", b"s", b"5-0")]


def test_pending_entry_of_a_deleted_entry_is_kept() -> None:
    """The entry is added for XCLAIM to take, then deleted; XSETID comes last."""
    e = StreamEntry((3, 0), ((b"f", b"v"),))
    assert _commands(_stream((e,)))[1:] == [
        (b"XADD", b"s", b"1-1", b"x", b"y"),
        (b"XADD", b"s", b"3-0", b"f", b"v"),
        (b"XGROUP", b"CREATE", b"s", b"g", b"5-0", b"ENTRIESREAD", b"2"),
        (b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"c1"), CLAIM,
        (b"XTRIM", b"s", b"MINID", b"3-0"),
        (b"XSETID", b"s", b"5-0", b"ENTRIESADDED", b"4", b"MAXDELETEDID", b"2-0")]
    assert _commands(_stream(()), 9)[1:] == [
        (b"XADD", b"s", b"1-1", b"x", b"y"), (b"XGROUP", b"CREATE", b"s", b"g", b"5-0"),
        (b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"c1"), CLAIM,
        (b"XTRIM", b"s", b"MAXLEN", b"0"), (b"XSETID", b"s", b"5-0")]


def test_big_stream_spools_to_a_file() -> None:
    big = tuple(StreamEntry((i, 0), ((b"f", b"v" * 1000),)) for i in range(1, 9001))
    events = _stream(big)
    cmds = _commands(events)
    assert len(cmds) == 1 + 9001 + 5
    assert cmds[1] == (b"XADD", b"s", b"1-0", b"f", b"v" * 1000)
    assert cmds[2] == (b"XADD", b"s", b"1-1", b"x", b"y")  # pending, not an entry: kept
    assert cmds[9001] == (b"XADD", b"s", b"9000-0", b"f", b"v" * 1000)
    assert [c[0] for c in cmds[9002:]] == [b"XGROUP", b"XGROUP", b"XCLAIM", b"XDEL", b"XSETID"]
    assert cmds[-2] == (b"XDEL", b"s", b"1-1")


def test_losses_and_functions() -> None:
    buf = io.BytesIO()
    w = AofWriter(buf, 9, timestamp=1700000000)
    w.write_all([Function(b"#!lua name=l\nredis.register_function('f', function() end)"),
                 _key("module"), ModuleValue(1, "m", 0, b""), KeyEnd(b"k", 0, 0),
                 _key("list", b"e"), KeyEnd(b"e", 0, 0)])
    assert buf.getvalue() == b"#TS:1700000000\r\n"
    assert len(w.report.losses) == 3 and w.report.dropped_keys == 2 and w.keys == 0
    buf = io.BytesIO()
    AofWriter(buf, 10).write_all([Function(b"#!lua name=l\ncode")])
    assert buf.getvalue() == resp(b"FUNCTION", b"LOAD", b"#!lua name=l\ncode")


def test_manifest_line_quotes_as_sdscatrepr() -> None:
    assert manifest_line("appendonly.aof.2.base.rdb", 2, "base") == \
        b"file appendonly.aof.2.base.rdb seq 2 type b\n"
    assert manifest_line("my file\x01.aof", 3, "history") == \
        b'file "my file\\x01.aof" seq 3 type h\n'
    # and our own parser (the server's rules) reads it back
    from rdbtools.aof.manifest import parse_manifest
    m = parse_manifest(manifest_line("a b\".aof", 1, "base"), "x.manifest")
    assert m.base is not None and m.base.name == 'a b".aof'


# --------------------------------------------------------------------------- CLI and errors


def test_cli_text_and_json(tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.id == "7.0.15/aof-multipart-preamble-no-writes")
    out = tmp_path / "small.aof"
    res = CliRunner().invoke(main, ["rewrite", str(fx.path), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["keys"] == 114 and doc["size_after"] == out.stat().st_size
    assert doc["size_before"] == 78642 and doc["layout"] == "multi"
    res = CliRunner().invoke(main, ["rewrite", str(out), "--format", "rdb"])
    assert res.exit_code == 0, res.output
    assert "114 keys" in res.stdout and f"size    {doc['size_after']} -> " in res.stdout
    assert out.read_bytes().startswith(b"REDIS0010")


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "missing", "manifest"])
def test_damaged_input_writes_nothing(damage: str, tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.id == "7.0.15/aof-multipart-preamble-yes-rewritten")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    incr = d / "appendonly.aof.2.incr.aof"
    if damage == "truncated":
        # cut inside the RDB base: not the last file, so not repairable either
        base = d / "appendonly.aof.2.base.rdb"
        base.write_bytes(base.read_bytes()[:-100])
    elif damage == "corrupt":
        incr.write_bytes(incr.read_bytes()[:50] + b"?" + incr.read_bytes()[51:])
    elif damage == "missing":
        incr.unlink()
    else:
        (d / "appendonly.aof.manifest").write_text("file x seq 0 type b\n")
    listing = {p.name: p.read_bytes() for p in d.iterdir()}
    res = CliRunner().invoke(main, ["rewrite", str(d), "--format", "preamble"])
    assert res.exit_code == 3, res.output
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("aoftool: ")
    assert "Traceback" not in res.output
    assert {p.name: p.read_bytes() for p in d.iterdir()} == listing
    out = tmp_path / "out.aof"
    res = CliRunner().invoke(main, ["rewrite", str(d), "-o", str(out)])
    assert res.exit_code == 3 and not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["appendonlydir"]


def test_unreadable_input_and_bad_version(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["rewrite", str(tmp_path / "nope.aof")])
    assert res.exit_code == 8 and "nope.aof" in res.stderr
    assert os.listdir(tmp_path) == []
    res = CliRunner().invoke(main, ["rewrite", str(tmp_path), "--to-version", "13"])
    assert res.exit_code == 2


def test_unknown_command(tmp_path: Path) -> None:
    p = tmp_path / "a.aof"
    original = resp(b"SET", b"a", b"1") + resp(b"NOSUCHCMD", b"x")
    p.write_bytes(original)
    res = CliRunner().invoke(main, ["rewrite", str(p), "--strict"])
    assert res.exit_code == 5 and f"{p}@0x1b: replay: unsupported command NOSUCHCMD" in res.stderr
    assert p.read_bytes() == original
    # by default the command is kept as it was, after the keys replay computed
    res = CliRunner().invoke(main, ["rewrite", str(p)])
    assert res.exit_code == 0 and "not replayed, kept as they were: NOSUCHCMD x1" in res.stdout
    assert p.read_bytes() == resp(b"SELECT", b"0") + resp(b"SET", b"a", b"1") \
        + resp(b"NOSUCHCMD", b"x")
    p.write_bytes(original)
    res = CliRunner().invoke(main, ["rewrite", str(p), "--skip-unknown"])
    assert res.exit_code == 0 and "NOSUCHCMD x1" in res.stdout
    assert p.read_bytes() == resp(b"SELECT", b"0") + resp(b"SET", b"a", b"1")
    assert load_manifest is not None


def test_docs_rewrite_example(tmp_path: Path) -> None:
    """The ``aoftool rewrite`` examples of docs/aof.md (also run with all the others by
    test_aof_docs)."""
    import test_cli_docs
    from helpers import REPO

    blocks = [b for b in test_cli_docs.console_blocks(REPO / "docs" / "aof.md")
              if any(cmd.startswith("aoftool rewrite") for cmd, _ in b)]
    assert blocks
    for n, block in enumerate(blocks):
        d = tmp_path / str(n)
        d.mkdir()
        test_cli_docs.test_example(block, d)


@pytest.mark.parametrize("version", ["7.0.15", "7.2.6", "7.4.1"])
def test_writer_takes_rdb_reader_events(version: str, tmp_path: Path) -> None:
    """An RDB fixture written by the AOF writer replays to the same keys (stream consumer
    times and the first id, which commands do not set, left out)."""
    from helpers import FIXTURES

    from rdbtools import read_rdb
    from rdbtools.replay import Replayer

    rdb = FIXTURES / version / "small-encodings.rdb"
    target = int(rdb.read_bytes()[5:9])
    out = tmp_path / "out.aof"
    with open(out, "wb") as fp:
        writer = AofWriter(fp, target)
        assert writer.write_all(read_rdb(str(rdb))).losses == []

    def canon(recs: Any) -> dict[tuple[int, bytes], Any]:
        got = {}
        for r in recs:
            c = canon_record(r)
            if c["type"] == "stream":
                c["value"]["first_id"] = None
                for g in c["value"]["groups"].values():
                    for cons in g["consumers"].values():
                        cons["seen_time_ms"] = cons["active_time_ms"] = None
            got[(r.db, r.key)] = c
        return got

    replayer = Replayer(listpack_zero=True)
    got = canon(records(replay(read_aof(str(out)), replayer=replayer)))
    want = canon(records(read_rdb(str(rdb))))
    assert writer.keys == len(want) > 100
    assert not _diff(want, got), "\n".join(_diff(want, got)[:10])


# --------------------------------------------------------------------------- target


def _origin(tmp_path: Path, files: dict[str, bytes]) -> Any:
    """The report of rewriting ``files`` (one file: a single AOF; else a multi-part
    directory whose manifest lists them in order) to an output file."""
    if len(files) == 1:
        (name, data), = files.items()
        p = tmp_path / name
        p.write_bytes(data)
    else:
        p = tmp_path / "appendonlydir"
        p.mkdir()
        lines = []
        for n, (name, data) in enumerate(files.items(), 1):
            (p / name).write_bytes(data)
            lines.append(f"file {name} seq {n} type {'b' if '.base.' in name else 'i'}\n")
        (p / "appendonly.aof.manifest").write_text("".join(lines))
    return aof_rewrite(str(p), output=str(tmp_path / "out.aof"))


SET = resp(b"SET", b"k", b"v") + resp(b"XADD", b"s", b"1-1", b"f", b"v")


@pytest.mark.parametrize("files,version,server,why", [
    ({"a.aof": SET}, "9", "Redis 6.2", "a single file: written by Redis 6.2 or older"),
    ({"a.aof": b"#TS:1700000000\r\n" + SET}, "10", "Redis 7.0", "#TS: annotations"),
    ({"a.aof": SET +
      resp(b"XSETID", b"s", b"1-1", b"ENTRIESADDED", b"1", b"MAXDELETEDID", b"0-0")},
     "10", "Redis 7.0", "XSETID ... ENTRIESADDED (Redis 7.0+)"),
    ({"a.aof": resp(b"xadd", b"s", b"1-1", b"f", b"v") +
      resp(b"xgroup", b"create", b"s", b"g", b"0", b"entriesread", b"0")},
     "10", "Redis 7.0", "XGROUP ... ENTRIESREAD"),
    ({"a.aof": SET + resp(b"HSET", b"h", b"f", b"v") +
      resp(b"HPEXPIREAT", b"h", b"4000000000000", b"FIELDS", b"1", b"f")},
     "12", "Redis 7.4", "HPEXPIREAT (Redis 7.4+)"),
    ({"appendonly.aof.1.base.aof": b"", "appendonly.aof.1.incr.aof": SET}, "10", "Redis 7.0",
     "a multi-part AOF (Redis 7.0+); no RDB part: assumed the oldest such server"),
])
def test_target_from_the_evidence(files: dict[str, bytes], version: str, server: str,
                                  why: str, tmp_path: Path) -> None:
    report = _origin(tmp_path, files)
    assert (report.version, report.server) == (version, server), report.reason
    assert why in report.reason
    assert report.format == "aof" and "no RDB part" in report.format_reason
    data = (tmp_path / "out.aof").read_bytes()
    assert b"XSETID" in data and (b"ENTRIESADDED" in data) == (version != "9")



@pytest.mark.parametrize("first,then", [(b"HPERSIST", b"HPEXPIREAT"),
                                        (b"HPEXPIREAT", b"HPERSIST")])
def test_the_first_command_of_the_level_is_named(first: bytes, then: bytes,
                                                 tmp_path: Path) -> None:
    """Two commands of the same newer server in one batch: the reason names the one the
    file has first, the same on every run."""
    ttl = {b"HPERSIST": (), b"HPEXPIREAT": (b"4000000000000",)}
    data = resp(b"HSET", b"h", b"f", b"v") + b"".join(
        resp(name, b"h", *ttl[name], b"FIELDS", b"1", b"f") for name in (first, then))
    report = _origin(tmp_path, {"a.aof": data})
    assert report.reason.startswith(f"{first.decode()} (Redis 7.4+); no RDB part"), report.reason


def test_target_from_the_rdb_part(tmp_path: Path) -> None:
    """A 6.2 preamble in a single file: 6.2; the same as the base of a multi-part AOF (a
    6.2 server upgraded to 7.0): 7.0, which reads it now; the format stays an RDB."""
    fx = next(f for f in FIXTURES if f.id == "6.2.14/aof-single-preamble-yes-rewritten")
    one = tmp_path / "one"
    one.mkdir()
    report = _origin(one, {"appendonly.aof": fx.path.read_bytes()})
    assert (report.version, report.server, report.format) == ("9", "Redis 6.2.14", "preamble")
    assert report.reason == "written by the RDB preamble (RDB 9, Redis 6.2.14)"
    multi = tmp_path / "multi"
    multi.mkdir()
    report = _origin(multi, {"appendonly.aof.1.base.rdb": fx.path.read_bytes(),
                             "appendonly.aof.1.incr.aof": SET})
    assert (report.version, report.server, report.format) == ("10", "Redis 7.0", "preamble")
    assert report.reason == ("the RDB base (RDB 9, Redis 6.2.14) is read by Redis 7.0+ now: "
                             "a multi-part AOF (Redis 7.0+)")


@pytest.mark.parametrize("fx", [pytest.param(f, id=f.id) for f in FIXTURES
                                if f.multipart and f.id.startswith("7.0.15/")])
def test_multipart_keeps_its_base_format(fx: AofFixture, tmp_path: Path) -> None:
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    base = next(n for n in os.listdir(d) if ".base." in n)
    res = CliRunner().invoke(main, ["rewrite", str(d), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["server"] == "Redis 7.0.15" if base.endswith(".rdb") else "Redis 7.0"
    assert res.stderr.startswith(f"aoftool: target {doc['server']} (RDB 10, format ")
    assert doc["format"] == ("preamble" if base.endswith(".rdb") else "aof")
    new_base = next(n for n in os.listdir(d) if ".base." in n)
    assert new_base.endswith(base[-4:]) and new_base != base
    assert "removed once the new manifest was in place" in doc["original"]


def test_strict_refuses_a_loss_and_writes_nothing(tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.id == "7.0.15/aof-multipart-preamble-yes-rewritten")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    listing = {p.name: p.read_bytes() for p in d.iterdir()}
    res = CliRunner().invoke(main, ["rewrite", str(d), "--to-version", "9", "--strict"])
    assert res.exit_code == 7, res.output
    assert res.stderr.count("\n") == 1 and "function library dropped" in res.stderr
    assert {p.name: p.read_bytes() for p in d.iterdir()} == listing
    out = tmp_path / "out.aof"
    res = CliRunner().invoke(main, ["rewrite", str(d), "-o", str(out), "--to-version", "9"])
    assert res.exit_code == 0, res.output
    assert "aoftool: target Redis 6.2 (RDB 9, format preamble): given with --to-version" \
        in res.stderr
    assert "aoftool: warning: lost: function library dropped" in res.stderr
    assert out.read_bytes().startswith(b"REDIS0009")
    res = CliRunner().invoke(main, ["rewrite", str(d), "--to-version", "9"])
    assert res.exit_code == 0, res.output
    assert "warning: a server before 7.0 reads no multi-part AOF" in res.stderr


@pytest.mark.parametrize("name", ["appendonly.aof.1.incr.aof", "appendonly.aof.2.base.rdb",
                                  "appendonly.aof.manifest", "appendonly.aof.9.incr.aof",
                                  "other.manifest"])
def test_output_into_the_input_is_refused(name: str, tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.id == "7.0.15/aof-multipart-preamble-yes-rewritten")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    listing = {p.name: p.read_bytes() for p in d.iterdir()}
    res = CliRunner().invoke(main, ["rewrite", str(d), "-o", str(d / name)])
    assert res.exit_code == 2, res.output
    assert "is a file of the AOF" in res.stderr
    assert {p.name: p.read_bytes() for p in d.iterdir()} == listing
    with pytest.raises(ValueError, match="is a file of the AOF"):
        aof_rewrite(str(d), output=str(d / name))
    # another name in the directory is not a part: allowed
    res = CliRunner().invoke(main, ["rewrite", str(d), "-o", str(d / "copy.rdb"),
                                    "--format", "rdb"])
    assert res.exit_code == 0, res.output


def test_output_equal_to_a_single_input_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "appendonly.aof"
    p.write_bytes(SET)
    res = CliRunner().invoke(main, ["rewrite", str(p), "-o", str(p)])
    assert res.exit_code == 2 and "omit -o to rewrite it in place" in res.stderr
    assert p.read_bytes() == SET and os.listdir(tmp_path) == ["appendonly.aof"]


def test_temporary_files_of_killed_runs_are_removed(tmp_path: Path) -> None:
    """A temporary file nobody holds is a killed writer's: the next run removes it; one
    that a writer holds (its flock) is left alone."""
    import fcntl

    p = tmp_path / "appendonly.aof"
    p.write_bytes(SET)
    stale = tmp_path / ".appendonly.aof.rewrite-dead.tmp"
    stale.write_bytes(b"x" * 100)
    busy = tmp_path / ".appendonly.aof.rewrite-busy.tmp"
    busy.write_bytes(b"y")
    other = tmp_path / ".other.aof.rewrite-x.tmp"
    other.write_bytes(b"z")
    with open(busy, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        report = aof_rewrite(str(p), now=0)
    assert report.leftovers == (stale.name,)
    assert not stale.exists() and busy.exists() and other.exists()
    d = copy_tree(next(f for f in FIXTURES
                       if f.id == "7.0.15/aof-multipart-preamble-yes-rewritten").path,
                  tmp_path / "appendonlydir")
    for name in ("temp-appendonly.aof.3.base.rdb.abc.tmp", "temp-appendonly.aof.manifest.tmp"):
        (d / name).write_bytes(b"half")
    report = aof_rewrite(str(d))
    assert sorted(report.leftovers) == ["temp-appendonly.aof.3.base.rdb.abc.tmp",
                                        "temp-appendonly.aof.manifest.tmp"]
    assert not [n for n in os.listdir(d) if n.startswith("temp-")]


@pytest.mark.parametrize("case", sorted(RESP_DIGESTS["aoftool rewrite"]))
def test_fixture_rewrite_bytes_are_pinned(case: str, tmp_path: Path) -> None:
    """``aoftool rewrite -o --format aof`` of every AOF fixture for each target server
    writes the same bytes as ever (``tests/resp_digests.json``; an RDB output holds the
    time it was written, so it has no fixed bytes)."""
    rel, fmt, version = case.split(" ")
    out = tmp_path / "out"
    aof_rewrite(str(aof_path(pinned_fixture(rel))), output=str(out), format=fmt,
                to_version=None if version == "default" else version)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == RESP_DIGESTS["aoftool rewrite"][case]
