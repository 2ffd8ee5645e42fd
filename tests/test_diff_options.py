"""``rdbtool diff --exclude``, ``--summary``, ``--sort`` and ``--schema``, on two BullMQ
snapshots of one server. Every expectation is computed here from the two files' keys
(the diff compares TTLs as absolute times and drops nothing by the clock, so the answers
do not depend on the day the test runs)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import REPO

import rdbtools.diff._sort as sort_mod
from rdbtools import read_rdb, records
from rdbtools.cli.rdbtool import main
from rdbtools.diff._prefixes import PrefixCounts, key_prefix
from rdbtools.diff._sort import sorted_items
from rdbtools.ops._glob import compile_glob
from rdbtools.ops.diff import collect, diff_files

BULL = REPO.parent / "shared" / "fixtures" / "bullmq-7.0.15"
SNAP1, SNAP2 = BULL / "snap1.rdb", BULL / "snap2.rdb"

pytestmark = pytest.mark.skipif(not SNAP1.is_file(), reason=f"fixture {SNAP1} not found")


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["diff", *args], catch_exceptions=False)


def key_types(path: Path) -> dict[bytes, str]:
    return {r.key: r.type for r in records(read_rdb(str(path))) if r.db == 0}


def differing_keys() -> dict[bytes, str]:
    """Each differing key of db 0 -> '-', '+' or '~', from the library's keys-only diff."""
    changes, _ = collect(diff_files(str(SNAP1), str(SNAP2), keys_only=True))
    kind = {"added": "+", "removed": "-"}
    return {c.key: kind.get(c.change, "~") for c in changes if c.db == 0}


def text_keys(output: str) -> set[str]:
    return {line.split(" ", 2)[2].split(" (")[0] for line in output.splitlines()}


def test_exclude_leaves_the_matching_keys_out_on_both_sides() -> None:
    events = compile_glob(b"bull:*:events")
    a, b = key_types(SNAP1), key_types(SNAP2)
    streams = sorted(k for k in set(a) | set(b) if events.fullmatch(k))
    assert streams and {a.get(k, b.get(k)) for k in streams} == {"stream"}
    full = cli(str(SNAP1), str(SNAP2))
    assert full.exit_code == 1
    entry_lines = [ln for ln in full.stdout.splitlines() if " entry " in ln]
    assert entry_lines, "the snapshots' event streams should differ"
    r = cli(str(SNAP1), str(SNAP2), "--exclude", "bull:*:events")
    assert r.exit_code == 1
    assert not [ln for ln in r.stdout.splitlines() if " entry " in ln]
    kept = [ln for ln in full.stdout.splitlines()
            if not events.fullmatch(ln.split(" ", 2)[2].split(" ", 1)[0].encode())]
    assert r.stdout.splitlines() == kept
    # repeatable; the counts on stderr are those of the keys left
    both = cli(str(SNAP1), str(SNAP2), "--keys-only", "--exclude", "bull:*:events",
               "--exclude", "bull:emails:*")
    want = {k for k in differing_keys() if not events.fullmatch(k)
            and not k.startswith(b"bull:emails:")}
    assert text_keys(both.stdout) == {k.decode() for k in want}
    left = (set(a) | set(b))
    left = {k for k in left if not events.fullmatch(k) and not k.startswith(b"bull:emails:")}
    s = both.stderr.strip().split("keys: ")[1]
    counted = sum(int(part.split()[0]) for part in s.split("; ")[0].split(", "))
    assert counted == len(left)


def test_summary_counts_by_prefix_and_type() -> None:
    a, b = key_types(SNAP1), key_types(SNAP2)
    want: Counter[tuple[str, str, str]] = Counter()
    for key, sign in differing_keys().items():
        tp = a[key] if sign == "-" else b[key]
        kind = {"-": "removed", "+": "added", "~": "changed"}[sign]
        want[key_prefix(key, b":", 2).decode(), tp, kind] += 1
    r = cli(str(SNAP1), str(SNAP2), "--summary", "--jsonl")
    assert r.exit_code == 1
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    got: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        for kind in ("changed", "added", "removed"):
            if row[kind]:
                got[row["prefix"], row["type"], kind] += row[kind]
    assert got == want
    assert [(x["prefix"], x["type"]) for x in rows] == sorted((x["prefix"], x["type"])
                                                              for x in rows)
    text = cli(str(SNAP1), str(SNAP2), "--summary").stdout.splitlines()
    assert text[0].split() == ["prefix", "type", "changed", "added", "removed"]
    assert [ln.split() for ln in text[1:]] == [
        [x["prefix"], x["type"], str(x["changed"]), str(x["added"]), str(x["removed"])]
        for x in rows]
    deeper = cli(str(SNAP1), str(SNAP2), "--summary", "--jsonl", "--summary-depth", "3")
    prefixes = {json.loads(line)["prefix"] for line in deeper.stdout.splitlines()}
    assert "bull:emails:events" in prefixes or "bull:images:events" in prefixes


def test_prefix_rows_are_bounded() -> None:
    counts = PrefixCounts(1, max_rows=3)
    for i in range(10):
        counts.add("added", b"k%d:x" % i, "string")
    rows = counts.rows()
    assert len(rows) == 4 and rows[-1].prefix == b"(other)" and rows[-1].added == 7
    assert key_prefix(b"a:b:c", b":", 2) == b"a:b:" and key_prefix(b"a:b", b":", 2) == b"a:b"


def _groups(text: str) -> list[list[str]]:
    """Lines grouped by key (a key's lines come together)."""
    out: list[list[str]] = []
    last = None
    for line in text.splitlines():
        obj = json.loads(line)
        where = (obj["db"], json.dumps(obj["key"]))
        if where != last:
            out.append([])
            last = where
        out[-1].append(line)
    return out


def _sort_key(group: list[str]) -> tuple[int, int, bytes]:
    obj = json.loads(group[0])
    key = obj["key"]
    raw = key.encode() if isinstance(key, str) else __import__("base64").b64decode(key["b64"])
    return (1, 0, raw) if obj["db"] is None else (0, obj["db"], raw)


@pytest.mark.parametrize("budget", ["256", "1"])
def test_sort_gives_the_same_changes_in_key_order(budget: str, tmp_path: Path) -> None:
    plain = cli(str(SNAP1), str(SNAP2), "--jsonl")
    r = cli(str(SNAP1), str(SNAP2), "--jsonl", "--sort", "--memory-budget", budget,
            "--tmpdir", str(tmp_path))
    assert r.exit_code == 1 and r.stderr == plain.stderr
    want = sorted(_groups(plain.stdout), key=_sort_key)
    got = _groups(r.stdout)
    assert got == want and len(got) > 1000
    assert list(tmp_path.iterdir()) == []


def test_sorted_items_merges_many_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sort_mod, "FAN_IN", 3)
    items = [((0, i % 3, b"%07d" % ((i * 7919) % 10007)), f"line {i}\n") for i in range(2000)]
    got = list(sorted_items(items, 5000, str(tmp_path)))
    assert got == sorted(items, key=lambda x: x[0])
    assert list(tmp_path.iterdir()) == []


def test_summary_and_sort_together_is_a_usage_error() -> None:
    r = cli(str(SNAP1), str(SNAP2), "--summary", "--sort")
    assert r.exit_code == 2


def test_schema_is_in_the_package_and_matches_the_docs() -> None:
    r = cli("--schema")
    assert r.exit_code == 0
    doc = (REPO / "docs" / "diff.md").read_text()
    start = doc.index("One object per change, always with these six members")
    end = doc.index("The library behind it")
    assert doc[start:end].rstrip() in r.stdout
    assert "--summary --jsonl" in r.stdout
    help_text = " ".join(CliRunner().invoke(main, ["diff", "--help"]).stdout.split())
    assert "rdbtool diff --schema" in help_text and "docs/" not in help_text
