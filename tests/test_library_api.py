"""The library surface: ``rdbtools.convert`` to a path (atomic, like ``-o``),
``dir(rdbtools)`` listing the lazily loaded names, and the key-renaming migration of
``docs/cli.md`` run as written."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from helpers import FIXTURES, REPO, cli_env

import rdbtools
from rdbtools.errors import WriteError
from rdbtools.events import Event, KeyEnd, KeyStart, Record, records
from rdbtools.ops.diff import collect, diff_events
from rdbtools.rdb.reader import read_rdb
from rdbtools.rdb.writer import write_rdb

SMALL = FIXTURES / "7.4.1" / "small-encodings.rdb"
BULL = REPO.parent / "shared" / "fixtures" / "bullmq-7.0.15" / "snap1.rdb"


def test_dir_lists_the_lazy_names() -> None:
    names = dir(rdbtools)
    for name in ("diff_files", "aof_rewrite", "memory_rows", "open_input", "convert",
                 "read_rdb", "__version__"):
        assert name in names
    assert names == sorted(names)
    assert set(rdbtools.__all__) <= set(names)


NOT_LOADED = ("rdbtools.aof", "rdbtools.replay", "rdbtools.memory", "rdbtools.diff",
              "rdbtools.ops", "redis", "pyarrow")
"""What ``import rdbtools`` (and reading an RDB with it) must not import."""


def _loaded_after(code: str) -> list[str]:
    """The modules of ``NOT_LOADED``, or inside them, that a fresh interpreter holds after
    running ``code``."""
    probe = (f"import json, sys\n{code}\n"
             "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=REPO, env=cli_env()).stdout
    return [m for m in json.loads(out)
            if any(m == n or m.startswith(n + ".") for n in NOT_LOADED)]


def test_import_loads_only_the_rdb_reader() -> None:
    assert _loaded_after("import rdbtools") == []
    read = f"import rdbtools\nfor r in rdbtools.records(rdbtools.read_rdb({str(SMALL)!r})): pass"
    assert _loaded_after(read) == []
    # the probe sees a lazily loaded name pull its modules in
    used = _loaded_after("import rdbtools\nrdbtools.aof_check")
    assert "rdbtools.aof" in used and "rdbtools.ops.aof_check" in used


def test_the_surface() -> None:
    """Every public name resolves to the object of the module the reference names, and
    stays bound once loaded."""
    import importlib

    from rdbtools import _LAZY

    assert len(rdbtools.__all__) == len(set(rdbtools.__all__))
    assert set(_LAZY) <= set(rdbtools.__all__)
    for name, module in _LAZY.items():
        assert getattr(rdbtools, name) is getattr(importlib.import_module(module), name)
        assert name in vars(rdbtools)
    assert rdbtools.events is importlib.import_module("rdbtools.events")
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        rdbtools.no_such_name  # noqa: B018


def test_a_moved_name_warns_and_resolves() -> None:
    from rdbtools.ops.filters import KeyFilter

    with pytest.warns(DeprecationWarning, match="from rdbtools.ops.filters import KeyFilter"):
        assert rdbtools.KeyFilter is KeyFilter
    assert "KeyFilter" not in rdbtools.__all__ and "KeyFilter" not in dir(rdbtools)


def test_convert_to_a_path(tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    report = rdbtools.convert(read_rdb(str(SMALL)), out, version=12)
    assert report.keys > 100
    buf = io.BytesIO()
    rdbtools.convert(read_rdb(str(SMALL)), buf, version=12)
    # the same keys as written to a file object (the bytes differ only by the ctime AUX)
    want = list(records(read_rdb(io.BytesIO(buf.getvalue()))))
    assert list(records(read_rdb(str(out)))) == want
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.rdb"]
    # onto the file it reads: complete, never half-written
    same = rdbtools.convert(read_rdb(str(out)), str(out), version=12)
    assert same.keys == report.keys and list(records(read_rdb(str(out)))) == want


def test_convert_to_a_path_fails_whole(tmp_path: Path) -> None:
    out = tmp_path / "out.rdb"
    out.write_bytes(b"old content")
    with pytest.raises(WriteError):
        rdbtools.convert(read_rdb(str(SMALL)), str(out), version=11, strict=True)
    assert out.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.rdb"]


def doc_script() -> str:
    text = (REPO / "docs" / "cli.md").read_text()
    section = text[text.index("### From Python: renaming keys"):]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m is not None
    return m.group(1)


def _keys(path: Path) -> dict[bytes, Record]:
    return {r.key: r for r in records(read_rdb(str(path)))}


def _bullmq_like(path: Path) -> None:
    def key(name: bytes, tp: str, values: list[object]) -> list[object]:
        return [KeyStart(0, name, tp, "raw", 0), *values, KeyEnd(name, 0, 0)]

    from rdbtools.events import HashFields, ListItems, StringValue

    events: list[object] = [
        *key(b"bull:emails:1", "hash",
             [HashFields(((b"name", b"send", None), (b"data", b"{}", None)))]),
        *key(b"bull:emails:wait", "list", [ListItems((b"1", b"2"))]),
        *key(b"bull:emails:id", "string", [StringValue(b"2")]),
        *key(b"bull:images:1", "hash", [HashFields(((b"name", b"resize", None),))]),
    ]
    with open(path, "wb") as fp:
        write_rdb(events, fp, 10)  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["made", "bullmq"])
def test_the_documented_rename(source: str, tmp_path: Path) -> None:
    dump = tmp_path / "dump.rdb"
    if source == "bullmq":
        if not BULL.is_file():
            pytest.skip(f"{BULL} not found")
        shutil.copyfile(BULL, dump)
    else:
        _bullmq_like(dump)
    proc = subprocess.run([sys.executable, "-c", doc_script()], cwd=tmp_path, env=cli_env(),
                          capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    old, new = b"bull:emails:", b"bull:emails-v2:"
    before, after = _keys(dump), _keys(tmp_path / "migrated.rdb")
    assert any(k.startswith(old) for k in before)
    assert sorted(after) == sorted(new + k[len(old):] if k.startswith(old) else k
                                   for k in before)

    def moved(events: Iterable[Event]) -> Iterator[Event]:
        for ev in events:
            if isinstance(ev, (KeyStart, KeyEnd)) and ev.key.startswith(old):
                ev = dataclasses.replace(ev, key=new + ev.key[len(old):])
            yield ev

    # the values, compared as the server sees them, are those of the renamed keys
    changes, summary = collect(diff_events(moved(read_rdb(str(dump))),
                                           read_rdb(str(tmp_path / "migrated.rdb"))))
    assert changes == [] and summary.keys_equal == len(after)
    assert proc.stdout.decode() == f"{len(after)} keys written, 0 losses\n"
    assert sorted(os.listdir(tmp_path)) == ["dump.rdb", "migrated.rdb"]


def test_a_command_loads_what_it_uses() -> None:
    """``rdbtool check`` does not load the memory model, the diff, the replay, the server
    connection or ``ssl``; ``rdbtool memory`` does load the model when it runs."""
    check = ("import contextlib, io, sys\nfrom rdbtools.cli.rdbtool import main\n"
             f"sys.argv = ['rdbtool', 'check', {str(SMALL)!r}]\n"
             "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
             "    try:\n        main()\n    except SystemExit:\n        pass\n"
             "assert out.getvalue()")
    loaded = _loaded_after(check)
    for absent in ("rdbtools.memory", "rdbtools.diff", "rdbtools.replay", "rdbtools.ops.restore",
                   "rdbtools.ops.connection", "redis", "pyarrow"):
        assert not any(m == absent or m.startswith(absent + ".") for m in loaded), absent
    memory = check.replace("'check'", "'memory', '--csv', '-o', '/dev/null'").replace(
        "assert out.getvalue()", "")
    assert "rdbtools.memory.model" in _loaded_after(memory)


def test_aoftool_check_loads_no_replay() -> None:
    """``aoftool check`` (without ``--replay``) does not load the replay or the rewrite."""
    aof = FIXTURES / "7.0.15" / "aof-multipart-preamble-yes-writes" / "appendonlydir"
    probe = ("import contextlib, io, sys\nfrom rdbtools.cli.aoftool import main\n"
             f"sys.argv = ['aoftool', 'check', {str(aof)!r}]\n"
             "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
             "    try:\n        main()\n    except SystemExit:\n        pass\n"
             "assert out.getvalue()")
    loaded = _loaded_after(probe)
    assert not [m for m in loaded if m.startswith(("rdbtools.replay", "rdbtools.ops.aof_rewrite"))]
    assert "rdbtools.replay" in _loaded_after(probe.replace("'check', ", "'check', '--replay', "))
