"""A package's private modules (``rdbtools/aof/_walk.py``) are its own business: a module
outside that package imports the package's public modules (``rdbtools.aof.resp``), never
a ``_module`` of it. The top-level private modules (``rdbtools._buffer``, ``_spec``,
``_accel`` ...) are private to ``rdbtools`` as a whole, so every module may use them.

``SHARED`` lists the private modules still imported from outside their package, each
with the reason; an import of any other is a failure naming the file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from test_layers import PACKAGE, _tree, imports_of

SHARED: dict[str, str] = {
    "rdbtools.rdb._encoders": "canonical_int: the memory model uses the pure-Python twin",
    "rdbtools.rdb._encodings": "backlen_size: the memory model sizes listpack entries",
}
"""Private module -> why modules outside its package still import it."""


@dataclass(frozen=True, order=True)
class Reach:
    """An import of another package's private module."""

    importer: str
    imported: str
    where: str


def _package_of(path: Path, package: Path) -> str:
    """The dotted package that holds the module at ``path`` (itself for ``__init__``)."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    parts.pop()
    return ".".join(parts)


def _owner(module: str) -> str | None:
    """The package whose private module ``module`` is (``rdbtools.aof`` for
    ``rdbtools.aof._walk``), or ``None`` when it is public or private to the root."""
    parts = module.split(".")
    for i in range(2, len(parts)):
        if parts[i].startswith("_"):
            return ".".join(parts[:i])
    return None


def private_reaches(package: Path) -> list[Reach]:
    """Every import in ``package`` of a private module of a package the importer is not
    inside."""
    found: set[Reach] = set()
    for path in sorted(package.rglob("*.py")):
        home = _package_of(path, package)
        importer = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for imported, line in imports_of(path, package):
            owner = _owner(imported)
            if owner is None or home == owner or home.startswith(owner + "."):
                continue
            where = f"{path.relative_to(package.parent)}:{line}"
            found.add(Reach(importer.removesuffix(".__init__"), imported, where))
    return sorted(found)


def test_no_private_module_of_another_package() -> None:
    reaches = private_reaches(PACKAGE)
    unexpected = [r for r in reaches if r.imported not in SHARED]
    assert not unexpected, "private modules of another package imported:\n" + "\n".join(
        f"  {r.where}: {r.importer} imports {r.imported}" for r in unexpected
    )


def test_every_shared_module_is_still_reached() -> None:
    """An entry of ``SHARED`` that nothing imports any more is stale: remove it."""
    reached = {r.imported for r in private_reaches(PACKAGE)}
    assert sorted(set(SHARED) - reached) == []


def test_checker_finds_private_imports(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "__init__.py": "from rdbtools.aof._walk import x\n",
        "_buffer.py": "",
        "aof/__init__.py": "from rdbtools.aof import _walk\n",
        "aof/_walk.py": "from rdbtools import _buffer\n",
        "aof/resp.py": "from ._walk import x\nfrom rdbtools.rdb import _spool\n",
        "aof/sub/__init__.py": "from rdbtools.aof._walk import x\n",
        "rdb/_spool.py": "",
        "ops/stats.py": (
            "from rdbtools.aof import _walk, resp\n"
            "def f():\n"
            "    from rdbtools.rdb._spool import Spool\n"
        ),
    })
    assert [(r.importer, r.imported, r.where) for r in private_reaches(package)] == [
        ("rdbtools", "rdbtools.aof._walk", "rdbtools/__init__.py:1"),
        ("rdbtools.aof.resp", "rdbtools.rdb._spool", "rdbtools/aof/resp.py:2"),
        ("rdbtools.ops.stats", "rdbtools.aof._walk", "rdbtools/ops/stats.py:1"),
        ("rdbtools.ops.stats", "rdbtools.rdb._spool", "rdbtools/ops/stats.py:3"),
    ]
