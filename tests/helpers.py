"""Shared test helpers: fixture discovery, truth decoding, and the comparison rules.

The comparison rules are a port of ``../shared/tools/compare_dump.py`` (that file is not
imported at run time) extended to everything a truth file records: stream metadata, groups,
PEL, consumers, field TTLs, LFU/LRU values and the file-level facts (header, AUX, functions,
MODULE_AUX, SLOT_INFO, SLOT_IMPORT, RESIZEDB, checksum state).

Every value is brought to one *canonical* form (plain tuples, dicts, bytes, ints and floats)
from three sources: a truth file, ``rdbtools.records()`` and ``rdbtool dump --jsonl``. Then
``compare()`` walks two canonical values and lists every difference in words. ``SKIP`` in a
canonical value means "not known here, do not compare" (e.g. delivery times of a truth that
is not ``times_exact``).
"""

from __future__ import annotations

import base64
import functools
import io
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
EXTERNAL = Path(
    os.environ.get(
        "RDBTOOLS_EXTERNAL_FIXTURES", str(REPO.parent / "shared" / "fixtures" / "external")
    )
)
MAGICS = (b"REDIS", b"VALKEY")

# mismatches of `verified: false` truths, reported as xfail and summed up at the end
UNVERIFIED_MISMATCHES: list[tuple[str, list[str]]] = []
# anything else worth a line in the terminal summary (e.g. observations of robustness tests)
NOTES: list[str] = []


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class RdbCase:
    """One RDB byte stream to test.

    ``kind``: ``rdb`` (a plain ``*.rdb`` fixture with a truth of its content), ``aof-base``
    (a multi-part AOF base ``*.rdb``), ``aof-preamble`` (a single-file AOF that starts with
    an RDB), ``external`` (a file from ``shared/fixtures/external``). For the two AOF kinds
    the truth describes the state after replaying the whole AOF, not the RDB part.
    """

    id: str
    path: Path
    truth_path: Path | None
    kind: str

    @property
    def external(self) -> bool:
        return self.kind == "external"

    @property
    def aof(self) -> bool:
        return self.kind in ("aof-base", "aof-preamble")

    @property
    def truth(self) -> dict[str, Any] | None:
        return load_truth(self.truth_path) if self.truth_path is not None else None

    @property
    def data(self) -> bytes:
        return read_bytes(self.path)

    @property
    def expected_fail(self) -> str | None:
        """The truth's reason a loader must refuse the file, or None."""
        t = self.truth
        if t is None:
            return None
        el = t.get("expected_load")
        if isinstance(el, str) and el.startswith("fail"):
            return el
        return None

    @property
    def verified(self) -> bool:
        t = self.truth
        return bool(t.get("verified", True)) if t is not None else True

    @property
    def rel(self) -> str:
        """The path as the truth's ``files`` list names it (relative to the fixture's folder)."""
        base = EXTERNAL if self.external else FIXTURES
        return "/".join(self.path.relative_to(base).parts[1:])


@functools.cache
def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


@functools.cache
def load_truth(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _starts_with_magic(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head.startswith(MAGICS)


def version_dirs() -> list[Path]:
    """The per-version folders of the project's ``fixtures/`` (every folder but hidden ones)."""
    if not FIXTURES.is_dir():
        return []
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith("."))


def project_cases() -> list[RdbCase]:
    """Every RDB stream under ``fixtures/<version>/``, found by walking the folders.

    A file directly in a version folder is a fixture ``<stem>.rdb`` with ``<stem>.truth.json``;
    a file inside a sub-folder belongs to the fixture named by that folder
    (``<folder>.truth.json``): ``*.rdb`` files there are AOF bases, other files that start
    with an RDB magic are AOFs with an RDB preamble.
    """
    cases: list[RdbCase] = []
    for vdir in version_dirs():
        for path in sorted(vdir.rglob("*")):
            if not path.is_file() or path.name.endswith(".json") or path.suffix == ".md":
                continue
            rel = path.relative_to(vdir)
            top = rel.parts[0]
            if len(rel.parts) == 1:
                if path.suffix != ".rdb":
                    continue
                kind = "rdb"
                truth = vdir / f"{path.stem}.truth.json"
            else:
                if path.suffix == ".rdb":
                    kind = "aof-base"
                elif _starts_with_magic(path):
                    kind = "aof-preamble"
                else:
                    continue
                truth = vdir / f"{top}.truth.json"
            cases.append(
                RdbCase(
                    id=f"{vdir.name}/{rel.as_posix()}",
                    path=path,
                    truth_path=truth if truth.is_file() else None,
                    kind=kind,
                )
            )
    return cases


def external_cases() -> list[RdbCase]:
    """Every ``*.rdb`` under the external fixtures folder (read in place)."""
    if not EXTERNAL.is_dir():
        return []
    cases = []
    for path in sorted(EXTERNAL.rglob("*.rdb")):
        truth = path.with_name(f"{path.stem}.truth.json")
        cases.append(
            RdbCase(
                id=f"external/{path.relative_to(EXTERNAL).as_posix()}",
                path=path,
                truth_path=truth if truth.is_file() else None,
                kind="external",
            )
        )
    return cases


def all_cases() -> list[RdbCase]:
    return project_cases() + external_cases()


def case_params(cases: Iterable[RdbCase], *, external_placeholder: bool = True) -> list[Any]:
    """``pytest.param`` per case; when the external folder is missing, one skipped
    placeholder that says so (visible in the ``-ra`` summary)."""
    import pytest

    params: list[Any] = [pytest.param(c, id=c.id) for c in cases]
    if external_placeholder and not EXTERNAL.is_dir():
        params.append(
            pytest.param(
                None,
                id="external-missing",
                marks=pytest.mark.skip(reason=f"external fixtures not found at {EXTERNAL}"),
            )
        )
    if not params:
        params.append(
            pytest.param(
                None, id="no-fixtures", marks=pytest.mark.skip(reason=f"no fixtures in {FIXTURES}")
            )
        )
    return params


# --------------------------------------------------------------------------- reading


class ChunkedReader(io.RawIOBase):
    """A pipe-like binary file: ``read(n)`` returns 1..``max_chunk`` bytes (seeded), never
    more than asked; no ``seek``, no ``fileno``, no size."""

    def __init__(self, data: bytes, seed: int = 0, max_chunk: int = 64) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._rng = random.Random(seed)
        self._max = max_chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = len(self._data) - self._pos
        if n == 0 or self._pos >= len(self._data):
            return b""
        k = min(n, self._rng.randint(1, self._max), len(self._data) - self._pos)
        out = bytes(self._data[self._pos : self._pos + k])
        self._pos += k
        return out

    def readinto(self, b: Any) -> int:
        chunk = self.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)

    def readall(self) -> bytes:
        out = bytes(self._data[self._pos :])
        self._pos = len(self._data)
        return out


@dataclass
class ReadResult:
    events: list[Any]
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def read_all(src: Any, **kw: Any) -> ReadResult:
    """Read every event; an exception (any kind) is captured, with the events before it."""
    from rdbtools import read_rdb

    events: list[Any] = []
    try:
        for ev in read_rdb(src, **kw):
            events.append(ev)
    except Exception as e:  # noqa: BLE001 - the caller judges the exception type
        return ReadResult(events, e)
    return ReadResult(events)


@functools.cache
def read_case(path: Path) -> ReadResult:
    """The plain read of a fixture file (by path), cached for the session."""
    return read_all(str(path))


def records_of(events: Iterable[Any]) -> list[Any]:
    from rdbtools import records

    return list(records(events))


def rdb_end(events: list[Any], version: int) -> int | None:
    """The offset just past the EOF opcode and its checksum, from the ``End`` event."""
    from rdbtools.events import End

    for ev in reversed(events):
        if isinstance(ev, End):
            return int(ev.offset) + 1 + (8 if version >= 5 else 0)
    return None


def header_version(data: bytes) -> int:
    if data.startswith(b"VALKEY"):
        return int(data[6:9])
    return int(data[5:9])


@contextmanager
def time_limit(seconds: float, what: str = "operation") -> Iterator[None]:
    """Fail (raise ``TimeoutError``) if the block runs longer than ``seconds`` (main thread)."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"{what} took longer than {seconds} s")

    if not hasattr(signal, "setitimer"):
        yield
        return
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- CLI


def rdbtool_cmd() -> list[str]:
    """How to run the ``rdbtool`` console script of the Python running the tests."""
    script = Path(sys.executable).parent / "rdbtool"
    if script.is_file():
        return [str(script)]
    return [
        sys.executable,
        "-c",
        "import sys; from rdbtools.cli.rdbtool import main; sys.exit(main())",
    ]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    return env


def run_rdbtool(
    *args: str, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*rdbtool_cmd(), *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        env=cli_env(),
        timeout=timeout,
        check=False,
    )


@functools.cache
def cli_dump_jsonl(path: Path) -> subprocess.CompletedProcess[bytes]:
    """``rdbtool dump FILE --jsonl`` (cached: the fixture and the chunk tests both use it)."""
    return run_rdbtool("dump", str(path), "--jsonl")


def parse_jsonl(out: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(key lines, non-key lines, problems) of a ``--jsonl`` output."""
    keys: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    problems: list[str] = []
    for n, line in enumerate(out.decode("utf-8", "surrogateescape").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {n} is not JSON ({e}): {line[:120]!r}")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {n} is not a JSON object: {line[:120]!r}")
        elif "key" in obj:
            keys.append(obj)
        else:
            if "record" not in obj:
                problems.append(f"line {n}: a non-key line without 'record': {line[:120]!r}")
            other.append(obj)
    return keys, other, problems


# --------------------------------------------------------------------------- canonical forms


class _Skip:
    def __repr__(self) -> str:
        return "SKIP"


SKIP: Any = _Skip()


def tb(v: Any) -> bytes:
    """Bytes from the truth / JSONL byte form: a UTF-8 string or ``{"b64": ...}``."""
    if isinstance(v, dict):
        for k in ("b64", "base64"):
            if k in v:
                return base64.b64decode(v[k])
        raise ValueError(f"unknown byte form {v!r}")
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    if isinstance(v, bool):
        raise ValueError(f"unknown byte form {v!r}")
    if isinstance(v, (int, float)):
        return str(v).encode()
    raise ValueError(f"unknown byte form {v!r}")


def score(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError(f"bad score {v!r}")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        v = tb(v).decode()
    s = str(v).strip().lower()
    return float({"+inf": "inf"}.get(s, s))


def sid(v: Any) -> tuple[int, int]:
    """A stream id from ``"ms-seq"``, ``(ms, seq)`` or ``[ms, seq]``."""
    if isinstance(v, str):
        ms, _, seq = v.partition("-")
        return int(ms), int(seq or 0)
    ms, seq = v
    return int(ms), int(seq)


def _opt_sid(v: Any) -> Any:
    return None if v is None else sid(v)


def _pairs(v: Any) -> list[tuple[bytes, bytes]]:
    if isinstance(v, dict) and not ("b64" in v or "base64" in v):
        return [(k.encode("utf-8", "surrogateescape"), tb(x)) for k, x in v.items()]
    return [(tb(p[0]), tb(p[1])) for p in v]


def _entries_read(v: Any) -> Any:
    """``entries_read``: -1 (the server's "unknown") and None are the same thing."""
    if v is None or v == -1:
        return None
    return int(v)


def _zset(items: Iterable[tuple[bytes, float]]) -> list[tuple[bytes, Any]]:
    return sorted(((m, "nan" if math.isnan(s) else s) for m, s in items), key=lambda p: p[0])


def canon_truth_key(rec: dict[str, Any], *, external: bool) -> dict[str, Any]:
    """The canonical form of one truth key record."""
    t = rec["type"]
    v = rec["value"]
    out: dict[str, Any] = {"type": t}
    if t == "string":
        out["value"] = tb(v)
    elif t == "list":
        out["value"] = [tb(x) for x in v]
    elif t == "set":
        out["value"] = sorted(tb(x) for x in v)
    elif t == "zset":
        out["value"] = _zset((tb(m), score(s)) for m, s in v)
    elif t == "hash":
        out["value"] = sorted(_pairs(v))
    elif t == "stream":
        out["value"] = _canon_truth_stream(v)
    elif t == "module":
        out["value"] = {
            "module_id": int(v["module_id"]) if v.get("module_id") is not None else SKIP,
            "module_name": v.get("module_name", SKIP),
            "module_version": v.get("encver", SKIP),
            "payload": base64.b64decode(v["payload_b64"]) if v.get("payload_b64") else SKIP,
        }
    else:
        out["value"] = SKIP
    fe = rec.get("field_expires") or []
    out["field_expires"] = sorted((tb(f), int(ms)) for f, ms in fe)
    out["expire_ms"] = rec.get("expire_at_ms")
    return out


def _canon_truth_stream(v: dict[str, Any]) -> dict[str, Any]:
    exact = bool(v.get("times_exact", True))

    def t(x: Any) -> Any:
        return int(x) if exact and x is not None else SKIP

    groups: dict[bytes, Any] = {}
    for g in v.get("groups") or []:
        consumers: dict[bytes, Any] = {}
        for c in g.get("consumers") or []:
            active = c.get("active_time")
            consumers[tb(c["name"])] = {
                "seen_time_ms": t(c.get("seen_time")),
                "active_time_ms": t(active) if active is not None else SKIP,
                "pending": sorted(sid(p[0]) for p in c.get("pending") or []),
            }
        groups[tb(g["name"])] = {
            "last_delivered_id": sid(g["last_delivered_id"]),
            "entries_read": _entries_read(g["entries_read"]) if "entries_read" in g else SKIP,
            "pending": sorted(
                (sid(p[0]), tb(p[1]) if p[1] is not None else None, t(p[2]), int(p[3]))
                for p in g.get("pending") or []
            ),
            "consumers": consumers,
        }
    out: dict[str, Any] = {
        "entries": [(sid(e[0]), tuple(_pairs(e[1]))) for e in v.get("entries") or []],
        "length": int(v["length"]) if v.get("length") is not None else SKIP,
        "last_id": sid(v["last_generated_id"]) if v.get("last_generated_id") else SKIP,
        "first_id": _opt_sid(v["recorded_first_entry_id"])
        if "recorded_first_entry_id" in v
        else SKIP,
        "max_deleted_id": _opt_sid(v["max_deleted_entry_id"])
        if "max_deleted_entry_id" in v
        else SKIP,
        "entries_added": v["entries_added"] if "entries_added" in v else SKIP,
        "groups": groups,
    }
    if v.get("idmp") is not None:
        i = v["idmp"]
        out["idmp"] = {
            "duration": i["duration"],
            "max_entries": i["max_entries"],
            "producers": sorted(
                (tb(p["pid"]), tuple((tb(e[0]), sid(e[1])) for e in p["entries"]))
                for p in i["producers"]
            ),
            "iids_added": i["iids_added"],
            "iids_duplicates": i["iids_duplicates"],
        }
    return out


def canon_record(r: Any) -> dict[str, Any]:
    """The canonical form of an ``rdbtools.Record``."""
    from rdbtools.events import ModuleValue, StreamValue

    t = r.type
    v = r.value
    out: dict[str, Any] = {"type": t}
    fe: list[tuple[bytes, int]] = []
    if t == "string":
        out["value"] = bytes(v)
    elif t == "list":
        out["value"] = [bytes(x) for x in v]
    elif t == "set":
        out["value"] = sorted(bytes(x) for x in v)
    elif t == "zset":
        out["value"] = _zset((bytes(m), float(s)) for m, s in v)
    elif t == "hash":
        out["value"] = sorted((bytes(f), bytes(x)) for f, x, _ in v)
        fe = sorted((bytes(f), int(ttl)) for f, _, ttl in v if ttl is not None)
    elif t == "stream":
        assert isinstance(v, StreamValue), type(v)
        out["value"] = _canon_stream_value(v)
    elif t == "module":
        assert isinstance(v, ModuleValue), type(v)
        out["value"] = {
            "module_id": v.module_id,
            "module_name": v.module_name,
            "module_version": v.module_version,
            "payload": bytes(v.payload),
        }
    else:
        out["value"] = repr(v)
    out["field_expires"] = fe
    out["expire_ms"] = r.expire_ms
    return out


def _canon_stream_value(v: Any) -> dict[str, Any]:
    groups: dict[bytes, Any] = {}
    for g in v.groups:
        groups[bytes(g.name)] = {
            "last_delivered_id": tuple(g.last_delivered_id),
            "entries_read": _entries_read(g.entries_read),
            "pending": sorted(
                (tuple(p.id), p.consumer, p.delivery_time_ms, p.delivery_count) for p in g.pending
            ),
            "consumers": {
                bytes(c.name): {
                    "seen_time_ms": c.seen_time_ms,
                    "active_time_ms": c.active_time_ms,
                    "pending": sorted(tuple(i) for i in c.pending),
                }
                for c in g.consumers
            },
        }
    m = v.meta
    out: dict[str, Any] = {
        "entries": [
            (tuple(e.id), tuple((bytes(f), bytes(x)) for f, x in e.fields)) for e in v.entries
        ],
        "length": m.length if m is not None else None,
        "last_id": tuple(m.last_id) if m is not None else None,
        "first_id": tuple(m.first_id) if m is not None and m.first_id is not None else None,
        "max_deleted_id": (
            tuple(m.max_deleted_id) if m is not None and m.max_deleted_id is not None else None
        ),
        "entries_added": m.entries_added if m is not None else None,
        "groups": groups,
    }
    if v.idmp is not None:
        i = v.idmp
        out["idmp"] = {
            "duration": i.duration,
            "max_entries": i.max_entries,
            "producers": sorted(
                (bytes(pid), tuple((bytes(iid), tuple(s)) for iid, s in entries))
                for pid, entries in i.producers
            ),
            "iids_added": i.iids_added,
            "iids_duplicates": i.iids_duplicates,
        }
    return out


def canon_jsonl_key(obj: dict[str, Any]) -> dict[str, Any]:
    """The canonical form of one ``rdbtool dump --jsonl`` key line (schema in the brief)."""
    t = obj["type"]
    v = obj.get("value")
    out: dict[str, Any] = {"type": t}
    if t == "string":
        out["value"] = tb(v)
    elif t == "list":
        out["value"] = [tb(x) for x in v]
    elif t == "set":
        out["value"] = sorted(tb(x) for x in v)
    elif t == "zset":
        out["value"] = _zset((tb(m), score(s)) for m, s in v)
    elif t == "hash":
        out["value"] = sorted(_pairs(v))
    elif t == "stream":
        out["value"] = _canon_jsonl_stream(v)
    elif t == "module":
        out["value"] = {
            "module_id": v.get("module_id", SKIP),
            "module_name": v.get("module"),
            "module_version": v.get("module_version"),
            "payload": tb(v["payload"]) if v.get("payload") is not None else None,
        }
    else:
        out["value"] = v
    fe = obj.get("field_expires") or []
    if isinstance(fe, dict):
        out["field_expires"] = sorted(
            (k.encode("utf-8", "surrogateescape"), int(x)) for k, x in fe.items()
        )
    else:
        out["field_expires"] = sorted((tb(f), int(ms)) for f, ms in fe)
    out["expire_ms"] = obj.get("expire_at_ms")
    return out


def _canon_jsonl_stream(v: dict[str, Any]) -> dict[str, Any]:
    groups: dict[bytes, Any] = {}
    for g in v.get("groups") or []:
        groups[tb(g["name"])] = {
            "last_delivered_id": sid(g["last_delivered_id"]),
            "entries_read": _entries_read(g.get("entries_read")),
            "pending": sorted(
                (sid(p[0]), tb(p[1]) if p[1] is not None else None, p[2], p[3])
                for p in g.get("pending") or []
            ),
            "consumers": {
                tb(c["name"]): {
                    "seen_time_ms": c.get("seen_time_ms"),
                    "active_time_ms": c.get("active_time_ms"),
                    "pending": sorted(sid(i) for i in c.get("pending") or []),
                }
                for c in g.get("consumers") or []
            },
        }
    entries = [(sid(e[0]), tuple(_pairs(e[1]))) for e in v.get("entries") or []]
    return {
        "entries": entries,
        "length": SKIP,  # not in the JSONL schema
        "last_id": _opt_sid(v.get("last_id")),
        "first_id": _opt_sid(v.get("first_id")),
        "max_deleted_id": _opt_sid(v.get("max_deleted_id")),
        "entries_added": v.get("entries_added"),
        "groups": groups,
        "idmp": SKIP,  # not in the JSONL schema
    }


# --------------------------------------------------------------------------- comparing


def _show(v: Any, limit: int = 160) -> str:
    s = repr(v)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _eq_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if a == 0.0 and b == 0.0:
            return math.copysign(1, a) == math.copysign(1, b)
        return a == b
    if (
        isinstance(a, float) != isinstance(b, float)
        and isinstance(a, (int, float))
        and isinstance(b, (int, float))
    ):
        return float(a) == float(b)
    return bool(a == b)


def compare(want: Any, got: Any, path: str, problems: list[str], limit: int = 12) -> None:
    """List the differences between two canonical values (``SKIP`` on either side: equal)."""
    if want is SKIP or got is SKIP or len(problems) >= limit:
        return
    if isinstance(want, dict) and isinstance(got, dict):
        for k in want:
            if k not in got:
                if want[k] is not SKIP:
                    problems.append(f"{path}.{_key(k)}: missing (want {_show(want[k])})")
                continue
            compare(want[k], got[k], f"{path}.{_key(k)}", problems, limit)
        for k in got:
            if k not in want and got[k] is not SKIP:
                problems.append(f"{path}.{_key(k)}: unexpected {_show(got[k])}")
        return
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        if len(want) != len(got):
            problems.append(
                f"{path}: {len(got)} items, want {len(want)}; " + _first_diff(want, got)
            )
            return
        for i, (a, b) in enumerate(zip(want, got)):
            compare(a, b, f"{path}[{i}]", problems, limit)
        return
    if not _eq_scalar(want, got):
        problems.append(f"{path}: got {_show(got)}, want {_show(want)}")


def _key(k: Any) -> str:
    return k.decode("utf-8", "backslashreplace") if isinstance(k, bytes) else str(k)


def _first_diff(want: Any, got: Any) -> str:
    ws, gs = list(want), list(got)
    missing = [x for x in ws if x not in gs][:3]
    extra = [x for x in gs if x not in ws][:3]
    return f"missing e.g. {_show(missing, 200)}, extra e.g. {_show(extra, 200)}"


def expiry_tolerance(rec: dict[str, Any]) -> int:
    """As compare_dump.py: a TTL derived from PTTL is within a few ms; the others exact."""
    return 5000 if rec.get("expire_source") == "pttl-derived" else 0


def compare_keys(
    truth: dict[str, Any],
    got: dict[tuple[int, bytes], dict[str, Any]],
    *,
    external: bool,
    source: str,
    records: dict[tuple[int, bytes], Any] | None = None,
    version: int | None = None,
) -> list[str]:
    """Compare every truth key with ``got`` (canonical forms keyed by (db, key)).

    ``records``: the library records (for the attributes only they carry: encoding, rdb_type,
    idle, freq). Returns one line per problem, prefixed with the key.
    """
    problems: list[str] = []
    want: dict[tuple[int, bytes], dict[str, Any]] = {}
    for rec in truth.get("keys") or []:
        want[(int(rec["db"]), tb(rec["key"]))] = rec
    for k, rec in want.items():
        label = f"[{source}] db={k[0]} key={k[1]!r}"
        g = got.get(k)
        if g is None:
            problems.append(f"{label}: missing")
            continue
        w = canon_truth_key(rec, external=external)
        kp: list[str] = []
        compare(w["type"], g["type"], "type", kp)
        if not kp:
            compare(w["value"], g["value"], "value", kp)
        compare(w["field_expires"], g["field_expires"], "field_expires", kp)
        exp_w, exp_g = w["expire_ms"], g["expire_ms"]
        tol = expiry_tolerance(rec)
        if (exp_w is None) != (exp_g is None) or (
            exp_w is not None and abs(int(exp_w) - int(exp_g)) > tol
        ):
            kp.append(
                f"expire_ms: got {exp_g}, want {exp_w} (+-{tol} ms, {rec.get('expire_source')})"
            )
        if records is not None and k in records:
            kp.extend(_compare_attributes(rec, records[k], external=external, version=version))
        problems.extend(f"{label}: {p}" for p in kp)
    extra = [k for k in got if k not in want]
    for k in extra[:10]:
        problems.append(f"[{source}] db={k[0]} key={k[1]!r}: not in the truth")
    if len(extra) > 10:
        problems.append(f"[{source}] ... {len(extra) - 10} more keys not in the truth")
    return problems


_STRING_ENC = {"int8": "int", "int16": "int", "int32": "int", "lzf": "lzf"}


def _compare_attributes(
    rec: dict[str, Any], r: Any, *, external: bool, version: int | None
) -> list[str]:
    out: list[str] = []
    if external:
        if rec.get("rdb_type") is not None and r.rdb_type != rec["rdb_type"]:
            out.append(f"rdb_type: got {r.rdb_type}, want {rec['rdb_type']}")
        if rec["type"] != "string":
            if rec.get("encoding") is not None and r.encoding != rec["encoding"]:
                out.append(f"encoding: got {r.encoding!r}, want {rec['encoding']!r}")
        else:
            se = (rec.get("rdb_detail") or {}).get("string_encoding")
            if se in _STRING_ENC and r.encoding != _STRING_ENC[se]:
                out.append(f"encoding: got {r.encoding!r}, want {_STRING_ENC[se]!r} ({se})")
    if rec.get("lfu_freq") is not None and (version is None or version >= 9):
        if r.freq != rec["lfu_freq"]:
            out.append(f"freq: got {r.freq}, want {rec['lfu_freq']}")
    if rec.get("lru_idle_s") is not None and (version is None or version >= 9):
        tol = 0 if external else 2
        if r.idle is None or abs(int(r.idle) - int(rec["lru_idle_s"])) > tol:
            out.append(f"idle: got {r.idle}, want {rec['lru_idle_s']} (+-{tol} s)")
    return out


def library_keys(records: list[Any]) -> tuple[dict[tuple[int, bytes], dict[str, Any]], list[str]]:
    got: dict[tuple[int, bytes], dict[str, Any]] = {}
    problems: list[str] = []
    for r in records:
        k = (r.db, r.key)
        if k in got:
            problems.append(f"[library] db={k[0]} key={k[1]!r}: appears twice")
        try:
            got[k] = canon_record(r)
        except Exception as e:  # noqa: BLE001 - report a malformed record as a mismatch
            problems.append(f"[library] db={k[0]} key={k[1]!r}: unreadable record: {e!r}")
    return got, problems


def jsonl_keys(
    lines: list[dict[str, Any]],
) -> tuple[dict[tuple[int, bytes], dict[str, Any]], list[str]]:
    got: dict[tuple[int, bytes], dict[str, Any]] = {}
    problems: list[str] = []
    for obj in lines:
        try:
            k = (int(obj.get("db", 0)), tb(obj["key"]))
        except Exception as e:  # noqa: BLE001
            problems.append(f"[cli] unreadable key in {_show(obj)}: {e!r}")
            continue
        if k in got:
            problems.append(f"[cli] db={k[0]} key={k[1]!r}: appears twice")
        try:
            got[k] = canon_jsonl_key(obj)
        except Exception as e:  # noqa: BLE001
            problems.append(f"[cli] db={k[0]} key={k[1]!r}: unreadable line: {e!r} {_show(obj)}")
    return got, problems


# --------------------------------------------------------------------------- file-level facts


_AUX_LINE = re.compile(r"^\[offset (\d+)\] AUX FIELD (.*?) = '(.*)'$")
_DB_LINE = re.compile(r"^\[offset (\d+)\] Selecting DB ID (\d+)$")
_CRC_LINE = re.compile(r"^\[offset (\d+)\] Checksum OK$")
_INFO_LINE = re.compile(r"^\[info\] (\d+) (keys read|expires)$")


@dataclass
class CheckFacts:
    """What a server's own ``redis-check-rdb`` printed about an RDB (offsets are the
    positions just after each record)."""

    aux: list[tuple[int, str, str]] = field(default_factory=list)
    dbs: list[tuple[int, int]] = field(default_factory=list)
    checksum_ok_at: int | None = None
    keys_read: int | None = None
    expires: int | None = None


def check_facts(truth: dict[str, Any]) -> CheckFacts | None:
    check = truth.get("check")
    if not check or not check.get("output") or check.get("rc") not in (0, None):
        return None
    facts = CheckFacts()
    for line in check["output"].splitlines():
        if m := _AUX_LINE.match(line):
            facts.aux.append((int(m[1]), m[2], m[3]))
        elif m := _DB_LINE.match(line):
            facts.dbs.append((int(m[1]), int(m[2])))
        elif m := _CRC_LINE.match(line):
            facts.checksum_ok_at = int(m[1])
        elif m := _INFO_LINE.match(line):
            if m[2] == "keys read":
                facts.keys_read = int(m[1])
            else:
                facts.expires = int(m[1])
    if facts.checksum_ok_at is None and not facts.aux:
        return None
    return facts


def _next_offset(events: list[Any], i: int) -> int | None:
    """Offset of the next top-level event after events[i] (skipping the value events)."""
    from rdbtools.events import KeyEnd

    top = top_level_types()
    for ev in events[i + 1 :]:
        if isinstance(ev, top) and not isinstance(ev, KeyEnd):
            return int(ev.offset)
    return None


@functools.lru_cache(maxsize=1)
def top_level_types() -> tuple[type, ...]:
    from rdbtools import events as e

    return tuple(
        getattr(e, n)
        for n in (
            "Header",
            "Aux",
            "SelectDb",
            "ResizeDb",
            "Function",
            "ModuleAux",
            "SlotInfo",
            "SlotImport",
            "End",
            "KeyStart",
            "KeyEnd",
        )
        if hasattr(e, n)
    )


def compare_check_facts(facts: CheckFacts, events: list[Any], records: list[Any]) -> list[str]:
    """The events against what ``redis-check-rdb`` reported: AUX fields (and where each one
    ends), databases, where the checksum ends, key and expire counts."""
    from rdbtools.events import Aux, End, SelectDb

    problems: list[str] = []
    aux = [(i, ev) for i, ev in enumerate(events) if isinstance(ev, Aux)]
    got_aux = [
        (ev.name.decode("utf-8", "replace"), ev.value.decode("utf-8", "replace")) for _, ev in aux
    ]
    want_aux = [(n, v) for _, n, v in facts.aux]
    if got_aux != want_aux:
        problems.append(f"aux: got {_show(got_aux, 400)}, want {_show(want_aux, 400)}")
    else:
        for (i, _), (end, name, _v) in zip(aux, facts.aux):
            nxt = _next_offset(events, i)
            if nxt != end:
                problems.append(
                    f"aux {name}: next record at {nxt}, redis-check-rdb says it ends at {end}"
                )
    sel = [(i, ev) for i, ev in enumerate(events) if isinstance(ev, SelectDb)]
    if [ev.db for _, ev in sel] != [db for _, db in facts.dbs]:
        problems.append(
            f"SELECTDB: got {[ev.db for _, ev in sel]}, want {[db for _, db in facts.dbs]}"
        )
    else:
        for (i, ev), (end, _db) in zip(sel, facts.dbs):
            nxt = _next_offset(events, i)
            if nxt != end:
                problems.append(
                    f"SELECTDB {ev.db}: next record at {nxt}, redis-check-rdb says {end}"
                )
    ends = [ev for ev in events if isinstance(ev, End)]
    if facts.checksum_ok_at is not None:
        if not ends:
            problems.append("no End event")
        else:
            if ends[-1].checksum_state != "ok":
                problems.append(
                    f"checksum_state {ends[-1].checksum_state!r}, redis-check-rdb: Checksum OK"
                )
            if ends[-1].offset + 9 != facts.checksum_ok_at:
                problems.append(
                    f"End at offset {ends[-1].offset}: the checksum should end at "
                    f"{facts.checksum_ok_at} (End.offset + 9)"
                )
    if facts.keys_read is not None and len(records) != facts.keys_read:
        problems.append(f"{len(records)} keys read, redis-check-rdb read {facts.keys_read}")
    if facts.expires is not None:
        n = sum(1 for r in records if r.expire_ms is not None)
        if n != facts.expires:
            problems.append(f"{n} keys with an expiry, redis-check-rdb counted {facts.expires}")
    return problems


_CHECKSUM_STATES = {"ok": "ok", "none (RDB < 5)": "absent", "zero (not computed)": "zero"}


def compare_external_file_facts(truth: dict[str, Any], events: list[Any], size: int) -> list[str]:
    """Header, AUX, MODULE_AUX, SLOT_INFO, SLOT_IMPORT, RESIZEDB, checksum and trailing bytes
    of an external truth's ``rdb`` block."""
    from rdbtools import events as E

    rdb = truth.get("rdb") or {}
    problems: list[str] = []
    header = next((ev for ev in events if isinstance(ev, E.Header)), None)
    if header is None:
        return ["no Header event"]
    if "rdb_version" in rdb and header.version != rdb["rdb_version"]:
        problems.append(f"header version {header.version}, want {rdb['rdb_version']}")
    if "magic_flavor" in rdb and header.magic.lower() != str(rdb["magic_flavor"]).lower():
        problems.append(f"header magic {header.magic!r}, want {rdb['magic_flavor']!r}")
    if "aux" in rdb:
        got = [(ev.name, ev.value) for ev in events if isinstance(ev, E.Aux)]
        want = [(tb(n), tb(v)) for n, v in rdb["aux"]]
        if got != want:
            problems.append(f"aux: got {_show(got, 400)}, want {_show(want, 400)}")
    if "module_aux" in rdb:
        got_m = [
            (ev.module_id, ev.module_name, ev.module_version, ev.when, bytes(ev.payload))
            for ev in events
            if isinstance(ev, E.ModuleAux)
        ]
        want_m = [
            (
                int(m["module_id"]),
                m["module_name"],
                m["encver"],
                m["when"],
                base64.b64decode(m["payload_b64"]),
            )
            for m in rdb["module_aux"]
        ]
        if got_m != want_m:
            problems.append(f"module_aux: got {_show(got_m, 400)}, want {_show(want_m, 400)}")
    db = 0
    slots: list[tuple[int, int, int, int]] = []
    resize: dict[str, list[int]] = {}
    for ev in events:
        if isinstance(ev, E.SelectDb):
            db = ev.db
        elif isinstance(ev, E.SlotInfo):
            slots.append((db, ev.slot, ev.keys, ev.expires))
        elif isinstance(ev, E.ResizeDb):
            resize[str(db)] = [ev.keys, ev.expires]
    if "slot_info" in rdb and slots != [tuple(s) for s in rdb["slot_info"]]:
        problems.append(f"slot_info: got {slots}, want {rdb['slot_info']}")
    if "slot_import" in rdb:
        got_i = [
            (bytes(ev.job_name), [list(r) for r in ev.ranges])
            for ev in events
            if isinstance(ev, getattr(E, "SlotImport", ()))
        ]
        want_i = [(tb(s["job_name"]), [list(r) for r in s["ranges"]]) for s in rdb["slot_import"]]
        if got_i != want_i:
            problems.append(f"slot_import: got {got_i}, want {want_i}")
    if "resizedb" in rdb and resize != {k: list(v) for k, v in rdb["resizedb"].items()}:
        problems.append(f"resizedb: got {resize}, want {rdb['resizedb']}")
    end = next((ev for ev in events if isinstance(ev, E.End)), None)
    state = rdb.get("checksum")
    if end is None:
        problems.append("no End event")
    else:
        if state in _CHECKSUM_STATES and end.checksum_state != _CHECKSUM_STATES[state]:
            problems.append(
                f"checksum_state {end.checksum_state!r}, want {_CHECKSUM_STATES[state]!r}"
            )
        if "trailing_bytes" in rdb:
            stop = end.offset + 1 + (8 if header.version >= 5 else 0)
            if stop + int(rdb["trailing_bytes"]) != size:
                problems.append(
                    f"End at {end.offset}: RDB ends at {stop}, + {rdb['trailing_bytes']} trailing "
                    f"bytes != file size {size}"
                )
    return problems


def compare_functions(truth: dict[str, Any], events: list[Any]) -> list[str]:
    from rdbtools.events import Function

    want = truth.get("functions")
    got = [ev for ev in events if isinstance(ev, Function)]
    if want is None:
        return [f"{len(got)} Function events, the truth has none"] if got else []
    problems = []
    want_codes = sorted(tb(f["library_code"]) for f in want)
    got_codes = sorted(bytes(ev.code) for ev in got)
    if want_codes != got_codes:
        problems.append(
            f"function code: got {_show(got_codes, 300)}, want {_show(want_codes, 300)}"
        )
    for f in want:
        if f.get("rdb_opcode") != "FUNCTION_PRE_GA":
            continue
        match = [ev for ev in got if bytes(ev.code) == tb(f["library_code"])]
        if not match:
            continue
        ev = match[0]
        if not ev.pre_ga:
            problems.append(f"function {f['library_name']}: pre_ga is False")
        if (
            ev.name != tb(f["library_name"])
            or (ev.engine or b"").upper() != tb(f["engine"]).upper()
        ):
            problems.append(f"function {f['library_name']}: name/engine {ev.name!r}/{ev.engine!r}")
        want_desc = tb(f["description"]) if f.get("description") is not None else None
        if ev.description != want_desc:
            problems.append(
                f"function {f['library_name']}: description {ev.description!r}, want {want_desc!r}"
            )
    return problems


def truth_file_entry(case: RdbCase) -> dict[str, Any] | None:
    t = case.truth
    if t is None:
        return None
    for f in t.get("files") or []:
        if f.get("path") == case.rel or Path(f.get("path", "")).name == case.path.name:
            return dict(f)
    return None


# --------------------------------------------------------------------------- byte helpers


def len_enc(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def rdb_string(b: bytes) -> bytes:
    """A plain (length-prefixed) rdb-string."""
    return len_enc(len(b)) + b


def read_len(data: bytes, pos: int) -> tuple[int | None, int, int]:
    """(value or None for a special encoding, special id or -1, new position)."""
    b = data[pos]
    t = b >> 6
    if t == 0:
        return b & 0x3F, -1, pos + 1
    if t == 1:
        return ((b & 0x3F) << 8) | data[pos + 1], -1, pos + 2
    if b == 0x80:
        return int.from_bytes(data[pos + 1 : pos + 5], "big"), -1, pos + 5
    if b == 0x81:
        return int.from_bytes(data[pos + 1 : pos + 9], "big"), -1, pos + 9
    if t == 3:
        return None, b & 0x3F, pos + 1
    raise ValueError(f"bad length byte {b:#x} at {pos}")


def skip_rdb_string(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """(decoded bytes, or None for LZF; position after the string)."""
    n, special, pos = read_len(data, pos)
    if n is not None:
        return data[pos : pos + n], pos + n
    if special == 0:
        return str(int.from_bytes(data[pos : pos + 1], "little", signed=True)).encode(), pos + 1
    if special == 1:
        return str(int.from_bytes(data[pos : pos + 2], "little", signed=True)).encode(), pos + 2
    if special == 2:
        return str(int.from_bytes(data[pos : pos + 4], "little", signed=True)).encode(), pos + 4
    if special == 3:
        clen, _, pos = read_len(data, pos)
        _ulen, _, pos = read_len(data, pos)
        assert clen is not None
        return None, pos + clen
    raise ValueError(f"bad string encoding {special} at {pos}")


def tiny_rdb(header: bytes, rdb_type: int, key: bytes, value: bytes) -> bytes:
    """A one-key RDB: header, SELECTDB 0, the key record, EOF and a zero CRC (unchecked)
    when the version has a trailer."""
    out = header[:9] + b"\xfe\x00" + bytes([rdb_type]) + rdb_string(key) + value + b"\xff"
    if header_version(header) >= 5:
        out += b"\x00" * 8
    return out


def use_pure_python_decoders(m: Any) -> None:
    """Rebind, on the monkeypatch ``m``, every C decoder of the RDB read path to its
    pure-Python twin (or to ``None`` where the pure path has no fast path), as
    ``RDBTOOLS_PURE_PYTHON=1`` binds them at import."""
    import rdbtools._buffer as buffer_mod
    import rdbtools.lzf as lzf_mod
    import rdbtools.rdb.reader as reader_mod
    from rdbtools.rdb import _encodings as E

    m.setattr(buffer_mod, "_strings", None)
    m.setattr(buffer_mod, "_zset2", None)
    m.setattr(reader_mod, "_string_keys", None)
    m.setattr(lzf_mod, "_inflate", lzf_mod._decompress_py)
    for name, twin in (("listpack", E.listpack_py), ("ziplist", E.ziplist_py),
                       ("_lp_count", E._lp_count_py), ("_lp_slice", E._lp_slice_py),
                       ("_zl_count", E._zl_count_py), ("_zl_slice", E._zl_slice_py)):
        m.setattr(E, name, twin)


# --------------------------------------------------------------------------- pinned bytes

RESP_DIGESTS: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).with_name("resp_digests.json")).read_text())
"""SHA-256 of the bytes ``rdbtool dump --resp`` (per fixture) and ``aoftool rewrite -o
--format aof`` (per AOF fixture and target version) write, keyed by the path under the
fixture folder: the output bytes stay as they are unless a change means to alter them
(then the file is written again from the new output, with the reason in the commit)."""

SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


def pinned_fixture(rel: str) -> Path:
    """The fixture at ``rel``: in the shared fixture folder, else in ``fixtures/``;
    skips the test when neither holds it."""
    import pytest

    for root in (SHARED_FIXTURES, FIXTURES):
        path = root / rel
        if path.exists():
            return path
    pytest.skip(f"fixture {rel} not found")


def aof_path(folder: Path) -> Path:
    """The AOF of a fixture folder: its ``appendonlydir`` or its ``appendonly.aof``."""
    multipart = folder / "appendonlydir"
    return multipart if multipart.is_dir() else folder / "appendonly.aof"
