"""Every import inside ``rdbtools/`` runs down the layer order, never up.

The layers, top to bottom (a module may import its own layer and any layer below):

0. ``cli`` — the command-line tools; and the facade ``rdbtools/__init__.py``, which
   may import anything.
1. ``reports`` — text / JSON renderings of what operations return; used by ``cli``.
2. ``ops`` — one library function per command.
3. ``memory``, ``diff`` — the engines behind ``rdbtool memory`` and ``rdbtool diff``:
   ``ops`` (and ``cli``) call them; they read events and use ``formats`` and below,
   never an operation.
4. ``replay`` (``replay.py`` with ``replay_*.py``, or a ``replay/`` package),
   ``formats`` — the AOF command replayer and the event serializers.
5. ``aof``, ``rdb`` — readers and writers of the two file formats.
6. core — every other top-level module or package: ``events``, ``errors``, ``_spec``,
   ``_buffer``, ``atomic``, ``crc64``, ``lzf``, ``_accel``, ``_make``, ``sinks``,
   ``quoting``, ``histogram``, ``clock``, the C extension ``_speedups``.

An import counts wherever it is written: at the top of a module, inside a function
(a lazy import), under ``if TYPE_CHECKING:``, as ``import a.b``, ``from a import b``,
relative (``from ..ops import x``), or as ``importlib.import_module("rdbtools.x")`` with
a literal name. ``from rdbtools import name`` where ``name`` is not a module imports the
facade, which is layer 0. A new top-level module defaults to core, which is sound: a
core module may import only core, so a misplaced one fails here rather than passing.

No circle of modules either, within a layer too: counting the same imports, no module
imports (directly or through others) a module that imports it back.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rdbtools"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"cli", ""}),  # "" is the facade, rdbtools/__init__.py
    frozenset({"reports"}),
    frozenset({"ops"}),
    frozenset({"memory", "diff"}),
    frozenset({"replay", "formats"}),
    frozenset({"aof", "rdb"}),
)
"""Top-level names of each layer, top first; anything else is core (below them all)."""
CORE = len(LAYERS)

ALLOWED: frozenset[tuple[str, str]] = frozenset()
"""``(importer, imported)`` module pairs allowed to import upward, each with the reason
in a comment. Empty: every import runs down."""


@dataclass(frozen=True, order=True)
class Upward:
    """An import that runs up the order."""

    importer: str
    imported: str
    where: str


def layer_of(module: str) -> int:
    """The layer of a dotted module name inside the package (``rdbtools.ops.dump``)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top.startswith("replay_"):
        top = "replay"
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    return CORE


def _module_name(path: Path, package: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    is_init = parts[-1] == "__init__"
    if is_init:
        parts.pop()
    return ".".join(parts), is_init


def _is_module(dotted: str, package: Path) -> bool:
    rel = Path(*dotted.split(".")[1:])
    base = package / rel
    # a C extension counts by its stub (.pyi) as well, so a tree where it is not built
    # reads the same
    return (
        base.with_suffix(".py").is_file()
        or base.with_suffix(".pyi").is_file()
        or (base / "__init__.py").is_file()
        or any(package.joinpath(rel.parent).glob(rel.name + ".*.so"))
    )


def imports_of(path: Path, package: Path) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import of the package in ``path``."""
    name, is_init = _module_name(path, package)
    root = package.name
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_init else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                hit = sub if _is_module(sub, package) else source
                found.append((hit, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno))
    return [(mod, line) for mod, line in found if mod == root or mod.startswith(root + ".")]


def upward_imports(package: Path) -> tuple[list[Upward], int]:
    """Every import in ``package`` that runs up a layer, and how many imports of the
    package were checked."""
    bad: list[Upward] = []
    checked = 0
    for path in sorted(package.rglob("*.py")):
        importer, _ = _module_name(path, package)
        if importer == package.name:
            continue  # the facade may import anything
        for imported, line in imports_of(path, package):
            checked += 1
            if layer_of(imported) < layer_of(importer):
                where = f"{path.relative_to(package.parent)}:{line}"
                bad.append(Upward(importer, imported, where))
    return sorted(bad), checked


def test_imports_run_down_the_layers() -> None:
    bad, checked = upward_imports(PACKAGE)
    assert checked > 500, f"only {checked} imports found under {PACKAGE}"
    unexpected = [u for u in bad if (u.importer, u.imported) not in ALLOWED]
    assert not unexpected, "imports running up the layer order:\n" + "\n".join(
        f"  {u.where}: {u.importer} imports {u.imported}" for u in unexpected
    )
    stale = ALLOWED - {(u.importer, u.imported) for u in bad}
    assert not stale, f"allowed upward imports that no longer occur: {sorted(stale)}"



def import_graph(package: Path) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of the package it imports (any form
    ``imports_of`` counts; a module importing itself is left out)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        importer, _ = _module_name(path, package)
        found = {imported for imported, _ in imports_of(path, package)}
        graph.setdefault(importer, set()).update(found - {importer})
    return graph


def import_circles(package: Path) -> list[list[str]]:
    """The circles of modules in ``package``: each set of two or more modules that all
    reach each other through imports (a strongly connected component), sorted."""
    graph = import_graph(package)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in sorted(graph):
        if root in order:
            continue
        # Tarjan's algorithm, with an explicit stack of (module, its imports left to visit)
        order[root] = low[root] = len(order)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root] & graph.keys())))]
        while work:
            module, rest = work[-1]
            nxt = next(rest, None)
            if nxt is not None:
                if nxt not in order:
                    order[nxt] = low[nxt] = len(order)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt] & graph.keys()))))
                elif nxt in on_stack:
                    low[module] = min(low[module], order[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == order[module]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == module:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return sorted(circles)


def test_no_circle_of_modules() -> None:
    graph = import_graph(PACKAGE)
    assert sum(map(len, graph.values())) > 500, f"only a few imports found under {PACKAGE}"
    circles = import_circles(PACKAGE)
    shown = "\n".join("  " + " <-> ".join(c) for c in circles)
    assert not circles, f"modules that import each other (directly or through others):\n{shown}"


def test_checker_reports_circles(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "__init__.py": "",
        "events.py": "import rdbtools.events\n",  # itself: no circle
        "memory/__init__.py": "",
        "memory/model.py": (
            "from rdbtools.memory.rows import Row\n"
            "def estimator():\n"
            "    from ._estimator import KeyEstimator\n"
        ),
        "memory/_estimator.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from rdbtools.memory.model import MemoryModel\n"
        ),
        "memory/rows.py": "from rdbtools import events\n",
        "replay/__init__.py": "from .keyspace import Keyspace\nfrom . import commands\n",
        "replay/keyspace.py": "from rdbtools.events import KeyStart\n",
        "replay/commands.py": "from rdbtools.replay.hll import pfadd\n",
        "replay/hll.py": "import importlib\nR = importlib.import_module('rdbtools.replay')\n",
        "aof/__init__.py": "",
        "aof/a.py": "from rdbtools.aof import b\n",
        "aof/b.py": "from rdbtools.aof.c import x\n",
        "aof/c.py": "from .a import y\n",
    })
    assert import_circles(package) == [
        ["rdbtools.aof.a", "rdbtools.aof.b", "rdbtools.aof.c"],
        ["rdbtools.memory._estimator", "rdbtools.memory.model"],
        ["rdbtools.replay", "rdbtools.replay.commands", "rdbtools.replay.hll"],
    ]
    (package / "memory" / "_estimator.py").write_text("from rdbtools.memory import rows\n")
    assert ["rdbtools.memory._estimator", "rdbtools.memory.model"] not in import_circles(package)


def test_every_layer_is_present() -> None:
    tops = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()}
    tops = {"replay" if t.startswith("replay_") else t for t in tops}
    for names in LAYERS[1:]:
        assert names & tops, f"no module of layer {sorted(names)} under {PACKAGE}"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "rdbtools" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "rdbtools"


def test_checker_reports_upward_imports(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "__init__.py": "from rdbtools.cli import main\nfrom rdbtools.ops import run\n",
        "events.py": "",
        "clock.py": "import time\n",
        "cli/__init__.py": "from rdbtools.reports import text\nmain = 1\n",
        "reports/__init__.py": "from ..ops import run\ntext = 1\n",
        "ops/__init__.py": "from .run import run\n",
        "ops/run.py": "from rdbtools.formats import jsonl\nfrom rdbtools import events\nrun = 1\n",
        "formats/__init__.py": "",
        "formats/jsonl.py": "from rdbtools.events import x\nfrom rdbtools.aof import w\n",
        "formats/report.py": "from rdbtools.ops.run import run\n",
        "aof/__init__.py": "",
        "aof/w.py": (
            "import importlib\n"
            "def lazy():\n"
            "    from ..formats import jsonl\n"
            "    return importlib.import_module('rdbtools.ops')\n"
        ),
        "rdb/reader.py": "import rdbtools.clock\nfrom rdbtools import cli\n",
        "rdb/types.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from rdbtools.replay_more import X\n"
        ),
        "replay_more.py": "from . import events\nfrom rdbtools import main\n",
    })
    bad, checked = upward_imports(package)
    assert checked == 15
    assert [(u.importer, u.imported, u.where) for u in bad] == [
        ("rdbtools.aof.w", "rdbtools.formats.jsonl", "rdbtools/aof/w.py:3"),
        ("rdbtools.aof.w", "rdbtools.ops", "rdbtools/aof/w.py:4"),
        ("rdbtools.formats.report", "rdbtools.ops.run", "rdbtools/formats/report.py:1"),
        ("rdbtools.rdb.reader", "rdbtools.cli", "rdbtools/rdb/reader.py:2"),
        ("rdbtools.rdb.types", "rdbtools.replay_more", "rdbtools/rdb/types.py:3"),
        ("rdbtools.replay_more", "rdbtools", "rdbtools/replay_more.py:2"),
    ]


@pytest.mark.parametrize(("module", "layer"), [
    ("rdbtools", 0), ("rdbtools.cli.rdbtool", 0), ("rdbtools.reports.info", 1),
    ("rdbtools.ops.dump", 2), ("rdbtools.memory.model", 3), ("rdbtools.diff._spill", 3),
    ("rdbtools.replay", 4), ("rdbtools.replay_more", 4), ("rdbtools.replay.commands.hll", 4),
    ("rdbtools.formats.resp", 4), ("rdbtools.aof.writer", 5), ("rdbtools.rdb.reader", 5),
    ("rdbtools.events", CORE), ("rdbtools._speedups", CORE), ("rdbtools.sinks", CORE),
])
def test_layer_of(module: str, layer: int) -> None:
    assert layer_of(module) == layer
