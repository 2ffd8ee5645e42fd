"""``rdbtool load`` / ``rdbtools.ops.load``: a ``dump --jsonl`` file back into an RDB.

- ``dump --jsonl`` -> ``load --to-version <the file's own version>`` -> ``dump --jsonl``
  gives identical key lines (``encoding`` included) for every real-server fixture; the
  only differences are named below with their reason. External files: the same values
  (encodings may differ where the file's encoding came from the key's history), minus
  exactly the keys the loss report names.
- malformed lines (bad JSON, wrong field types, bad base64, unknown type, NaN score,
  stream ids going backwards, ...) stop the load with one line on stderr, exit code 7,
  and OUT is not created.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import (
    RdbCase,
    case_params,
    external_cases,
    jsonl_keys,
    project_cases,
    run_rdbtool,
    tb,
)

from rdbtools import read_rdb, records
from rdbtools.cli.rdbtool import main
from rdbtools.errors import CorruptInput
from rdbtools.ops.dump import dump
from rdbtools.ops.load import load_events
from rdbtools.rdb.writer import RdbWriter


def cli(*args: str, stdin: bytes | None = None) -> Any:
    """``rdbtool ARGS`` in-process (click's runner); ``.exit_code``, ``.stdout_bytes``,
    ``.stderr_bytes``."""
    runner = CliRunner()
    return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)


def own_version(data: bytes) -> str:
    return "valkey" if data.startswith(b"VALKEY") else str(int(data[5:9]))


def key_lines(jsonl: bytes) -> list[bytes]:
    return [line for line in jsonl.splitlines() if line.startswith(b'{"db"')]


def record_lines(jsonl: bytes, kinds: tuple[str, ...]) -> list[bytes]:
    out = []
    for line in jsonl.splitlines():
        obj = json.loads(line)
        if obj.get("record") in kinds:
            out.append(line)
    return out


ROUNDTRIP_DIFFERENCES: dict[str, dict[bytes, str]] = {}
"""Keys whose line may differ after the round trip, per case, with the reason (none)."""


def _writable(case: RdbCase) -> bool:
    head = case.data[:9]
    return head.startswith(b"VALKEY") or (head.startswith(b"REDIS") and 6 <= int(head[5:9]) <= 12)


@pytest.mark.parametrize(
    "case",
    case_params(
        # a single-file AOF is replayed by the CLI (encoding "replayed"): its keyspace is
        # covered by tests/test_cli_aof_input.py and tests/test_replay.py
        [c for c in project_cases() if _writable(c) and c.kind != "aof-preamble"],
        external_placeholder=False,
    ),
)
def test_dump_load_dump_identical(case: RdbCase | None, tmp_path: Path) -> None:
    assert case is not None
    first = tmp_path / "first.jsonl"
    rdb = tmp_path / "loaded.rdb"
    second = tmp_path / "second.jsonl"
    r = cli("dump", str(case.path), "--jsonl", "-o", str(first))
    assert r.exit_code == 0, r.stderr_bytes
    r = cli("load", str(first), "-o", str(rdb), "--to-version", own_version(case.data))
    assert r.exit_code == 0, r.stderr_bytes
    assert b"0 losses" in r.stderr_bytes, r.stderr_bytes
    r = cli("dump", str(rdb), "--jsonl", "-o", str(second))
    assert r.exit_code == 0, r.stderr_bytes
    a, b = first.read_bytes(), second.read_bytes()
    ka, kb = key_lines(a), key_lines(b)
    assert len(ka) == len(kb)
    allowed = ROUNDTRIP_DIFFERENCES.get(case.id, {})
    differ = {}
    for x, y in zip(ka, kb):
        if x != y:
            differ[tb(json.loads(x)["key"])] = (x[:200], y[:200])
    assert set(differ) == set(allowed), differ
    # the values of the documented differences are still the same
    ga, _ = jsonl_keys([json.loads(line) for line in ka])
    gb, _ = jsonl_keys([json.loads(line) for line in kb])
    assert ga == gb
    # functions and module aux records come through too
    kinds = ("function", "module_aux")
    assert record_lines(a, kinds) == record_lines(b, kinds)


def _external_params() -> list[Any]:
    out = []
    for case in external_cases():
        truth = case.truth or {}
        el = truth.get("expected_load")
        if isinstance(el, str) and el.startswith("fail"):
            continue
        if _writable(case):
            out.append(case)
    return case_params(out)


@pytest.mark.parametrize("case", _external_params())
def test_external_dump_load_same_values(case: RdbCase | None) -> None:
    """Other people's files: the loaded RDB holds the same values, TTLs and field TTLs;
    the keys the loss report names are exactly those missing."""
    assert case is not None
    out = io.BytesIO()
    dump(read_rdb(io.BytesIO(case.data)), out, format="jsonl")
    a = out.getvalue()
    rdb = io.BytesIO()
    report = RdbWriter(rdb, own_version(case.data)).write_all(load_events(a.splitlines(), "a"))
    out = io.BytesIO()
    dump(read_rdb(io.BytesIO(rdb.getvalue())), out, format="jsonl")
    ga, _ = jsonl_keys([json.loads(x) for x in key_lines(a)])
    gb, _ = jsonl_keys([json.loads(x) for x in key_lines(out.getvalue())])
    lost = {(x.db, x.key) for x in report.losses if x.key is not None}
    assert set(ga) - set(gb) == lost
    for k in gb:
        assert ga[k] == gb[k], k


# --------------------------------------------------------------------------- malformed


GOOD = b'{"db":0,"key":"ok","type":"string","encoding":"raw","expire_at_ms":null,"value":"x"}'

MALFORMED: dict[str, tuple[bytes, str]] = {
    "bad-json": (b'{"db":0,"key":"a","type":"string","value":"x"', "in.jsonl:2:"),
    "not-an-object": (b'[1, 2]', "in.jsonl:2:"),
    "db-as-text": (b'{"db":"0","key":"a","type":"string","value":"x"}', "in.jsonl:2: $.db"),
    "negative-db": (b'{"db":-1,"key":"a","type":"string","value":"x"}', "in.jsonl:2: $.db"),
    "key-number": (b'{"db":0,"key":5,"type":"string","value":"x"}', "in.jsonl:2: $.key"),
    "value-missing": (b'{"db":0,"key":"a","type":"string"}', "in.jsonl:2: $.value"),
    "list-not-array": (b'{"db":0,"key":"a","type":"list","value":"x"}', "in.jsonl:2: $.value"),
    "bad-base64": (b'{"db":0,"key":"a","type":"string","value":{"b64":"!!"}}',
                   "in.jsonl:2: $.value: bad base64"),
    "b64-extra-member": (b'{"db":0,"key":"a","type":"string","value":{"b64":"AA==","x":1}}',
                         "in.jsonl:2: $.value"),
    "unknown-type": (b'{"db":0,"key":"a","type":"blob","value":"x"}', "in.jsonl:2: $.type"),
    "expire-text": (b'{"db":0,"key":"a","type":"string","expire_at_ms":"soon","value":"x"}',
                    "in.jsonl:2: $.expire_at_ms"),
    "score-text": (b'{"db":0,"key":"z","type":"zset","value":[["m","one"]]}',
                   "in.jsonl:2: $.value[0][1]"),
    "zset-pair": (b'{"db":0,"key":"z","type":"zset","value":[["m"]]}', "in.jsonl:2: $.value[0]"),
    "nan-score": (b'{"db":0,"key":"z","type":"zset","value":[["m","nan"]]}', "NaN"),
    "hash-pair": (b'{"db":0,"key":"h","type":"hash","value":[["f"]]}', "in.jsonl:2: $.value[0]"),
    "field-ttl-text": (b'{"db":0,"key":"h","type":"hash","value":{"f":"v"},'
                       b'"field_expires":{"f":"x"}}', "in.jsonl:2: $.field_expires"),
    "stream-id": (b'{"db":0,"key":"s","type":"stream","value":{"entries":[["x",[["f","v"]]]],'
                  b'"last_id":"1-0","groups":[]}}', "in.jsonl:2: $.value.entries[0][0]"),
    "stream-backwards": (b'{"db":0,"key":"s","type":"stream","value":{"entries":'
                         b'[["5-0",[["f","v"]]],["4-0",[["f","v"]]]],"last_id":"5-0","groups":[]}}',
                         "in.jsonl:2: $.value.entries[1][0]"),
    "stream-last-id-before-entries": (b'{"db":0,"key":"s","type":"stream","value":{"entries":'
                                      b'[["5-0",[["f","v"]]]],"last_id":"1-0","groups":[]}}',
                                      "in.jsonl:2: $.value.last_id"),
    "stream-no-last-id": (b'{"db":0,"key":"s","type":"stream","value":{"entries":[]}}',
                          "in.jsonl:2: $.value.last_id"),
    "group-not-object": (b'{"db":0,"key":"s","type":"stream","value":{"entries":[],'
                         b'"last_id":"0-0","groups":[5]}}', "in.jsonl:2: $.value.groups[0]"),
    "module-name": (b'{"db":0,"key":"m","type":"module","value":{"module":"x","module_version":0,'
                    b'"payload":"\\u0000"}}', "in.jsonl:2: $.value.module: module name"),
    "module-payload": (b'{"db":0,"key":"m","type":"module","value":{"module":"hellotype",'
                       b'"module_version":0,"payload":{"b64":"BQ=="}}}', "module"),
    "unknown-record": (b'{"record":"blob"}', "in.jsonl:2: $.record"),
    "surrogate": (b'{"db":0,"key":"\\ud800","type":"string","value":"x"}', "in.jsonl:2: $.key"),
    "invalid-utf8": (b'{"db":0,"key":"\xff","type":"string","value":"x"}', "in.jsonl:2"),
    "empty-list": (b'{"db":0,"key":"e","type":"list","value":[]}', None),  # a loss, not an error
}  # fmt: skip


WRITER_REFUSES = {"nan-score": 7, "module-payload": 7}
"""Lines that follow the schema but hold a value no RDB can store: a write error."""


def _key_named(line: bytes) -> str | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj.get("key") if isinstance(obj, dict) and isinstance(obj.get("key"), str) else None


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_line(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line, want = MALFORMED[name]
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD + b"\n" + line + b"\n" + GOOD.replace(b'"ok"', b'"ok2"') + b"\n")
    out = tmp_path / "out.rdb"
    monkeypatch.chdir(tmp_path)
    r = cli("load", "in.jsonl", "-o", str(out))
    if want is None:
        assert r.exit_code == 0, r.stderr_bytes
        assert b"1 keys dropped" in r.stderr_bytes
        return
    err = r.stderr_bytes.decode()
    assert r.exit_code == WRITER_REFUSES.get(name, 3), err
    assert err.count("\n") == 1 and err.startswith("rdbtool: "), err
    assert want in err, err
    key = _key_named(line)
    if key is not None and name not in ("key-number", "surrogate"):  # no bytes to show
        assert repr(key)[1:-1] in err or repr(key.encode())[2:-1] in err, err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"], "temp file left behind"


def test_malformed_line_subprocess(tmp_path: Path) -> None:
    """The same through the installed script: one line on stderr, exit 3, no OUT."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD + b"\n" + MALFORMED["bad-base64"][0] + b"\n")
    out = tmp_path / "out.rdb"
    proc = run_rdbtool("load", str(src), "-o", str(out))
    assert proc.returncode == 3
    assert proc.stderr.decode().count("\n") == 1
    assert b"in.jsonl:2: $.value: bad base64 (key b'a')" in proc.stderr
    assert not out.exists()


def test_strict_load_refuses_a_loss(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"db":0,"key":"h","type":"hash","value":{"f":"v"},"field_expires":{"f":4102444800000}}\n'
    )
    out = tmp_path / "out.rdb"
    r = cli("load", str(src), "-o", str(out), "--to-version", "11", "--strict")
    assert r.exit_code == 7, r.stderr_bytes
    assert not out.exists()
    r = cli("load", str(src), "-o", str(out), "--to-version", "12", "--strict")
    assert r.exit_code == 0, r.stderr_bytes
    (rec,) = records(read_rdb(str(out)))
    assert rec.value == [(b"f", b"v", 4102444800000)]
    r = cli("load", str(src), "-o", str(out), "--to-version", "11")
    assert r.exit_code == 0
    assert b"lost: db 0 key b'h': 1 field TTL(s) dropped" in r.stderr_bytes


def test_load_from_stdin_and_to_valkey(tmp_path: Path) -> None:
    lines = GOOD + b"\n\n" + b'{"db":3,"key":{"b64":"/w=="},"type":"set","value":["1","2"]}\n'
    out = tmp_path / "out.rdb"
    r = cli("load", "-", "-o", str(out), "--to-valkey", stdin=lines)
    assert r.exit_code == 0, r.stderr_bytes
    data = out.read_bytes()
    assert data.startswith(b"VALKEY080")
    recs = {(x.db, x.key): x for x in records(read_rdb(str(out)))}
    assert recs[(3, b"\xff")].value == [b"1", b"2"]
    assert recs[(3, b"\xff")].encoding == "intset"


def test_load_both_targets_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD + b"\n")
    r = cli("load", str(src), "-o", str(tmp_path / "o"), "--to-version", "9", "--to-valkey")
    assert r.exit_code == 2
    r = cli("load", str(src), "-o", str(tmp_path / "o"), "--to-version", "5")
    assert r.exit_code in (2, 7)
    assert not (tmp_path / "o").exists()


def test_load_events_api_errors_name_the_line() -> None:
    with pytest.raises(CorruptInput, match=r"^src:3: \$\.value: bad base64 \(key b'k'\)$"):
        list(load_events([GOOD, b"", b'{"key":"k","type":"string","value":{"b64":"*"}}'], "src"))


@pytest.mark.parametrize("stdin", [b"", b" \n\t\n\n"])
def test_empty_dump_is_refused(tmp_path: Path, stdin: bytes) -> None:
    out = tmp_path / "out.rdb"
    r = cli("load", "-", "-o", str(out), "--to-version", "9", stdin=stdin)
    assert r.exit_code == 3, r.stderr_bytes
    assert "-@0x0: empty input" in r.stderr
    assert not out.exists()


def test_dump_of_an_empty_rdb_loads_to_an_empty_rdb(tmp_path: Path) -> None:
    """Not empty input: the header and end records of an RDB without keys."""
    out = tmp_path / "out.rdb"
    dump = b'{"record":"header","magic":"REDIS","version":9}\n'
    r = cli("load", "-", "-o", str(out), "--to-version", "9", stdin=dump)
    assert r.exit_code == 0, r.stderr_bytes
    events = list(read_rdb(str(out)))
    assert events[0].version == 9 and events[-1].checksum_state == "ok"
