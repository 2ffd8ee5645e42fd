"""The manifest of a multi-part AOF (Redis 7.0+, Valkey): parsing and resolving the files
in load order (FORMAT.md §8.5).

Read as the server reads it (``aofLoadManifestFromFile``):

* lines of at most 1024 bytes, each ending in ``\\n`` (a last line without one is "too
  long"); a line starting with ``#`` is a comment; an empty file is an error;
* a record is trimmed of `` \\t\\r\\n``, must not be empty, and is split like redis-cli
  arguments (``sdssplitargs``: bare words, ``"..."`` with ``\\xHH`` escapes, ``'...'``)
  into an even number (at least 6) of key/value tokens;
* keys are matched case-insensitively; ``file``, ``seq`` and ``type`` are required,
  other pairs are ignored (forward compatibility); a later pair wins over an earlier one;
* ``file`` is a plain file name (no ``/`` or ``\\``); ``seq`` is non-zero; ``type`` is
  the first letter of its value: ``b`` base, ``h`` history, ``i`` incr;
* at most one base; incr sequence numbers strictly increase.

Stricter than the server, on what no server writes: ``seq`` must be a positive decimal
number, and a file name must not be empty or listed twice. A part file of the manifest's
name family that the manifest does not list is ignored, as the server ignores it (a
crash between the renames of a rewrite leaves such files: the server loads the old
manifest's files); ``unlisted`` names them.

Load order: the base (if any), then every incr file in manifest order; history files
are ignored (they need not exist). Every listed base and incr file must exist.

The manifest and the files it lists must be regular files (a symbolic link to one is
fine): a device or a FIFO there is refused before it is opened, as it could never end
(``/dev/zero``) or never start (a FIFO without a writer).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass

from rdbtools.aof._splitargs import SplitError, splitargs
from rdbtools.errors import CorruptInput

MANIFEST_MAX_LINE = 1024
MANIFEST_MAX_SIZE = 64 << 20
"""A manifest larger than this is refused before it is read."""
TYPES = {ord("b"): "base", ord("h"): "history", ord("i"): "incr"}


@dataclass(frozen=True)
class ManifestEntry:
    """One record: the file ``name``, its ``seq``, ``kind`` (``base`` / ``history`` /
    ``incr``), the manifest ``line`` number (from 1) and the byte ``offset`` of the line."""

    name: str
    seq: int
    kind: str
    line: int
    offset: int


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest: ``path`` of the manifest file, the base (or ``None``), the incr
    files in load order, the history files."""

    path: str
    base: ManifestEntry | None
    incrs: tuple[ManifestEntry, ...]
    history: tuple[ManifestEntry, ...]

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path) or "."

    @property
    def parts(self) -> tuple[ManifestEntry, ...]:
        """The files to load, in order (base first)."""
        return ((self.base,) if self.base is not None else ()) + self.incrs

    @property
    def prefix(self) -> str:
        """The name of the manifest file without ``.manifest``: the part files'
        ``<prefix>.<seq>.base.rdb|aof`` / ``<prefix>.<seq>.incr.aof``."""
        name = os.path.basename(self.path)
        return name[: -len(".manifest")] if name.endswith(".manifest") else name

    @property
    def names(self) -> set[str]:
        """The names of every file the manifest lists (history included)."""
        return {e.name for e in (*self.parts, *self.history)}


def _error(source: str, line: int, offset: int, message: str) -> CorruptInput:
    return CorruptInput(f"line {line}: {message}", source=source, offset=offset)


def _lines(data: bytes) -> list[tuple[int, bytes]]:
    """``(offset, chunk)`` as ``fgets`` into ``MANIFEST_MAX_LINE + 1`` bytes reads them."""
    out = []
    p = 0
    while p < len(data):
        e = data.find(b"\n", p, p + MANIFEST_MAX_LINE)
        end = e + 1 if e >= 0 else min(p + MANIFEST_MAX_LINE, len(data))
        out.append((p, data[p:end]))
        p = end
    return out


def parse_manifest(data: bytes, source: str) -> Manifest:
    """Parse the bytes of a manifest (``source``: its path, for messages and for the
    directory of its files). Raises ``CorruptInput`` naming the line."""
    if not data:
        raise CorruptInput("Found an empty AOF manifest", source=source, offset=0)
    base: ManifestEntry | None = None
    incrs: list[ManifestEntry] = []
    history: list[ManifestEntry] = []
    names: dict[str, int] = {}
    for number, (offset, chunk) in enumerate(_lines(data), 1):
        if chunk.startswith(b"#"):
            continue
        if not chunk.endswith(b"\n"):
            raise _error(source, number, offset, "The AOF manifest file contains too long "
                         f"line (or its last line has no newline): {chunk[:40]!r}")
        entry = _record(chunk, source, number, offset)
        if entry.name in names:
            raise _error(source, number, offset, f"file {entry.name!r} is listed twice "
                         f"(also on line {names[entry.name]})")
        names[entry.name] = number
        if entry.kind == "base":
            if base is not None:
                raise _error(source, number, offset, "Found duplicate base file "
                             f"information (the base is {base.name!r}, line {base.line})")
            base = entry
        elif entry.kind == "incr":
            if incrs and entry.seq <= incrs[-1].seq:
                raise _error(source, number, offset, "Found a non-monotonic sequence "
                             f"number: incr seq {entry.seq} after {incrs[-1].seq} (line "
                             f"{incrs[-1].line})")
            incrs.append(entry)
        else:
            history.append(entry)
    return Manifest(source, base, tuple(incrs), tuple(history))


def _record(chunk: bytes, source: str, number: int, offset: int) -> ManifestEntry:
    line = chunk.split(b"\0", 1)[0].strip(b" \t\r\n")
    if not line:
        raise _error(source, number, offset, "Invalid AOF manifest file format: empty line")
    try:
        argv = splitargs(line)
    except SplitError as err:
        raise _error(source, number, offset, f"Invalid AOF manifest file format: {err}: "
                     f"{line[:60]!r}") from None
    if len(argv) < 6 or len(argv) % 2:
        raise _error(source, number, offset, "Invalid AOF manifest file format: expected "
                     f"'file <name> seq <n> type <b|h|i>', got {line[:60]!r}")
    name: bytes | None = None
    seq: bytes | None = None
    kind: bytes | None = None
    for key, value in zip(argv[0::2], argv[1::2]):
        k = key.lower()
        if k == b"file":
            name = value
        elif k == b"seq":
            seq = value
        elif k == b"type":
            kind = value
    if name is None or seq is None or kind is None:
        missing = [w for w, v in (("file", name), ("seq", seq), ("type", kind)) if v is None]
        raise _error(source, number, offset, "Invalid AOF manifest file format: no "
                     f"{' / '.join(missing)} in {line[:60]!r}")
    if not name or b"/" in name or b"\\" in name:
        raise _error(source, number, offset, f"File can't be a path, just a filename: "
                     f"{name!r}")
    if not seq.isdigit() or int(seq) == 0:
        raise _error(source, number, offset, f"seq must be a positive integer, got {seq!r}")
    if not kind or kind[0] not in TYPES:
        raise _error(source, number, offset, f"Unknown AOF file type {kind!r} (b, h or i)")
    return ManifestEntry(os.fsdecode(name), int(seq), TYPES[kind[0]], number, offset)


def is_regular(path: str) -> bool:
    """Whether ``path`` is a regular file, following symbolic links; ``OSError`` when it
    cannot be examined (missing, no permission)."""
    return stat.S_ISREG(os.stat(path).st_mode)


def load_manifest(path: str) -> Manifest:
    """Read and parse the manifest file at ``path`` (a regular file)."""
    if not is_regular(path):
        raise CorruptInput("the manifest is not a regular file", source=path, offset=0)
    with open(path, "rb") as fp:
        data = fp.read(MANIFEST_MAX_SIZE + 1)
    if len(data) > MANIFEST_MAX_SIZE:
        raise CorruptInput(f"a manifest of more than {MANIFEST_MAX_SIZE} bytes",
                           source=path, offset=0)
    return parse_manifest(data, path)


def _family(manifest: Manifest) -> re.Pattern[str]:
    """Part-file names of this manifest's family: ``<name>.<seq>.base.rdb|aof`` and
    ``<name>.<seq>.incr.aof`` where ``<name>.manifest`` is the manifest."""
    return re.compile(re.escape(manifest.prefix) + r"\.[0-9]+\.(base\.(rdb|aof)|incr\.aof)\Z")


def names_a_part(manifest: Manifest, name: str) -> bool:
    """Whether ``name`` is named like a part file of ``manifest``'s family."""
    return _family(manifest).match(name) is not None


def resolve(manifest: Manifest) -> list[tuple[str, ManifestEntry]]:
    """The paths of the files to load, in order, with their records. Raises
    ``CorruptInput`` when a listed file is missing or is not a regular file."""
    directory = manifest.directory
    out = []
    for entry in manifest.parts:
        path = os.path.join(directory, entry.name)
        if not os.path.isfile(path):
            what = "missing" if not os.path.lexists(path) else "not a regular file"
            raise _error(manifest.path, entry.line, entry.offset,
                         f"{entry.kind} file {entry.name!r} is listed but {what}")
        out.append((path, entry))
    return out


def unlisted(manifest: Manifest) -> list[str]:
    """The files of the manifest's directory named like its part files that it does not
    list (the server ignores them), sorted."""
    listed = manifest.names
    family = _family(manifest)
    try:
        names = os.listdir(manifest.directory)
    except OSError:
        return []
    return sorted(n for n in names if family.match(n) and n not in listed)
