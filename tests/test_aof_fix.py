"""``aoftool fix``: truncation and salvage never in place (backup, fsync, rename), only
the last file, and the result is accepted by ``redis-check-aof`` and loaded by a live
``/usr/bin/redis-server`` (Redis 7.0.15) with the data expected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_aof_support import (
    aof_fixtures,
    copy_tree,
    live_server,
    needs_rca,
    rca,
    resp,
    server_available,
)

from rdbtools.aof import read_aof
from rdbtools.errors import AofFixError
from rdbtools.events import Command
from rdbtools.ops.aof_check import aof_check
from rdbtools.ops.aof_fix import aof_fix

ALL = {f.id: f for f in aof_fixtures()}
live = pytest.mark.skipif(server_available() is not None, reason=str(server_available()))


def keys_aof(n: int, *, start: int = 0) -> bytes:
    out = [resp(b"SELECT", b"0")]
    for i in range(start, start + n):
        out.append(resp(b"SET", b"key:%d" % i, b"value %d\r\nwith a newline" % i))
        if i % 10 == 0:
            out += [resp(b"MULTI"), resp(b"INCR", b"counter"), resp(b"RPUSH", b"l", b"%d" % i),
                    resp(b"EXEC")]
    return b"".join(out)


def test_nothing_to_fix(tmp_path: Path) -> None:
    p = tmp_path / "a.aof"
    p.write_bytes(keys_aof(5))
    report = aof_fix(str(p))
    assert report.file is None
    assert os.listdir(tmp_path) == ["a.aof"]


def test_truncated_tail_backup_and_result(tmp_path: Path) -> None:
    data = keys_aof(50)
    p = tmp_path / "appendonly.aof"
    p.write_bytes(data[:-7])
    p.chmod(0o640)
    dry = aof_fix(str(p), dry_run=True)
    assert dry.backup is None and p.read_bytes() == data[:-7]
    report = aof_fix(str(p), now=86400)
    backup = tmp_path / "appendonly.aof.bak.19700102T000000Z"
    assert report.backup == str(backup)
    assert backup.read_bytes() == data[:-7]
    fixed = p.read_bytes()
    assert data.startswith(fixed) and len(fixed) == report.new_size == report.kept[0][1]
    assert (p.stat().st_mode & 0o777) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["appendonly.aof", backup.name]
    assert aof_check(str(p)).ok
    # a second repair of the same minute gets its own backup name
    p.write_bytes(data[:-3])
    assert aof_fix(str(p), now=86400).backup == str(backup) + ".1"


def test_truncated_inside_multi_drops_the_block(tmp_path: Path) -> None:
    data = keys_aof(11)
    multi = data.rindex(resp(b"MULTI"))
    p = tmp_path / "a.aof"
    p.write_bytes(data[: multi + 30])
    report = aof_fix(str(p))
    assert p.read_bytes() == data[:multi]
    assert report.dropped[0].start == multi


def test_damage_in_a_file_that_is_not_the_last(tmp_path: Path) -> None:
    fx = ALL.get("7.0.15/aof-multipart-preamble-no-rewritten")
    if fx is None:
        pytest.skip("fixture missing")
    d = copy_tree(fx.path, tmp_path / "appendonlydir")
    base = d / fx.files[0].name
    base.write_bytes(base.read_bytes()[:-10])
    before = {n: (d / n).read_bytes() for n in os.listdir(d)}
    with pytest.raises(AofFixError, match="not in the last file"):
        aof_fix(str(d))
    assert {n: (d / n).read_bytes() for n in os.listdir(d)} == before


def test_damaged_preamble_is_not_truncated(tmp_path: Path) -> None:
    fx = ALL.get("6.2.14/aof-single-preamble-yes-rewritten")
    if fx is None:
        pytest.skip("fixture missing")
    p = copy_tree(fx.path, tmp_path / "appendonly.aof")
    p.write_bytes(p.read_bytes()[:20000])
    with pytest.raises(AofFixError, match="cannot be repaired by truncation"):
        aof_fix(str(p))
    assert os.listdir(tmp_path) == ["appendonly.aof"]


def corrupt_middle(n: int = 60) -> tuple[bytes, int, int]:
    """An AOF with garbage in the middle of a command; the byte range of the damage."""
    head, tail = keys_aof(30), keys_aof(n - 30, start=30)[len(resp(b"SELECT", b"0")):]
    bad = resp(b"SET", b"lost", b"x" * 40)
    garbage = bad[:20] + b"\x00garbage\r\n$$$" + bad[30:]
    return head + garbage + tail, len(head), len(head) + len(garbage)


def test_salvage_recovers_every_command_after_the_damage(tmp_path: Path) -> None:
    data, start, end = corrupt_middle()
    p = tmp_path / "a.aof"
    p.write_bytes(data)
    plain = aof_fix(str(p), dry_run=True)
    assert plain.kept == [(0, start)] and plain.warnings
    report = aof_fix(str(p), salvage_commands=True)
    assert [(d.start, d.end) for d in report.dropped] == [(start, end)]
    assert report.kept == [(0, start), (end, len(data))]
    fixed = p.read_bytes()
    assert fixed == data[:start] + data[end:]
    keys = {c.args[1] for c in read_aof(str(p)) if isinstance(c, Command) and c.args[0] == b"SET"}
    assert keys == {b"key:%d" % i for i in range(60)}


def test_salvage_inside_multi_drops_the_whole_block(tmp_path: Path) -> None:
    head = keys_aof(5)
    block = resp(b"MULTI") + resp(b"SET", b"t1", b"1") + resp(b"SET", b"t2", b"2")[:-5] + \
        b"##" + resp(b"SET", b"t3", b"3") + resp(b"EXEC")
    tail = resp(b"SET", b"after", b"1")
    p = tmp_path / "a.aof"
    p.write_bytes(head + block + tail)
    report = aof_fix(str(p), salvage_commands=True)
    assert p.read_bytes() == head + tail
    assert "MULTI block" in report.dropped[0].reason


def test_salvage_warns_about_a_lost_select(tmp_path: Path) -> None:
    bad = resp(b"SELECT", b"4")[:-3] + b"?" + resp(b"SET", b"x", b"1")
    p = tmp_path / "a.aof"
    p.write_bytes(keys_aof(3) + bad)
    report = aof_fix(str(p), salvage_commands=True)
    assert any("SELECT" in w for w in report.warnings)


@needs_rca
def test_fixed_files_pass_redis_check_aof(tmp_path: Path) -> None:
    data, _, _ = corrupt_middle()
    for n, (content, salvage) in enumerate([(data, True), (data, False),
                                            (keys_aof(40)[:-11], False)]):
        p = tmp_path / f"{n}.aof"
        p.write_bytes(content)
        aof_fix(str(p), salvage_commands=salvage)
        result = rca(str(p))
        assert result.rc == 0 and result.diff == 0, result.output


@live
def test_server_loads_fixed_single_file(tmp_path: Path) -> None:
    data, _, _ = corrupt_middle()
    d = tmp_path / "srv"
    d.mkdir()
    p = d / "appendonly.aof"
    p.write_bytes(data)
    aof_fix(str(p), salvage_commands=True)
    (d / next(n for n in os.listdir(d) if ".bak." in n)).unlink()
    with live_server(d, "--aof-load-truncated", "no") as server:
        c = server.client
        assert c.dbsize() == 62  # 60 keys, "counter", "l"
        assert c.get("key:59") == b"value 59\r\nwith a newline"
        assert int(c.get("counter")) == 6
        assert c.get("lost") is None


def _cut_copy(fx_path: Path, multipart: bool, last: Path, d: Path) -> Path:
    """Copy the fixture into ``d`` and cut its last file inside its last command."""
    d.mkdir()
    if multipart:
        target = copy_tree(fx_path, d / "appendonlydir") / last.name
    else:
        target = copy_tree(fx_path, d / "appendonly.aof")
    last_cmd = [c.offset for c in read_aof(str(last)) if isinstance(c, Command)][-1]
    target.write_bytes(target.read_bytes()[: last_cmd + 9])
    return target


def _digest(d: Path, *args: str) -> tuple[int, bytes]:
    with live_server(d, *args) as server:
        return server.client.dbsize(), server.client.execute_command("DEBUG", "DIGEST")


@live
@pytest.mark.parametrize("name", ["6.2.14/aof-single-preamble-yes-rewritten",
                                  "7.0.15/aof-multipart-preamble-yes-writes",
                                  "7.0.15/aof-multipart-preamble-no-timestamps-rewritten"])
def test_server_loads_fixed_fixture(name: str, tmp_path: Path) -> None:
    """A real AOF cut inside its last command: fixed, it loads with
    ``aof-load-truncated no`` into the same data as the server's own repair of the cut
    file (``aof-load-truncated yes``)."""
    fx = ALL.get(name)
    if fx is None:
        pytest.skip("fixture missing")
    ours = _cut_copy(fx.path, fx.multipart, fx.files[-1], tmp_path / "ours")
    _cut_copy(fx.path, fx.multipart, fx.files[-1], tmp_path / "server")
    report = aof_fix(str(ours.parent if fx.multipart else ours))
    assert report.file == str(ours) and report.backup
    os.unlink(report.backup)
    mine = _digest(tmp_path / "ours", "--aof-load-truncated", "no")
    theirs = _digest(tmp_path / "server", "--aof-load-truncated", "yes")
    assert mine == theirs and mine[0] > 0
