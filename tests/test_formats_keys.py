"""``--keys``: one key per line, quoted with redis-cli escapes only when needed."""

from __future__ import annotations

import io

from cli_support import file_events, key_events

from rdbtools.formats.keys import KeysWriter, key_line
from rdbtools.quoting import quote_key


def test_key_lines() -> None:
    assert key_line(b"user:1") == b"user:1\n"
    assert key_line("ключ:🔑".encode()) == "ключ:🔑\n".encode()
    assert key_line(b"bin\x00\xff") == b"bin\x00\xff\n"
    assert key_line(b"a\nb") == b'"a\\nb"\n'
    assert key_line(b"a\r") == b'"a\\r"\n'
    assert key_line(b'"q"') == b'"\\"q\\""\n'
    assert key_line(b'a"b') == b'a"b\n'
    assert quote_key(b"\t\x07\x08\\\x00\xe9 ~") == b'"\\t\\a\\b\\\\\\x00\\xe9 ~"'


def test_writer() -> None:
    out = io.BytesIO()
    w = KeysWriter(out)
    for ev in file_events(key_events(b"a", "string"), key_events(b"b\n", "set", db=2)):
        w.write(ev)
    w.close()
    assert out.getvalue() == b'a\n"b\\n"\n' and w.keys == 2
