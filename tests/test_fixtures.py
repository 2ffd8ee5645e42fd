"""Golden tests: every RDB written by a real server, compared with what that server held.

Cases are found by walking ``fixtures/<version>/`` (``*.rdb``, the ``*.base.rdb`` of
multi-part AOFs, single-file AOFs with an RDB preamble) and ``../shared/fixtures/external``
(every ``*.rdb``): a new fixture folder is tested with no code change.

- ``test_library``: ``read_rdb`` + ``records`` against the truth: every key (type, value,
  TTL, field TTLs, stream entries/metadata/groups/PEL/consumers, module payloads, LFU/LRU),
  and the file-level facts (header, AUX, functions, MODULE_AUX, SLOT_INFO, SLOT_IMPORT,
  RESIZEDB, checksum state, where the RDB ends). For AOF fixtures the truth is the state
  after replay, so only the RDB part is checked: it must read cleanly with a verified
  checksum and agree with what the server's redis-check-aof printed about it.
- ``test_cli_jsonl``: the same comparison from ``rdbtool dump FILE --jsonl`` (subprocess),
  plus: the CLI says exactly what the library says, key for key.

A mismatch against an external truth marked ``verified: false`` is an xfail (with the reason
printed, and summed up at the end of the run); against anything else it is a failure.
"""

from __future__ import annotations

from typing import Any

import helpers
import pytest
from helpers import RdbCase

CASES = helpers.all_cases()
PARAMS = helpers.case_params(CASES)


def _fail_or_xfail(case: RdbCase, problems: list[str], what: str) -> None:
    if not problems:
        return
    head = f"{case.id}: {len(problems)} {what} problem(s)"
    if not case.verified:
        helpers.UNVERIFIED_MISMATCHES.append((f"{case.id} ({what})", problems))
        reason = (
            f"unverified truth ({(case.truth or {}).get('truth_source', '')[:200]}): "
            + "; ".join(problems[:5])
        )
        pytest.xfail(reason)
    pytest.fail(head + "\n" + "\n".join(problems[:60]), pytrace=False)


def _check_expected_failure(case: RdbCase, error: BaseException | None) -> list[str]:
    from rdbtools import ChecksumMismatch, ParseError, UnsupportedVersion

    why = case.expected_fail or ""
    if error is None:
        return [f"read without error, but the file must be refused: {why}"]
    if not isinstance(error, ParseError):
        return [f"raised {type(error).__name__}: {error!r}, not a ParseError ({why})"]
    problems = []
    if (
        "checksum" in why.lower()
        and "version" not in why.lower()
        and not isinstance(error, ChecksumMismatch)
    ):
        problems.append(f"raised {type(error).__name__} ({error}), want ChecksumMismatch")
    if "version" in why.lower() and not isinstance(error, UnsupportedVersion):
        problems.append(f"raised {type(error).__name__} ({error}), want UnsupportedVersion")
    if error.offset is None or not 0 <= error.offset <= len(case.data):
        problems.append(f"error offset {error.offset} not within the file (size {len(case.data)})")
    if not error.source:
        problems.append("error has no .source")
    return problems


def _aof_rdb_problems(case: RdbCase, events: list[Any], records: list[Any]) -> list[str]:
    from rdbtools.events import Aux, End, Header

    problems: list[str] = []
    header = next((e for e in events if isinstance(e, Header)), None)
    end = next((e for e in events if isinstance(e, End)), None)
    if header is None or end is None:
        return ["no Header or End event"]
    if end.checksum_state != "ok":
        problems.append(f"checksum_state {end.checksum_state!r}, want 'ok' (verified)")
    entry = helpers.truth_file_entry(case)
    if entry and entry.get("rdb_version") is not None and header.version != entry["rdb_version"]:
        problems.append(f"header version {header.version}, want {entry['rdb_version']}")
    aux = {bytes(e.name): bytes(e.value) for e in events if isinstance(e, Aux)}
    flag = b"aof-base" if case.kind == "aof-base" else b"aof-preamble"
    if header.version >= 8 and aux.get(flag) != b"1":
        problems.append(f"AUX {flag.decode()} is {aux.get(flag)!r}, want b'1'")
    facts = helpers.check_facts(case.truth or {})
    if facts is not None:
        problems += helpers.compare_check_facts(facts, events, records)
    return problems


@pytest.mark.parametrize("case", PARAMS)
def test_library(case: RdbCase) -> None:
    from rdbtools import ParseError

    res = helpers.read_case(case.path)
    if case.expected_fail:
        _fail_or_xfail(case, _check_expected_failure(case, res.error), "expected-failure")
        return
    if res.error is not None:
        problems = [
            f"read failed after {len(res.events)} events: {type(res.error).__name__}: {res.error}"
        ]
        if not isinstance(res.error, ParseError):
            pytest.fail(
                f"{case.id}: a non-ParseError escaped the reader: {res.error!r}", pytrace=False
            )
        _fail_or_xfail(case, problems, "read")
    records = helpers.records_of(res.events)
    truth = case.truth
    if case.aof:
        _fail_or_xfail(case, _aof_rdb_problems(case, res.events, records), "AOF RDB part")
        return
    if truth is None:
        pytest.skip(f"no truth file for {case.id}")
    got, problems = helpers.library_keys(records)
    version = _version(res.events)
    problems += helpers.compare_keys(
        truth,
        got,
        external=case.external,
        source="library",
        records={(r.db, r.key): r for r in records},
        version=version,
    )
    problems += [f"[file] {p}" for p in _file_problems(case, res.events, records)]
    _fail_or_xfail(case, problems, "library")


def _version(events: list[Any]) -> int | None:
    from rdbtools.events import Header

    h = next((e for e in events if isinstance(e, Header)), None)
    return h.version if h is not None else None


def _file_problems(case: RdbCase, events: list[Any], records: list[Any]) -> list[str]:
    from rdbtools.events import Header

    truth = case.truth or {}
    problems: list[str] = []
    if case.external:
        problems += helpers.compare_external_file_facts(truth, events, len(case.data))
    else:
        header = next((e for e in events if isinstance(e, Header)), None)
        entry = helpers.truth_file_entry(case)
        if header is not None and entry and entry.get("rdb_version") is not None:
            if header.version != entry["rdb_version"]:
                problems.append(f"header version {header.version}, want {entry['rdb_version']}")
        facts = helpers.check_facts(truth)
        if facts is not None:
            problems += helpers.compare_check_facts(facts, events, records)
        problems += _dbs_problems(truth, records)
    if "functions" in truth:
        problems += helpers.compare_functions(truth, events)
    return problems


def _dbs_problems(truth: dict[str, Any], records: list[Any]) -> list[str]:
    """INFO keyspace (keys and expires per db) against the records."""
    dbs = truth.get("dbs") or {}
    got: dict[str, list[int]] = {}
    for r in records:
        c = got.setdefault(str(r.db), [0, 0])
        c[0] += 1
        c[1] += r.expire_ms is not None
    want = {db: [v["keys"], v["expires"]] for db, v in dbs.items()}
    if want and got != want:
        return [f"keys/expires per db {got}, INFO keyspace says {want}"]
    return []


@pytest.mark.parametrize("case", PARAMS)
def test_cli_jsonl(case: RdbCase) -> None:
    if case.kind == "aof-preamble":
        pytest.skip("single-file AOF: its truth is the replayed state (RDB part: test_library)")
    proc = helpers.cli_dump_jsonl(case.path)
    stderr = proc.stderr.decode("utf-8", "replace")
    if case.expected_fail:
        problems = []
        if proc.returncode == 0:
            problems.append(f"exit 0 for a file that must be refused ({case.expected_fail})")
        if "Traceback" in stderr or len(stderr.strip().splitlines()) != 1:
            problems.append(f"stderr is not one line: {stderr[-800:]!r}")
        _fail_or_xfail(case, problems, "CLI expected-failure")
        return
    lib = helpers.read_case(case.path)
    if proc.returncode != 0:
        problems = [f"rdbtool dump --jsonl exited {proc.returncode}: {stderr[-800:]}"]
        if "Traceback" in stderr:
            pytest.fail(f"{case.id}: traceback from the CLI:\n{stderr[-3000:]}", pytrace=False)
        _fail_or_xfail(case, problems, "CLI")
    lines, _other, problems = helpers.parse_jsonl(proc.stdout)
    got, more = helpers.jsonl_keys(lines)
    problems += more
    for obj in lines:
        for fld in ("db", "key", "type", "encoding", "expire_at_ms", "value"):
            if fld not in obj:
                problems.append(f"[cli] line for key {obj.get('key')!r} has no {fld!r}")
                break
    if lib.error is None:
        # the CLI must say exactly what the library says
        records = helpers.records_of(lib.events)
        want, _ = helpers.library_keys(records)
        enc = {(r.db, r.key): r.encoding for r in records}
        for k, w in want.items():
            g = got.get(k)
            label = f"[cli vs library] db={k[0]} key={k[1]!r}"
            if g is None:
                problems.append(f"{label}: missing from the CLI output")
                continue
            kp: list[str] = []
            helpers.compare(w, g, "", kp)
            problems += [f"{label}: {p}" for p in kp]
        for k in got:
            if k not in want:
                problems.append(
                    f"[cli vs library] db={k[0]} key={k[1]!r}: not in the library records"
                )
        for obj in lines:
            k = (int(obj.get("db", 0)), helpers.tb(obj["key"]))
            if k in enc and obj.get("encoding") != enc[k]:
                problems.append(
                    f"[cli vs library] db={k[0]} key={k[1]!r}: encoding {obj.get('encoding')!r}, "
                    f"library {enc[k]!r}"
                )
                break
    truth = case.truth
    if truth is not None and not case.aof:
        problems += helpers.compare_keys(truth, got, external=case.external, source="cli")
    _fail_or_xfail(case, problems, "CLI")


def _truth_files() -> list[Any]:
    out = []
    for vdir in helpers.version_dirs():
        out += sorted(vdir.glob("*.truth.json"))
    if helpers.EXTERNAL.is_dir():
        out += sorted(helpers.EXTERNAL.rglob("*.truth.json"))
    return [pytest.param(p, id=p.relative_to(p.parents[1]).as_posix()) for p in out]


@pytest.mark.parametrize("truth_path", _truth_files())
def test_fixture_files_are_unchanged(truth_path: Any) -> None:
    """Every file a truth lists is there, byte for byte (size and sha256)."""
    import hashlib

    truth = helpers.load_truth(truth_path)
    problems = []
    for f in truth.get("files") or []:
        p = truth_path.parent / f["path"]
        if not p.is_file():
            problems.append(f"{f['path']}: missing")
            continue
        data = helpers.read_bytes(p)
        if len(data) != f["size"] or hashlib.sha256(data).hexdigest() != f["sha256"]:
            problems.append(f"{f['path']}: size/sha256 differ from the truth")
    assert not problems, f"{truth_path}: " + "; ".join(problems)
