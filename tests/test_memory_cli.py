"""``rdbtool memory``: rows (JSON Lines, CSV), the summary (text, JSON) and its
aggregation. Expected numbers come from the rows themselves (the summary must equal sums
over the rows), from the truth files (which keys) or from rows built here; never from
copies of the estimates."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_cli_docs
from click.testing import CliRunner
from helpers import FIXTURES, REPO, load_truth, run_rdbtool, tb
from hypothesis import given
from hypothesis import strategies as st
from test_cli_docs import Example, console_blocks, python_blocks

from rdbtools.cli.rdbtool import main
from rdbtools.events import Aux
from rdbtools.memory.aggregate import (
    FREQ_BUCKETS,
    IDLE_BUCKETS,
    MemoryAggregator,
    PrefixTable,
    prefix_of,
    summarize_rows,
)
from rdbtools.memory.rows import COLUMNS, MemoryRow
from rdbtools.rdb.reader import read_rdb
from rdbtools.reports.memory.rows import csv_key, csv_unkey
from rdbtools.reports.memory.text import summary_text

SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"
LFU = FIXTURES / "7.4.1" / "lfu.rdb"
LRU = FIXTURES / "6.2.14" / "lru.rdb"
AOF_DIR = FIXTURES / "7.0.15" / "aof-multipart-preamble-yes-writes"
DOC = REPO / "docs" / "memory.md"


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["memory", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def jsonl_rows(*args: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in cli(*args, "--jsonl").splitlines()]
    for r in rows:
        assert list(r) == list(COLUMNS)
        r["key"] = tb(r["key"])
    return rows


def summary(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli(*args, "--json"))
    return data


def sums(rows: list[dict[str, Any]], by: str) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        name = f"{r['type']}/{r['encoding']}" if by == "encoding" else str(r[by])
        out[name][0] += 1
        out[name][1] += r["memory"]
    return {k: (v[0], v[1]) for k, v in out.items()}


def truth_keys(path: Path) -> set[tuple[int, bytes]]:
    truth = load_truth(path.with_name(path.name.removesuffix(".rdb") + ".truth.json"))
    return {(k["db"], tb(k["key"])) for k in truth["keys"]}


# --------------------------------------------------------------------------- rows


def test_rows_are_the_files_keys_and_csv_equals_jsonl() -> None:
    rows = jsonl_rows(str(SMALL))
    assert {(r["db"], r["key"]) for r in rows} == truth_keys(SMALL)
    assert len(rows) == len(truth_keys(SMALL))
    assert all(r["file"] == str(SMALL) and r["memory"] > 0 and r["size"] > 0 for r in rows)
    table = list(csv.reader(io.StringIO(cli(str(SMALL), "--csv"))))
    assert tuple(table[0]) == COLUMNS
    assert len(table) == len(rows) + 1
    for cells, row in zip(table[1:], rows):
        got = dict(zip(COLUMNS, cells))
        assert csv_unkey(got["key"]) == row["key"]
        for col in COLUMNS:
            if col == "key":
                continue
            want = row[col]
            assert got[col] == ("" if want is None else str(want)), (col, row["key"])


def test_csv_key_escapes_round_trip() -> None:
    keys = [b"plain:key", b"a,b\"c", b"line\nbreak\r", b"back\\slash\\x41", b"\xff\xfe\x00",
            "é✓".encode(), b"\x7f\x1b[31m", b"", b"tab\there", b"\xe2\x82"]
    for key in keys:
        cell = csv_key(key)
        assert "\n" not in cell and "\r" not in cell
        assert csv_unkey(cell) == key, key
    assert csv_key(b"user:1") == "user:1"
    assert csv_key(b"a\\b") == "a\\\\b"
    assert csv_key(b"\x00\xff") == "\\x00\\xff"


def test_output_file_and_filters(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    cli(str(SMALL), "--csv", "-o", str(out), "--type", "hash", "--db", "0")
    table = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    truth = load_truth(SMALL.with_name("small-encodings.truth.json"))
    want = {tb(k["key"]) for k in truth["keys"] if k["type"] == "hash" and k["db"] == 0}
    assert want
    assert {csv_unkey(r["key"]) for r in table} == want
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]


def test_aof_input_is_replayed() -> None:
    truth = load_truth(AOF_DIR.with_name(AOF_DIR.name + ".truth.json"))
    rows = jsonl_rows(str(AOF_DIR / "appendonlydir"))
    assert {(r["db"], r["key"]) for r in rows} == {(k["db"], tb(k["key"])) for k in truth["keys"]}
    assert all(r["size"] == 0 and r["memory"] > 0 for r in rows)


# --------------------------------------------------------------------------- summary


def test_summary_equals_sums_over_rows() -> None:
    rows = jsonl_rows(str(SMALL))
    s = summary(str(SMALL), "--top", "7", "--depth", "3")
    assert s["keys"] == len(rows)
    assert s["memory"] == sum(r["memory"] for r in rows)
    assert s["size"] == sum(r["size"] for r in rows)
    for section, by in (("types", "type"), ("dbs", "db"), ("encodings", "encoding")):
        got = {t["name"]: (t["keys"], t["memory"]) for t in s[section]}
        assert got == sums(rows, by), section
        assert [t["memory"] for t in s[section]] == sorted(
            (t["memory"] for t in s[section]), reverse=True
        )
    # the top N are the N largest rows
    top = [(r["memory"], tb(r["key"])) for r in s["top"]]
    ranked = sorted(rows, key=lambda r: -r["memory"])
    assert [m for m, _ in top] == [r["memory"] for r in ranked[:7]]
    cut = ranked[6]["memory"]
    assert {k for m, k in top if m > cut} == {r["key"] for r in ranked if r["memory"] > cut}
    assert {k for _, k in top} <= {r["key"] for r in rows if r["memory"] >= cut}
    # per type percentiles (every value here is below 1024 elements or exact at the max)
    for spread in s["per_type"]:
        mems = sorted(r["memory"] for r in rows if r["type"] == spread["type"])
        assert spread["keys"] == len(mems)
        assert spread["memory"]["min"] == mems[0] and spread["memory"]["max"] == mems[-1]


def test_prefix_sums_equal_sums_over_rows() -> None:
    rows = jsonl_rows(str(SMALL))
    s = summary(str(SMALL), "--top", "100000", "--depth", "3", "--raw-prefixes")
    assert len(s["prefixes"]) == 3 and s["prefix_patterns"] is False
    for level in s["prefixes"]:
        d = level["depth"]
        want: dict[bytes, list[int]] = defaultdict(lambda: [0, 0])
        without = [0, 0]
        for r in rows:
            p = prefix_of(r["key"], b":", d)
            cell = without if p is None else want[p]
            cell[0] += 1
            cell[1] += r["memory"]
        got = {tb(p["prefix"]): [p["keys"], p["memory"]] for p in level["prefixes"]}
        assert got == dict(want), d
        assert level["other"] is None and level["folds"] == 0
        w = level["without_prefix"]
        assert [w["keys"], w["memory"]] == without
    # with a short list, the rest is one (other) row and the sums still hold
    s = summary(str(SMALL), "--top", "2", "--prefix", "e", "--depth", "1", "--raw-prefixes")
    level = s["prefixes"][0]
    listed = level["prefixes"] + [level["other"], level["without_prefix"]]
    assert sum(p["keys"] for p in listed) == len(rows)
    assert sum(p["memory"] for p in listed) == s["memory"]
    assert len(level["prefixes"]) == 2 and level["other"]["keys"] > 0
    assert all(tb(p["prefix"]).endswith(b"e") for p in level["prefixes"])


BULLMQ = REPO.parent / "shared" / "fixtures" / "bullmq-7.0.15" / "snap2.rdb"
_UUID = re.compile(r"\A[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\Z", re.I)


def _is_id(segment: str) -> bool:
    """The id rule written out as its docs say it: digits, a UUID, or 8+ hex digits
    holding a digit."""
    if segment.isdigit() or _UUID.match(segment):
        return True
    return (len(segment) >= 8 and all(ch in "0123456789abcdefABCDEF" for ch in segment)
            and any(ch.isdigit() for ch in segment))


def _fold(segment: str) -> str:
    if _is_id(segment):
        return "{id}"
    # a number between -, _ or . and the end of the segment (or another of them)
    out, i = [], 0
    while i < len(segment):
        j = i
        while j < len(segment) and segment[j].isdigit():
            j += 1
        if j > i and i > 0 and segment[i - 1] in "-_." and (j == len(segment)
                                                            or segment[j] in "-_."):
            out.append("{id}")
            i = j
        else:
            out.append(segment[i:j] if j > i else segment[i])
            i = max(j, i + 1)
    return "".join(out)


def _pattern(key: bytes, depth: int) -> bytes | None:
    parts = key.decode("utf-8", "surrogateescape").split(":")
    if len(parts) < depth:
        return None
    head = ":".join(_fold(p) for p in parts[:depth])
    return (head + ":" if len(parts) > depth else head).encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("path", [SMALL, BULLMQ], ids=["small-encodings", "bullmq"])
def test_pattern_sums_equal_sums_over_rows(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not here")
    rows = jsonl_rows(str(path))
    s = summary(str(path), "--top", "100000", "--depth", "3")
    assert s["prefix_patterns"] is True
    for level in s["prefixes"]:
        d = level["depth"]
        want: dict[bytes, list[int]] = defaultdict(lambda: [0, 0])
        without = [0, 0]
        for r in rows:
            p = _pattern(r["key"], d)
            cell = without if p is None else want[p]
            cell[0] += 1
            cell[1] += r["memory"]
        got = {tb(p["prefix"]): [p["keys"], p["memory"]] for p in level["prefixes"]}
        assert got == dict(want), d
        w = level["without_prefix"]
        assert [w["keys"], w["memory"]] == without


def test_bullmq_jobs_group_by_queue_and_kind() -> None:
    if not BULLMQ.exists():
        pytest.skip(f"{BULLMQ} is not here")
    s = summary(str(BULLMQ), "--depth", "3", "--top", "100")
    depth3 = s["prefixes"][2]
    by_name = {p["prefix"]: p["keys"] for p in depth3["prefixes"]}
    assert [p["prefix"] for p in depth3["prefixes"][:2]] == ["bull:emails:{id}",
                                                             "bull:images:{id}"]
    # jobs, their logs and custom job ids group by queue and kind
    jobs = {"bull:emails:{id}", "bull:images:{id}", "bull:reports:{id}", "bull:emails:{id}:",
            "bull:emails:email-{id}"}
    assert jobs <= set(by_name)
    assert sum(by_name[n] for n in jobs) >= 0.95 * s["keys"]
    # every key has three segments or more: none is left without a pattern
    assert depth3["without_prefix"]["keys"] == 0 and depth3["other"] is None
    assert "patterns, depth 3" in cli(str(BULLMQ), "--depth", "3", "--top", "5")
    raw = summary(str(BULLMQ), "--depth", "3", "--top", "5", "--raw-prefixes")
    assert raw["prefixes"][2]["without_prefix"]["keys"] > 0.9 * raw["keys"]


def test_summaries_say_which_model_was_assumed(tmp_path: Path) -> None:
    text = cli(str(SMALL))
    assert "model: redis-7.0/jemalloc/64, live state (redis 7.0.15 from the file, allocator " \
        "jemalloc assumed)" in text
    assert "--model-from redis://HOST:PORT" in text and "--allocator" in text
    s = summary(str(SMALL), "--allocator", "libc", "--model", "7.2", "--state", "loaded")
    m = s["files"][0]["model"]
    assert (m["name"], m["version_from"], m["allocator_from"], m["state"]) == (
        "redis-7.2/libc/64", "option", "option", "loaded")
    assert s["model_hint"] is None and not m["assumed"]
    assert summary(str(SMALL))["model_hint"] is not None
    out = tmp_path / "r.html"
    CliRunner().invoke(main, ["memory", str(SMALL), "--html", str(out)], catch_exceptions=False)
    page = out.read_text()
    assert "redis-7.0/jemalloc/64" in page and "--model-from redis://HOST:PORT" in page


def test_string_elements_are_bytes_as_in_info() -> None:
    rows = {r["key"]: r for r in jsonl_rows(str(SMALL), "--type", "string")}
    info = json.loads(run_rdbtool("info", str(SMALL), "--json", "--type", "string").stdout)
    truth = {tb(k["key"]): k for k in load_truth(SMALL.with_name(
        "small-encodings.truth.json"))["keys"] if k["type"] == "string"}
    assert rows and all(r["elements"] == len(tb(truth[k]["value"])) for k, r in rows.items())
    assert info["elements"]["string"]["max"] == max(r["elements"] for r in rows.values())


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in
             sorted(FIXTURES.glob("*/*.rdb"))]
)
def test_every_fixture_summary_adds_up(path: Path) -> None:
    rows = jsonl_rows(str(path))
    s = summary(str(path), "--top", "3")
    assert s["keys"] == len(rows) and s["memory"] == sum(r["memory"] for r in rows)
    assert {t["name"]: (t["keys"], t["memory"]) for t in s["types"]} == sums(rows, "type")
    assert [r["memory"] for r in s["top"]] == sorted((r["memory"] for r in rows),
                                                     reverse=True)[:3]
    for level in s["prefixes"]:
        parts = level["prefixes"] + [level["without_prefix"]] + (
            [level["other"]] if level["other"] else [])
        assert sum(p["keys"] for p in parts) == len(rows)
        assert sum(p["memory"] for p in parts) == s["memory"]


def test_several_files() -> None:
    files = [str(SMALL), str(LFU), str(LRU)]
    rows = jsonl_rows(*files)
    assert [r["file"] for r in rows] == sorted(
        (r["file"] for r in rows), key=files.index
    )
    s = summary(*files)
    assert [f["file"] for f in s["files"]] == files
    per_file = sums(rows, "file")
    for f in s["files"]:
        assert (f["keys"], f["memory"]) == per_file[f["file"]]
        assert f["size"] == sum(r["size"] for r in rows if r["file"] == f["file"])
    assert s["keys"] == len(rows) == sum(f["keys"] for f in s["files"])
    assert s["memory"] == sum(f["memory"] for f in s["files"])
    assert {(r["file"], r["db"], r["key"]) for r in rows} >= {
        (str(LFU), db, k) for db, k in truth_keys(LFU)
    }
    text = cli(*files)
    assert text.startswith(f"keys: {len(rows)}, memory: {s['memory']} bytes estimated")
    assert all(f in text for f in files)


def test_idle_and_freq_buckets() -> None:
    for path, attr, names in ((LFU, "freq", FREQ_BUCKETS), (LRU, "idle", IDLE_BUCKETS)):
        rows = jsonl_rows(str(path))
        s = summary(str(path))
        assert [b["bucket"] for b in s[attr]] == [n for n, _ in names]
        values = [r for r in rows if r[attr] is not None]
        assert values and sum(b["keys"] for b in s[attr]) == len(values)
        assert sum(b["memory"] for b in s[attr]) == sum(r["memory"] for r in values)
        other = "idle" if attr == "freq" else "freq"
        assert s[other] == []


def test_ttl_buckets_against_ctime_and_now() -> None:
    ctime = next(
        int(ev.value) * 1000 for ev in read_rdb(str(SMALL))
        if isinstance(ev, Aux) and ev.name == b"ctime"
    )
    rows = jsonl_rows(str(SMALL))
    expiring = sorted(r["expire_at_ms"] for r in rows if r["expire_at_ms"] is not None)
    assert expiring
    for now, source in ((None, "ctime"), (expiring[len(expiring) // 2] + 1, "--now")):
        args = [str(SMALL)] + ([] if now is None else ["--now", str(now)])
        s = summary(*args)
        f = s["files"][0]
        assert f["now_from"] == source
        base = ctime if now is None else now
        assert f["now_ms"] == base
        counts: Counter[str] = Counter()
        for r in rows:
            exp = r["expire_at_ms"]
            if exp is None:
                counts["none"] += 1
            elif exp < base:
                counts["expired"] += 1
            else:
                left = exp - base
                hour = 3_600_000
                for name, limit in (("<1h", hour), ("<1d", 24 * hour), ("<7d", 168 * hour),
                                    ("<30d", 720 * hour)):
                    if left < limit:
                        counts[name] += 1
                        break
                else:
                    counts[">=30d"] += 1
        assert {b["bucket"]: b["keys"] for b in s["ttl"]} == {
            n: counts[n] for n in ("none", "expired", "<1h", "<1d", "<7d", "<30d", ">=30d")
        }
        assert sum(b["memory"] for b in s["ttl"]) == s["memory"]


# --------------------------------------------------------------------------- aggregation


def synthetic_rows(n: int, seed: int = 7) -> list[MemoryRow]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        key = b"%s:%d:%d" % (rnd.choice([b"user", b"s", b"q"]), rnd.randrange(40), i)
        if i % 13 == 0:
            key = b"flat%d" % i
        rows.append(
            MemoryRow(
                file=f"node{i % 3}.rdb", db=i % 4, key=key,
                type=rnd.choice(["string", "hash", "list"]), encoding=rnd.choice(["a", "b"]),
                memory=rnd.randrange(16, 1000), size=rnd.randrange(1, 100),
                elements=rnd.randrange(0, 1000), largest_element=rnd.randrange(0, 50),
                expire_at_ms=None if i % 2 else 1_000_000 + rnd.randrange(-10**6, 10**11),
                idle=rnd.randrange(0, 10**7) if i % 5 else None,
                freq=rnd.randrange(256) if i % 7 else None,
            )
        )
    return rows


def nearest_rank(values: list[int], q: int) -> int:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[rank - 1]


def test_summary_of_synthetic_rows() -> None:
    rows = synthetic_rows(3000)
    s = summarize_rows(rows, top=5, depth=2, now_ms=1_000_000, patterns=False)
    assert (s.keys, s.memory) == (len(rows), sum(r.memory for r in rows))
    for attr, totals in (("type", s.types), ("db", s.dbs), ("file", s.files)):
        want: Counter[str] = Counter()
        for r in rows:
            want[str(getattr(r, attr))] += r.memory
        got = {(t.file if attr == "file" else t.name): t.memory for t in totals}  # type: ignore[union-attr]
        assert got == dict(want)
    assert [r.memory for r in s.top] == sorted((r.memory for r in rows), reverse=True)[:5]
    assert set(s.top) <= set(rows)
    for spread in s.spreads:
        of_type = [r for r in rows if r.type == spread.type]
        for q, v in spread.elements.percentiles:
            assert v == nearest_rank([r.elements for r in of_type], q)
        for q, v in spread.memory.percentiles:
            assert v == nearest_rank([r.memory for r in of_type], q)
    assert sum(b.keys for b in s.idle) == sum(1 for r in rows if r.idle is not None)
    assert sum(b.keys for b in s.freq) == sum(1 for r in rows if r.freq is not None)
    assert {b.name: b.keys for b in s.ttl}["expired"] == sum(
        1 for r in rows if r.expire_at_ms is not None and r.expire_at_ms < 1_000_000
    )
    text = summary_text(s)
    assert f"keys: {len(rows)}, memory: {s.memory} bytes estimated" in text


def test_prefix_of_multi_byte_separator() -> None:
    assert prefix_of(b"a::b::c", b"::", 1) == b"a::"
    assert prefix_of(b"a::b::c", b"::", 2) == b"a::b::"
    assert prefix_of(b"a::b::c", b"::", 3) is None
    assert prefix_of(b"a:::b", b"::", 2) is None
    s = summarize_rows(synthetic_rows(50), separator=b"::", depth=1, patterns=False)
    assert s.prefixes[0].prefixes == () and s.prefixes[0].without.keys == 50


def test_prefix_table_is_bounded() -> None:
    table = PrefixTable(budget=64)
    keys = memory = hot = 0
    for i in range(30_000):
        if i % 10 == 0:
            table.add(b"hot:", 10**6)
            hot += 1
            keys, memory = keys + 1, memory + 10**6
        table.add(b"p%d:" % i, i % 1000 + 1)
        keys, memory = keys + 1, memory + i % 1000 + 1
        assert len(table.entries) <= 128
    assert table.folds > 100
    assert table.entries[b"hot:"] == [hot, hot * 10**6]
    assert sum(k for k, _ in table.entries.values()) + table.other_keys == keys
    assert sum(m for _, m in table.entries.values()) + table.other_memory == memory


def _many_prefix_rows(n: int) -> Iterator[MemoryRow]:
    for i in range(n):
        yield MemoryRow(file="f", db=0, key=b"t%d:u%d:x" % (i, i), type="string",
                        encoding="raw", memory=100 + i % 50, size=1, elements=1,
                        largest_element=1)


def _peak(max_prefixes: int, n: int) -> tuple[int, Any]:
    tracemalloc.start()
    try:
        agg = MemoryAggregator(top=3, depth=2, max_prefixes=max_prefixes, patterns=False)
        agg.add_all(_many_prefix_rows(n))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, agg.summary()


def test_summary_memory_is_bounded_with_many_prefixes() -> None:
    n = 30_000
    bounded, s = _peak(200, n)
    unbounded, _ = _peak(10**6, n)
    for level in s.prefixes:
        assert len(level.prefixes) <= 400 and level.folds > 0 and level.other is not None
        listed = sum(p.keys for p in level.prefixes) + level.other.keys + level.without.keys
        assert listed == n
        assert (sum(p.memory for p in level.prefixes) + level.other.memory
                + level.without.memory) == s.memory
    # 2 depths x 30000 prefixes held vs at most 2 x 400: the bound is what keeps it small
    assert bounded < 1_000_000, bounded
    assert unbounded > 10 * bounded, (bounded, unbounded)


# --------------------------------------------------------------------------- errors


def test_bad_input_is_one_line_with_an_exit_code(tmp_path: Path) -> None:
    data = SMALL.read_bytes()
    cut = tmp_path / "cut.rdb"
    cut.write_bytes(data[: len(data) // 2])
    proc = run_rdbtool("memory", str(cut))
    err = proc.stderr.decode()
    assert proc.returncode == 3, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(cut) in err and "@" in err
    proc = run_rdbtool("memory", str(tmp_path / "missing.rdb"), "--csv")
    assert proc.returncode == 8 and len(proc.stderr.splitlines()) == 1
    for args in (["--csv", "--json"], ["--html", str(tmp_path / "r.html"), "-o", "x"],
                 ["--model", "latest"], ["--prefix", ""], ["--depth", "-1"], [str(SMALL)]):
        result = CliRunner().invoke(main, ["memory", str(SMALL), *args])
        assert result.exit_code == 2, (args, result.output)
    assert not (tmp_path / "r.html").exists()


# --------------------------------------------------------------------------- docs


def test_help_and_docs_mention_the_command() -> None:
    result = CliRunner().invoke(main, ["memory", "--help"])
    assert result.exit_code == 0 and "--max-prefixes" in result.output
    assert "memory" in CliRunner().invoke(main, ["--help"]).output
    assert "docs/memory.md" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "rdbtool memory" in (REPO / "docs" / "cli.md").read_text(encoding="utf-8")


def test_doc_has_examples() -> None:
    assert len(console_blocks(DOC)) >= 3 and python_blocks(DOC)


@pytest.mark.parametrize(
    "block", [pytest.param(b, id=f"memory.md-{n}") for n, b in enumerate(console_blocks(DOC), 1)]
)
def test_doc_example(block: list[Example], tmp_path: Path) -> None:
    test_cli_docs.test_example(block, tmp_path)


@pytest.mark.parametrize(
    "code", [pytest.param(c, id=f"memory.md-python-{n}") for n, c in
             enumerate(python_blocks(DOC), 1)]
)
def test_doc_python_example(code: str, tmp_path: Path) -> None:
    test_cli_docs.test_python_example(code, tmp_path)


@given(st.lists(st.tuples(st.sampled_from(["a.rdb", "dir,x/b.rdb", 'q"uote.rdb', "é.rdb"]),
                          st.binary(max_size=12), st.one_of(st.none(), st.integers(0, 10**13)))),
       st.integers(0, 15))
def test_csv_rows_are_what_csv_writer_writes(items: list[Any], db: int) -> None:
    """The unquoted fast path of ``write_csv`` gives the bytes ``csv.writer`` gives."""
    from rdbtools.memory.rows import COLUMNS, MemoryRow
    from rdbtools.reports.memory.rows import csv_key, write_csv

    rows = [MemoryRow(f, db, k, "hash", "listpack", 72 + len(k), 30, 2, len(k), exp,
                      None if exp is None else 5, 3) for f, k, exp in items]
    out = io.BytesIO()
    assert write_csv(rows, out) == len(rows)
    want = io.StringIO()
    w = csv.writer(want, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow((r.file, r.db, csv_key(r.key), r.type, r.encoding, r.memory, r.size,
                    r.elements, r.largest_element, r.expire_at_ms, r.idle, r.freq))
    assert out.getvalue().decode("utf-8") == want.getvalue()
