"""Replay of RedisJSON commands, and commands replay does not model carried verbatim;
checked offline, and against redis-server with the modules (the same commands run live,
then the rewritten AOF loaded)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers_modules import module_args
from helpers_server import raw
from test_aof_support import aoftool

from rdbtools.aof.reader import iter_aof
from rdbtools.errors import UnsupportedType
from rdbtools.events import Command, ModuleValue, NotReplayed, records
from rdbtools.replay import Replayer, replay
from rdbtools.replay.commands.modules import _Carry, command_keys, parse_path


def _cmds(*cmds: tuple[str, ...]) -> list[Command]:
    return [Command(0, tuple(x.encode() for x in c), i) for i, c in enumerate(cmds)]


def _run(*cmds: tuple[str, ...]) -> tuple[dict[bytes, Any], Replayer]:
    r = Replayer(now_ms=1_000_000)
    out: dict[bytes, Any] = {}
    for rec in records(replay(_cmds(*cmds), replayer=r)):
        v = rec.value
        if isinstance(v, ModuleValue):
            assert v.decoded is not None
            out[rec.key] = v.decoded.document
        else:
            out[rec.key] = v
    return out, r


def test_paths() -> None:
    assert parse_path(b"$") == [] and parse_path(b".") == []
    assert parse_path(b"$.a[2].b") == ["a", 2, "b"]
    assert parse_path(b"$['x y'][-1]") == ["x y", -1]
    assert parse_path(b'$["q"]') == ["q"]
    assert parse_path(b".a.b") == ["a", "b"] and parse_path(b"a") == ["a"]
    for other in (b"$..a", b"$.a[*]", b"$.a[0:2]", b"$[?(@.a>1)]", b"$.*", b"$['a\\'b']"):
        with pytest.raises(_Carry):
            parse_path(other)


JSON_CASE = [
    ("JSON.SET", "d", "$", '{"a": [1, 2, {"b": "x"}], "n": 1, "o": {"p": true}, "u": "é"}'),
    ("JSON.SET", "d", "$.a[2].b", '"y"'),
    ("JSON.SET", "d", "$.new", "5"),
    ("JSON.SET", "d", "$.new", "6", "NX"),
    ("JSON.SET", "d", "$.o.q", "[1]", "XX"),
    ("JSON.SET", "d", "$.missing.x", "1"),
    ("JSON.NUMINCRBY", "d", "$.n", "2"),
    ("JSON.NUMINCRBY", "d", "$.n", "0.5"),
    ("JSON.ARRAPPEND", "d", "$.a", "7", '"s"'),
    ("JSON.TOGGLE", "d", "$.o.p"),
    ("JSON.MERGE", "d", "$", '{"o": {"r": 1, "p": null}, "m": null}'),
    ("JSON.DEL", "d", "$.a[0]"),
]
D_AFTER = {"a": [2, {"b": "y"}, 7, "s"], "n": 3.5, "o": {"r": 1}, "u": "é", "new": 5}


def test_json_commands() -> None:
    out, r = _run(
        *JSON_CASE,
        ("JSON.SET", "gone", "$", "1"),
        ("JSON.DEL", "gone"),
        ("JSON.SET", "c", "$", '{"l":[1],"z":3}'),
        ("JSON.CLEAR", "c", "$.l"),
        ("JSON.CLEAR", "c", "$.z"),
        ("JSON.SET", "nokey", "$.a", "1"),  # not at the root of a new key: an error
        ("SET", "s", "v"),
        ("JSON.SET", "s", "$", "1"),  # WRONGTYPE
    )
    assert out[b"d"] == D_AFTER
    assert out[b"c"] == {"l": [], "z": 0}
    assert b"gone" not in out and b"nokey" not in out
    assert r.errors == {"JSON.SET": 2} and not r.carried


def test_unmodelled_forms_are_carried_with_later_commands() -> None:
    out, r = _run(
        ("JSON.SET", "e", "$", '{"k":[1,2,3]}'),
        ("JSON.SET", "e", "$..k", "0"),  # recursive descent: not modelled
        ("JSON.SET", "e", "$.k", "1"),  # modelled, but e is carried now
        ("BF.ADD", "bf", "x"),
        ("SET", "plain", "1"),
        ("RENAME", "bf", "bf2"),  # a core command naming a carried key
        ("SET", "bf2", "again"),  # a destination it may have created
        ("CMS.MERGE", "dst", "2", "s1", "s2", "WEIGHTS", "1", "2"),
    )
    assert out[b"plain"] == b"1"
    e = out[b"e"]
    assert isinstance(e, NotReplayed)
    assert e.names == {"JSON.SET": 2}
    assert [c.args[0] for c in r.carried] == [b"JSON.SET", b"JSON.SET", b"BF.ADD", b"RENAME",
                                             b"SET", b"CMS.MERGE"]
    assert isinstance(out[b"bf"], NotReplayed) and out[b"bf"].names == {"BF.ADD": 1, "RENAME": 1}
    assert isinstance(out[b"bf2"], NotReplayed) and out[b"bf2"].names == {"RENAME": 1, "SET": 1}
    assert {b"dst", b"s1", b"s2"} <= set(out)
    assert command_keys((b"JSON.MSET", b"a", b"$", b"1", b"b", b"$", b"2")) == [b"a", b"b"]
    # the base: what the key held before its first carried command
    base = r.db(0)[b"e"].value.base
    assert base is not None and base.value.decoded.document == {"k": [1, 2, 3]}


def test_flush_ends_carried_commands() -> None:
    out, r = _run(("BF.ADD", "bf", "x"), ("FLUSHALL",), ("SET", "k", "v"), ("BF.ADD", "b2", "y"),
                  ("SELECT", "0"), ("FLUSHDB",), ("SET", "a", "1"))
    assert out == {b"a": b"1"} and r.carried == [] and r.tainted == {}


def test_strict_and_swapdb() -> None:
    with pytest.raises(UnsupportedType, match="unsupported command BF.ADD"):
        list(replay(_cmds(("BF.ADD", "bf", "x")), strict=True))
    with pytest.raises(UnsupportedType, match="SWAPDB"):
        list(replay(_cmds(("BF.ADD", "bf", "x"), ("SWAPDB", "0", "bf"))))


# --------------------------------------------------------------------------- live

LIVE = [
    *JSON_CASE,
    ("JSON.SET", "big", "$", json.dumps({"x": list(range(300)), "f": 1.5e300, "i": -2**62})),
    ("JSON.SET", "e", "$", '{"k": [1, 2, 3], "s": "ab"}'),
    ("JSON.STRAPPEND", "e", "$.s", '"cd"'),
    ("JSON.SET", "e", "$..k", "0"),
    ("JSON.CLEAR", "e", "$"),
    ("JSON.SET", "g", "$", '{"x": 1, "y": 2}'),
    ("PEXPIREAT", "g", "4102444800000"),
    ("JSON.FORGET", "g", "$.x"),
    ("BF.ADD", "bf", "x"),
    ("RENAME", "bf", "bf2"),
    ("CF.ADD", "cf", "y"),
    ("SET", "plain", "1"),
    ("INCR", "plain"),
    ("DEL", "plain"),
    ("SET", "plain", "2"),
]


def _view(client: Any) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for key in sorted(client.keys("*")):
        t = raw(client, "TYPE", key)
        if t == b"ReJSON-RL":
            out[key] = json.loads(raw(client, "JSON.GET", key, "$"))[0]
        elif t == b"MBbloom--":
            out[key] = raw(client, "BF.EXISTS", key, "x")
        elif t == b"MBbloomCF":
            out[key] = raw(client, "CF.EXISTS", key, "y")
        else:
            out[key] = raw(client, "DUMP", key)
        out[key] = (t, raw(client, "PTTL", key) > 0, out[key])
    return out


def test_live_json_commands_replay_and_rewrite(redis_server_factory: Any,
                                               tmp_path: Path) -> None:
    args = [*module_args(), "--enable-debug-command", "yes", "--appendonly", "yes"]
    first = tmp_path / "first"
    first.mkdir()
    with redis_server_factory(*args, "--dir", str(first)) as server:
        c = server.client
        for cmd in LIVE:
            c.execute_command(*cmd)
        live = _view(c)
        digest = raw(c, "DEBUG", "DIGEST")
        assert live[b"d"][2] == D_AFTER
    aof = first / "appendonlydir"
    r = Replayer()
    r.apply(iter_aof(str(aof)))
    for key in (b"d", b"big", b"g"):
        o = r.db(0)[key]
        assert o.value.decoded.document == live[key][2], key
    assert r.db(0)[b"e"].type == "not-replayed"
    second = tmp_path / "second"
    shutil.copytree(first, second)
    run = aoftool("rewrite", str(second / "appendonlydir"))
    assert run.returncode == 0, run.stderr
    with redis_server_factory(*args, "--dir", str(second)) as server:
        assert _view(server.client) == live
        assert raw(server.client, "DEBUG", "DIGEST") == digest
