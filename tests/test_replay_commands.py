"""The replay command table: built from the commands modules' own tables, one handler per
name, and the table a ``Replayer`` dispatches through."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

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


def test_no_circle_of_imports_in_the_package() -> None:
    """Every import between the package's modules (those under ``if TYPE_CHECKING:`` and
    inside functions too) runs one way: the graph has no cycle. A package's
    ``__init__`` gathering its modules is not an edge back from them."""
    root = Path(commands_pkg.__file__).resolve().parent.parent
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            continue
        name = ".".join(parts)
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    "rdbtools.replay"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    edges.add(sub if _is_module(sub) else node.module)
    assert len(graph) == 19  # 6 beside commands/, 13 in it
    done: set[str] = set()

    def visit(name: str, stack: tuple[str, ...]) -> None:
        assert name not in stack, " -> ".join((*stack, name))
        if name in done:
            return
        for nxt in graph.get(name, ()):
            visit(nxt, (*stack, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:
        return False
