"""The replay command table: built from the commands modules' own tables, one handler per
name, and the table a ``Replayer`` dispatches through."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

from rdbtools.events import Command
from rdbtools.replay import COMMANDS, Replayer
from rdbtools.replay import commands as commands_pkg
from rdbtools.replay.commands import merge


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(commands_pkg.__path__))


def test_the_table_is_the_union_of_the_modules_tables() -> None:
    union: dict[bytes, object] = {}
    for name in _modules():
        table = importlib.import_module(f"rdbtools.replay.commands.{name}").COMMANDS
        assert table, name
        assert not union.keys() & table.keys(), name
        union.update(table)
    assert union == COMMANDS


def test_a_name_in_two_tables_is_refused() -> None:
    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        return None

    with pytest.raises(ValueError, match="SET has two handlers"):
        merge({b"GET": h, b"SET": h}, {b"SET": h})


def test_a_replayer_dispatches_through_its_table() -> None:
    seen: list[list[bytes]] = []

    def h(r: Replayer, db: int, a: list[bytes], off: int) -> None:
        seen.append(a)

    r = Replayer(commands={b"SET": h})
    r.apply([Command(0, (b"SET", b"k", b"v"), 0), Command(0, (b"DEL", b"k"), 10)])
    assert seen == [[b"k", b"v"]]
    assert [bytes(c.args[0]) for c in r.carried] == [b"DEL"]  # not in this table: carried
    o = r.dbs[0][b"k"]
    assert o.type == "not-replayed"
    assert o.value.base is None  # SET went to h, not to the default table's SET


@pytest.mark.parametrize("module", ["rdbtools.replay", "rdbtools.replay.commands",
                                    *[f"rdbtools.replay.commands.{m}" for m in _modules()]])
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    """No circle: any module of the package can be the first one imported."""
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
