"""Module values decoded from the shared module fixture (RedisJSON, RedisBloom), checked
against what the modules themselves said of each key, and damaged payloads."""

from __future__ import annotations

import ast
import json
import struct
from pathlib import Path

import pytest
from helpers import run_rdbtool
from helpers_modules import AOF_DIR, RDB, key_overhead, need_fixtures, truth

from rdbtools import read_rdb, records
from rdbtools.errors import CorruptInput
from rdbtools.events import ModuleValue
from rdbtools.rdb import module_types as M


def _module_records() -> dict[str, ModuleValue]:
    need_fixtures()
    out = {}
    for rec in records(read_rdb(RDB)):
        if rec.type == "module":
            assert isinstance(rec.value, ModuleValue)
            out[rec.key.decode()] = rec.value
    return out


def test_every_json_document_equals_json_get() -> None:
    values = _module_records()
    docs = {k: v for k, v in truth().items() if v["type"] == "ReJSON-RL"}
    assert len(docs) == 24
    for key, rec in docs.items():
        decoded = values[key].decoded
        assert decoded is not None and decoded.type == "json"
        assert decoded.document == rec["json"], key
        assert values[key].module_name == "ReJSON-RL"


def test_topk_list_equals_topk_list() -> None:
    values = _module_records()
    decoded = values["topk"].decoded
    assert decoded is not None
    assert [b.decode() for b in decoded.header["list"]] == truth()["topk"]["list"]  # type: ignore[attr-defined]


def _info_names(rec: dict[str, object]) -> set[str]:
    """The truth file kept the field names of each ``*.INFO`` reply (its values were lost
    when the reply was paired up); names are keys and ``b'..'`` strings."""
    info = rec["info"]
    assert isinstance(info, dict)
    names = set(info)
    for v in info.values():
        names.add(ast.literal_eval(v).decode() if str(v).startswith("b'") else str(v))
    return names


@pytest.mark.parametrize("key", ["bf:auto", "bf:small", "cf:x", "cms", "td"])
def test_probabilistic_header_has_every_info_field(key: str) -> None:
    decoded = _module_records()[key].decoded
    assert decoded is not None
    sizes = {"Size", "Memory usage"}  # memory figures: see test_module_memory_*
    assert _info_names(truth()[key]) - sizes <= set(decoded.header)


@pytest.mark.parametrize("key", ["bf:auto", "bf:small", "cf:x", "topk"])
def test_module_memory_equals_memory_usage(key: str) -> None:
    """RedisBloom's ``mem_usage`` for these types counts the blocks the decoder lists."""
    decoded = _module_records()[key].decoded
    assert decoded is not None
    assert sum(decoded.allocations) + key_overhead(key.encode()) == truth()[key]["memory_usage"]


def test_json_memory_model_close_to_memory_usage() -> None:
    values = _module_records()
    for key, rec in truth().items():
        if rec["type"] != "ReJSON-RL":
            continue
        decoded = values[key].decoded
        assert decoded is not None
        modelled = sum(decoded.allocations) + key_overhead(key.encode())
        if not isinstance(rec["json"], (dict, list)) or key == "json:arr":
            assert modelled == rec["memory_usage"], key
        else:
            assert abs(modelled - rec["memory_usage"]) <= 8, key


def test_fixture_payload_sizes() -> None:
    """The header facts a reader can check without the module: BF.RESERVE 0.01 100 then
    150 adds scales to a second filter of twice the capacity."""
    bf = _module_records()["bf:small"].decoded
    assert bf is not None
    assert bf.header["Number of filters"] == 2
    assert bf.header["Capacity"] == 300
    assert bf.header["Number of items inserted"] == 150
    cms = _module_records()["cms"].decoded
    assert cms is not None and cms.header == {"width": 100, "depth": 5, "count": 12}


# --------------------------------------------------------------------------- damage


def _damaged(tmp_path: Path, key: bytes, patch: int, new: bytes) -> Path:
    """The fixture with ``new`` written ``patch`` bytes into ``key``'s payload (the
    checksum zeroed: the writer did not compute it)."""
    data = bytearray(RDB.read_bytes())
    at = _module_records()[key.decode()].offset
    data[at + patch:at + patch + len(new)] = new
    data[-8:] = bytes(8)
    out = tmp_path / "damaged.rdb"
    out.write_bytes(bytes(data))
    return out


def test_damaged_cms_names_offset_key_and_module(tmp_path: Path) -> None:
    need_fixtures()
    # the payload opens with UINT (02) width 100 (40 64): make it 101
    path = _damaged(tmp_path, b"cms", 1, b"\x40\x65")
    with pytest.raises(CorruptInput) as info:
        list(read_rdb(path))
    err = info.value
    assert err.key == b"cms"
    assert "CMSk-TYPE" in err.message and "101x5" in err.message
    assert err.offset is not None and RDB.read_bytes()[err.offset] == 5  # the STRING opcode


def test_damaged_json_text(tmp_path: Path) -> None:
    need_fixtures()
    # json:num is STRING "3.25": 05 04 '3' '.' '2' '5'; make it "3x25"
    path = _damaged(tmp_path, b"json:num", 3, b"x")
    with pytest.raises(CorruptInput) as info:
        list(read_rdb(path))
    assert info.value.key == b"json:num"
    assert "ReJSON-RL" in info.value.message and "does not parse" in info.value.message


def _ops(*items: tuple[int, object]) -> bytes:
    out = b""
    for op, v in items:
        out += bytes([op])
        if op in (1, 2):
            assert isinstance(v, int) and v < 1 << 14
            out += bytes([v]) if v < 64 else bytes([0x40 | v >> 8, v & 0xFF])
        elif op == 4:
            out += struct.pack("<d", v)
        elif op == 5:
            assert isinstance(v, bytes) and len(v) < 64
            out += bytes([len(v)]) + v
    return out + b"\x00"


def test_json_v0_node_tree() -> None:
    """RedisJSON 1.x (encoding version 0): {"a": [1, 2.5, "x", true, null]}."""
    payload = _ops((2, 0x20), (2, 1), (2, 0x80), (5, b"a"), (2, 0x40), (2, 5),
                   (2, 0x8), (2, 1), (2, 0x4), (4, 2.5), (2, 0x2), (5, b"x"),
                   (2, 0x10), (5, b"1"), (2, 0x1))
    data = M.decode("ReJSON-RL", 0, payload)
    assert data is not None and data.document == {"a": [1, 2.5, "x", True, None]}


def test_json_v2_with_search_hint() -> None:
    payload = _ops((5, b'{"k":[1]}'), (2, 1), (5, b"idx"), (5, b"x"))
    data = M.decode("ReJSON-RL", 2, payload)
    assert data is not None and data.document == {"k": [1]}


def test_json_v4_cbor_with_typed_array() -> None:
    cbor2 = pytest.importorskip("cbor2")
    doc = {"v": cbor2.CBORTag(85, struct.pack("<3f", 0.1, 1.5, -2.0)), "s": "é"}
    blob = cbor2.dumps(doc)
    assert len(blob) < 64
    data = M.decode("ReJSON-RL", 4, _ops((5, blob)))
    assert data is not None and data.document == {"v": [0.1, 1.5, -2.0], "s": "é"}


def test_trailing_values_and_wrong_opcode_are_errors() -> None:
    with pytest.raises(CorruptInput, match="1 values after"):
        M.decode("CMSk-TYPE", 0, _ops((2, 1), (2, 1), (2, 0), (5, b"\0\0\0\0"), (2, 7)))
    with pytest.raises(CorruptInput, match="reads a UINT here, the payload has a DOUBLE"):
        M.decode("CMSk-TYPE", 0, _ops((4, 1.0)))
    with pytest.raises(CorruptInput, match="payload ends"):
        M.decode("TopK-TYPE", 0, _ops((2, 1)))


def test_unknown_versions_stay_opaque() -> None:
    assert M.decode("ReJSON-RL", 5, _ops((5, b"1"))) is None
    assert M.decode("MBbloom--", 9, _ops((2, 1))) is None
    assert M.decode("hellotype", 0, _ops((2, 1))) is None


# --------------------------------------------------------------------------- AOF


def test_dump_of_module_aof_shows_not_replayed_keys(tmp_path: Path) -> None:
    need_fixtures()
    run = run_rdbtool("dump", str(AOF_DIR))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stdout.splitlines()]
    keys = {x["key"]: x for x in lines if "key" in x}
    assert keys["bf:small"]["type"] == "not-replayed"
    assert keys["bf:small"]["value"] == {"not_replayed": {"BF.RESERVE": 1, "BF.ADD": 150}}
    assert keys["json:ttl"]["value"]["json"] == {"t": 1}
    assert keys["json:ttl"]["expire_at_ms"] == 4102444800000
    strict = run_rdbtool("dump", "--strict", str(AOF_DIR))
    assert strict.returncode == 5
    assert "replay: unsupported command BF.RESERVE (key b'bf:small')" in strict.stderr.decode()


# --------------------------------------------------------------------------- diff


def _json_rdb(path: Path, docs: dict[bytes, object]) -> Path:
    from rdbtools import write_rdb
    from rdbtools.events import KeyEnd, KeyStart
    from rdbtools.rdb.module_types import json_value

    events: list[object] = []
    for key, doc in docs.items():
        events += [KeyStart(0, key, "module", "module", 7), json_value(doc), KeyEnd(key, 0, 0)]
    with open(path, "wb") as fp:
        write_rdb(events, fp, version=10)  # type: ignore[arg-type]
    return path


def test_diff_compares_json_documents_by_path(tmp_path: Path) -> None:
    a = _json_rdb(tmp_path / "a.rdb", {b"doc": {"a": [1, 2, {"b": "x"}], "n": 1, "gone": True},
                                      b"same": [1, {"k": None}]})
    b = _json_rdb(tmp_path / "b.rdb", {b"doc": {"a": [1, 2, {"b": "y"}, 4], "n": 1.0,
                                                "new key": {}},
                                      b"same": [1, {"k": None}]})
    run = run_rdbtool("diff", str(a), str(b))
    assert run.returncode == 1, run.stderr
    lines = run.stdout.decode().splitlines()
    assert lines == [
        '- db0 doc $.gone: true',
        '+ db0 doc $["new key"]: {}',
        '+ db0 doc $.a[3]: 4',
        '~ db0 doc $.a[2].b: "x" -> "y"',
        '~ db0 doc $.n: 1 -> 1.0',
    ]
    assert "keys: 1 equal, 1 changed, 0 only in A, 0 only in B" in run.stderr.decode()


def test_json_v0_from_redis_4_file() -> None:
    """RedisJSON 1.x (encoding version 0) in a file Redis 4.0 wrote: the node tree the
    fixture's truth lists (dict of 2: "name" string "bb", "counts" integer 4)."""
    from helpers import EXTERNAL

    path = EXTERNAL / "redis-rdb-tools" / "redis_40_with_module.rdb"
    if not path.exists():
        pytest.skip(f"{path} not found")
    recs = {r.key: r for r in records(read_rdb(path, verify_checksum=False))}
    value = recs[b"foo"].value
    assert isinstance(value, ModuleValue) and value.module_version == 0
    assert value.decoded is not None and value.decoded.document == {"name": "bb", "counts": 4}
