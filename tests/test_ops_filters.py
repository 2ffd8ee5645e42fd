"""Key filters: Redis-style globs, regexes, databases, types, expired keys."""

from __future__ import annotations

from typing import Any

import pytest
from cli_support import file_events, key_events
from hypothesis import given
from hypothesis import strategies as st

from rdbtools.events import (
    Aux,
    End,
    Event,
    Header,
    KeyEnd,
    KeyStart,
    ListItems,
    SelectDb,
    StringValue,
)
from rdbtools.ops._glob import compile_glob
from rdbtools.ops.filters import KeyFilter, filter_events


def glob(pattern: bytes, key: bytes) -> bool:
    return compile_glob(pattern).fullmatch(key) is not None


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        (b"*", b"", True),
        (b"*", b"a\nb", True),
        (b"user:*", b"user:1", True),
        (b"user:*", b"use", False),
        (b"h?llo", b"hello", True),
        (b"h?llo", b"hllo", False),
        (b"h[ae]llo", b"hallo", True),
        (b"h[ae]llo", b"hillo", False),
        (b"h[^e]llo", b"hallo", True),
        (b"h[^e]llo", b"hello", False),
        (b"h[a-b]llo", b"hbllo", True),
        (b"h[b-a]llo", b"hallo", True),  # reversed range
        (b"h\\*llo", b"h*llo", True),
        (b"h\\*llo", b"hello", False),
        (b"[\\]]", b"]", True),
        (b"[]", b"a", False),
        (b"[^]", b"a", True),
        (b"a[bc", b"ab", True),  # unclosed: the rest is the set
        (b"a\\", b"a\\", True),  # trailing backslash matches itself
        (b"a.c", b"abc", False),  # regex metacharacters are literal
        (b"\xff*", b"\xff\x00", True),
        (b"**x", b"abx", True),
    ],
)
def test_glob(pattern: bytes, key: bytes, expected: bool) -> None:
    assert glob(pattern, key) is expected


def test_glob_agrees_with_a_live_server(redis_server: Any) -> None:
    keys = [
        b"hello",
        b"hallo",
        b"hxllo",
        b"h*llo",
        b"a]b",
        b"a-b",
        b"ab",
        b"a\\",
        b"x\ny",
        b"user:1",
        b"user:22",
        b"\xff\xfe",
        b"[x]",
        b"a^b",
        b"b",
    ]
    patterns = [
        b"h?llo",
        b"h[ae]llo",
        b"h[^e]llo",
        b"h[a-e]llo",
        b"h[e-a]llo",
        b"h\\*llo",
        b"a[]]b",
        b"a[\\]]b",
        b"a[-]b",
        b"a[^-]b",
        b"*",
        b"user:?",
        b"user:*",
        b"a\\",
        b"x?y",
        b"\xff*",
        b"[[]x]",
        b"a^b",
        b"[^a]",
        b"a[bc",
        b"[]",
        b"[^]",
        b"a[b-]",
    ]
    client = redis_server.client
    for k in keys:
        client.set(k, b"1")
    for p in patterns:
        want = sorted(client.keys(p))
        got = sorted(k for k in keys if glob(p, k))
        assert got == want, p


def _events() -> list[Event]:
    return list(
        file_events(
            key_events(b"user:1", "string", StringValue(b"a"), expire_ms=100),
            key_events(b"user:2", "list", ListItems((b"x",)), expire_ms=200),
            key_events(b"session", "string", StringValue(b"b")),
            key_events(b"user:3", "string", StringValue(b"c"), db=2),
        )
    )


def kept(key_filter: KeyFilter) -> list[tuple[int, bytes]]:
    out = list(filter_events(_events(), key_filter))
    starts = [e for e in out if isinstance(e, KeyStart)]
    # file-level events always pass, and every kept key is whole
    file_level = [type(e) for e in out if isinstance(e, (Header, Aux, SelectDb, End))]
    assert file_level == [Header, Aux, SelectDb, SelectDb, End]
    assert sum(isinstance(e, KeyEnd) for e in out) == len(starts)
    assert sum(isinstance(e, (StringValue, ListItems)) for e in out) == len(starts)
    return [(e.db, e.key) for e in starts]


def test_filters() -> None:
    everything = [(0, b"user:1"), (0, b"user:2"), (0, b"session"), (2, b"user:3")]
    assert kept(KeyFilter()) == everything
    assert kept(KeyFilter(dbs=frozenset({2}))) == [(2, b"user:3")]
    assert kept(KeyFilter(key_glob=b"user:*")) == [(0, b"user:1"), (0, b"user:2"), (2, b"user:3")]
    assert kept(KeyFilter(key_regex=rb"ss")) == [(0, b"session")]
    assert kept(KeyFilter(key_regex=rb"^user:[12]$")) == [(0, b"user:1"), (0, b"user:2")]
    assert kept(KeyFilter(types=frozenset({"list"}))) == [(0, b"user:2")]
    assert kept(KeyFilter(key_glob=b"user:*", dbs=frozenset({0}), types=frozenset({"string"}))) == [
        (0, b"user:1")
    ]


def test_no_expired_boundary() -> None:
    # a key expiring at exactly "now" is still alive (Redis: expired when now > when)
    assert kept(KeyFilter(no_expired=True, now_ms=100)) == [
        (0, b"user:1"),
        (0, b"user:2"),
        (0, b"session"),
        (2, b"user:3"),
    ]
    assert kept(KeyFilter(no_expired=True, now_ms=101)) == [
        (0, b"user:2"),
        (0, b"session"),
        (2, b"user:3"),
    ]
    assert kept(KeyFilter(no_expired=True)) == [(0, b"session"), (2, b"user:3")]
    assert kept(KeyFilter(now_ms=10**15)) == kept(KeyFilter())  # now alone filters nothing


def test_unknown_type() -> None:
    with pytest.raises(ValueError, match="bitmap"):
        KeyFilter(types=frozenset({"bitmap"}))


def test_bad_regex() -> None:
    with pytest.raises(ValueError, match="bad key regex"):
        KeyFilter(key_regex=b"a(b")


@given(st.binary(max_size=12), st.binary(max_size=12))
def test_any_pattern_compiles_and_escaped_keys_match_themselves(pattern: bytes, key: bytes) -> None:
    assert glob(pattern, key) in (True, False)
    assert glob(b"*", key) and glob(
        key.replace(b"\\", b"\\\\")
        .replace(b"*", b"\\*")
        .replace(b"?", b"\\?")
        .replace(b"[", b"\\["),
        key,
    )
