"""``rdbtool info`` on an AOF: a replayed key's serialized size is the size of the record
the RDB writer writes for it, never a placeholder 0."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from helpers import FIXTURES

from rdbtools.cli.rdbtool import main
from rdbtools.events import Event, Header, KeyEnd, KeyStart
from rdbtools.ops.inputs import open_input
from rdbtools.ops.rdb_sizes import DEFAULT_VERSION, with_rdb_sizes
from rdbtools.rdb.reader import read_rdb
from rdbtools.rdb.writer import write_rdb

AOFS = [
    FIXTURES / "7.0.15" / "aof-multipart-preamble-no-writes" / "appendonlydir",
    FIXTURES / "7.0.15" / "aof-multipart-preamble-yes-rewritten" / "appendonlydir",
    FIXTURES / "6.2.14" / "aof-single-preamble-no-writes" / "appendonly.aof",
]


def sizes(events: list[Event]) -> dict[tuple[int, bytes], int]:
    out: dict[tuple[int, bytes], int] = {}
    db = 0
    for ev in events:
        if isinstance(ev, KeyStart):
            db = ev.db
        elif isinstance(ev, KeyEnd):
            out[db, ev.key] = ev.size
    return out


@pytest.mark.parametrize("aof", AOFS, ids=lambda p: p.parent.name)
def test_replayed_sizes_are_the_written_records(aof: object) -> None:
    if not aof.exists():  # type: ignore[attr-defined]
        pytest.skip(f"{aof} not found")
    events = list(open_input(str(aof)))
    assert sizes(events) and set(sizes(events).values()) == {0}
    version = next((ev.version for ev in events if isinstance(ev, Header)), DEFAULT_VERSION)
    version = version if version in range(6, 13) else DEFAULT_VERSION
    got = sizes(list(with_rdb_sizes(events)))
    buf = io.BytesIO()
    write_rdb(events, buf, version)
    want = sizes(list(read_rdb(io.BytesIO(buf.getvalue()))))
    assert got == want
    assert all(size > 0 for size in got.values())


def test_info_on_an_aof_lists_real_sizes() -> None:
    aof = AOFS[0]
    if not aof.exists():
        pytest.skip(f"{aof} not found")
    r = CliRunner().invoke(main, ["info", str(aof), "--json", "--top", "5"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    events = list(open_input(str(aof)))
    want = sizes(list(with_rdb_sizes(events)))
    assert report["bytes"] == sum(want.values()) > 0
    assert [(k["db"], k["key"].encode(), k["bytes"]) for k in report["top"]] == sorted(
        ((db, key, size) for (db, key), size in want.items()), key=lambda x: -x[2])[:5]
    assert all(t["bytes"] > 0 for t in report["types"].values())
    r = CliRunner().invoke(main, ["info", str(aof), "--top", "5"])
    lines = r.stdout.splitlines()
    top = lines[lines.index(next(ln for ln in lines if ln.startswith("biggest keys"))) + 2:]
    assert len(top) >= 5 and all(int(ln.split()[0]) > 0 for ln in top[:5])
