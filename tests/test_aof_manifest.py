"""The multi-part manifest (FORMAT.md §8.5): the grammar as the server reads it, the
rules on records, resolving the files, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_aof_support import resp

from rdbtools.aof import open_aof, parse_manifest, read_aof
from rdbtools.aof._splitargs import SplitError, splitargs
from rdbtools.aof.manifest import resolve, unlisted
from rdbtools.errors import CorruptInput
from rdbtools.events import AofPart, Command


def test_splitargs() -> None:
    assert splitargs(b"  a  b\tc ") == [b"a", b"b", b"c"]
    assert splitargs(b'"a b" \'c d\'') == [b"a b", b"c d"]
    assert splitargs(b'"\\x41\\x4a\\n\\r\\t\\b\\a\\"\\\\\\q"') == [b"AJ\n\r\t\b\a\"\\q"]
    assert splitargs(b"'it\\'s'") == [b"it's"]
    assert splitargs(b'ab"c d" e') == [b"abc d", b"e"]
    assert splitargs(b"a\vb") == [b"a\vb"]  # a bare word ends at space \t \n \r only
    assert splitargs(b"") == []
    for bad in (b'"abc', b"'abc", b'"a"b', b"'a'b", b'ab"c d"e'):
        with pytest.raises(SplitError):
            splitargs(bad)


def parse(text: bytes) -> object:
    return parse_manifest(text, "dir/appendonly.aof.manifest")


def test_server_written_manifest() -> None:
    m = parse_manifest(b"file appendonly.aof.1.base.rdb seq 1 type b\n"
                       b"file appendonly.aof.1.incr.aof seq 1 type i\n", "m")
    assert m.base is not None and m.base.name == "appendonly.aof.1.base.rdb"
    assert [e.name for e in m.incrs] == ["appendonly.aof.1.incr.aof"]
    assert [e.name for e in m.parts] == ["appendonly.aof.1.base.rdb",
                                        "appendonly.aof.1.incr.aof"]


def test_grammar_accepts() -> None:
    m = parse_manifest(
        b"# a comment\n"
        b"FILE \"base \\x41.rdb\" SEQ 3 Type b future value\n"
        b"file h.aof seq 2 type h\n"
        b"  seq 4 type i file 'x y.aof' \t\r\n"
        b"file z.aof seq 9 type incr\n", "m")
    assert m.base is not None and m.base.name == "base A.rdb" and m.base.seq == 3
    assert [(e.name, e.seq, e.line) for e in m.incrs] == [("x y.aof", 4, 4), ("z.aof", 9, 5)]
    assert [e.name for e in m.history] == ["h.aof"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (b"", None, "empty AOF manifest"),
        (b"file a seq 1 type b\n\n", 2, "empty line"),
        (b"file a seq 1 type b\n   \n", 2, "empty line"),
        (b"file a seq 1 type b", 1, "too long line"),
        (b"file a seq 1 type b\nfile " + b"x" * 1100 + b" seq 2 type i\n", 2, "too long"),
        (b"file a seq 1\n", 1, "Invalid AOF manifest file format"),
        (b"file a seq 1 type\n", 1, "Invalid AOF manifest file format"),
        (b"file a seq 1 kind b\n", 1, "no type"),
        (b"file a seq 0 type b\n", 1, "seq must be a positive integer"),
        (b"file a seq x type b\n", 1, "seq must be a positive integer"),
        (b"file dir/a seq 1 type b\n", 1, "File can't be a path"),
        (b"file dir\\a seq 1 type b\n", 1, "File can't be a path"),
        (b"file a seq 1 type x\n", 1, "Unknown AOF file type"),
        (b"file a seq 1 type b\nfile b seq 2 type b\n", 2, "duplicate base"),
        (b"file a seq 2 type i\nfile b seq 2 type i\n", 2, "non-monotonic"),
        (b"file a seq 3 type i\nfile b seq 2 type i\n", 2, "non-monotonic"),
        (b"file a seq 1 type b\nfile a seq 2 type i\n", 2, "listed twice"),
        (b'file "a seq 1 type b\n', 1, "unbalanced"),
    ],
)
def test_grammar_rejects(text: bytes, line: int | None, message: str) -> None:
    with pytest.raises(CorruptInput) as info:
        parse(text)
    err = info.value
    assert message in str(err)
    assert err.source == "dir/appendonly.aof.manifest"
    if line is not None:
        assert f"line {line}:" in err.message
        assert err.offset == sum(len(ln) + 1 for ln in text.split(b"\n")[: line - 1])


def make_dir(tmp_path: Path, manifest: bytes, files: dict[str, bytes]) -> Path:
    d = tmp_path / "appendonlydir"
    d.mkdir()
    (d / "appendonly.aof.manifest").write_bytes(manifest)
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


def test_load_order_and_history(tmp_path: Path) -> None:
    d = make_dir(tmp_path, b"file appendonly.aof.5.base.aof seq 5 type b\n"
                           b"file appendonly.aof.4.incr.aof seq 4 type h\n"
                           b"file appendonly.aof.6.incr.aof seq 6 type i\n"
                           b"file appendonly.aof.7.incr.aof seq 7 type i\n",
                 {"appendonly.aof.5.base.aof": resp(b"SET", b"a", b"1"),
                  "appendonly.aof.6.incr.aof": resp(b"SELECT", b"2") + resp(b"SET", b"b", b"2"),
                  "appendonly.aof.7.incr.aof": resp(b"SET", b"c", b"3")})
    events = list(read_aof(str(d)))
    parts = [(Path(e.path).name, e.kind) for e in events if isinstance(e, AofPart)]
    assert parts == [("appendonly.aof.5.base.aof", "base"), ("appendonly.aof.6.incr.aof", "incr"),
                     ("appendonly.aof.7.incr.aof", "incr")]
    cmds = [(c.db, c.args[1]) for c in events if isinstance(c, Command)]
    # each file starts in database 0, as the server loads it
    assert cmds == [(0, b"a"), (0, b"2"), (2, b"b"), (0, b"c")]


def test_missing_file_names_the_line(tmp_path: Path) -> None:
    d = make_dir(tmp_path, b"file appendonly.aof.1.base.aof seq 1 type b\n"
                           b"file appendonly.aof.1.incr.aof seq 1 type i\n",
                 {"appendonly.aof.1.base.aof": b""})
    with pytest.raises(CorruptInput) as info:
        open_aof(str(d))
    assert "line 2: incr file 'appendonly.aof.1.incr.aof' is listed but missing" in str(
        info.value)


def test_extra_part_file_is_ignored_as_the_server_ignores_it(tmp_path: Path) -> None:
    """A crash between the renames of a rewrite leaves new part files the manifest does
    not list yet: the server loads the listed ones, and so does the reader."""
    d = make_dir(tmp_path, b"file appendonly.aof.1.base.aof seq 1 type b\n",
                 {"appendonly.aof.1.base.aof": resp(b"SET", b"a", b"1"),
                  "appendonly.aof.2.incr.aof": resp(b"SET", b"b", b"2"),
                  "temp-rewriteaof-1.aof": b"", "appendonly.aof.1.base.aof.bak.x": b""})
    layout = open_aof(str(d))
    assert [Path(f.path).name for f in layout.files] == ["appendonly.aof.1.base.aof"]
    assert unlisted(layout.manifest) == ["appendonly.aof.2.incr.aof"]  # type: ignore[arg-type]
    cmds = [c.args for c in read_aof(str(d)) if isinstance(c, Command)]
    assert cmds == [(b"SET", b"a", b"1")]


def test_directory_without_one_manifest(tmp_path: Path) -> None:
    with pytest.raises(CorruptInput, match="no \\*.manifest"):
        open_aof(str(tmp_path))
    (tmp_path / "a.manifest").write_bytes(b"file x seq 1 type b\n")
    (tmp_path / "b.manifest").write_bytes(b"file x seq 1 type b\n")
    with pytest.raises(CorruptInput, match="2 manifests"):
        open_aof(str(tmp_path))


def test_comment_only_manifest_has_no_files(tmp_path: Path) -> None:
    d = make_dir(tmp_path, b"# nothing yet\n", {})
    assert open_aof(str(d)).files == ()
    assert list(read_aof(str(d))) == []


def test_manifest_detection(tmp_path: Path) -> None:
    plain = tmp_path / "x.aof"
    plain.write_bytes(b"#TS:1\r\n" + resp(b"PING"))
    assert open_aof(str(plain)).kind == "single"
    man = tmp_path / "appendonly.aof.manifest"
    man.write_bytes(b"# c\nfile x.aof seq 1 type i\n")
    (tmp_path / "x.aof").write_bytes(resp(b"PING"))
    assert open_aof(str(man)).kind == "multi"
    assert resolve(open_aof(str(man)).manifest)[0][1].name == "x.aof"  # type: ignore[arg-type]
