"""The HTML memory report, rendered in headless Chromium: the script ran (no error
marker, charts and treemap drawn), the numbers on the page are those of the CSV rows,
key names are escaped, zooming works, and a screenshot is kept under
``tests/artifacts/``.

Chromium is Debian's ``chromium`` package at ``/usr/bin/chromium``. Without it the
tests skip (and say why), except under ``CI=true``, where that is a failure."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import urllib.parse
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import FIXTURES, REPO

from rdbtools.cli.rdbtool import main
from rdbtools.memory.aggregate import prefix_of
from rdbtools.reports.memory.rows import csv_unkey

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"
SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"
EVIL = b"<script>alert(1)</script>"


def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        reason = (f"{CHROMIUM} not found: install Debian's chromium "
                  "(apt-get install -y --no-install-recommends chromium)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


def run_chromium(tmp_path: Path, *args: str) -> bytes:
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args],
        capture_output=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc.stdout


def _len(n: int) -> bytes:
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def _string(key: bytes, value: bytes, expire_ms: int | None = None) -> bytes:
    head = b"" if expire_ms is None else b"\xfc" + expire_ms.to_bytes(8, "little")
    return head + b"\x00" + _len(len(key)) + key + _len(len(value)) + value


def evil_rdb(path: Path) -> None:
    """An RDB 9 file (checksum not computed) whose keys carry markup in their names."""
    ctime = b"1795741020"
    parts = [b"REDIS0009", b"\xfa" + _len(5) + b"ctime" + _len(len(ctime)) + ctime, b"\xfe\x00"]
    parts.append(_string(EVIL, b"x" * 40_000))
    for i in range(6):
        parts.append(_string(EVIL + b":x:%d" % i, b"v" * (50 * i + 1)))
    parts.append(_string(EVIL + b":y:1", b"w" * 2000, expire_ms=1795741020000 + 3_600_000))
    parts.append(_string(b'quote"&amp;<b>bold</b>:1', b"1234"))
    parts.append(b"\xff" + b"\x00" * 8)
    path.write_bytes(b"".join(parts))


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.text: list[str] = []

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)

    def find_all(self, pred: Any) -> list[Node]:
        out = [self] if pred(self) else []
        for c in self.children:
            out += c.find_all(pred)
        return out


VOID = {"meta", "br", "img", "input", "link", "hr", "rect", "line"}


class Dom(HTMLParser):
    """A small DOM: elements with attributes, children and text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.cur.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.cur))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data: str) -> None:
        self.cur.text.append(data)

    def by_id(self, ident: str) -> Node:
        found = self.root.find_all(lambda n: n.attrs.get("id") == ident)
        assert len(found) == 1, ident
        return found[0]

    def all(self, tag: str, **attrs: str) -> list[Node]:
        return self.root.find_all(
            lambda n: n.tag == tag and all(n.attrs.get(k.replace("_", "-")) == v
                                           for k, v in attrs.items())
        )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CSV rows and HTML report of the fixture and the markup-key file, together."""
    tmp = tmp_path_factory.mktemp("memory-html")
    evil = tmp / "evil.rdb"
    evil_rdb(evil)
    files = [str(SMALL), str(evil)]
    runner = CliRunner()
    out = runner.invoke(main, ["memory", *files, "--csv"])
    assert out.exit_code == 0, out.output
    rows = []
    for r in csv.DictReader(io.StringIO(out.stdout)):
        r["key"] = csv_unkey(r["key"])
        for col in ("memory", "size", "elements", "db"):
            r[col] = int(r[col])
        rows.append(r)
    page = tmp / "report.html"
    res = runner.invoke(main, ["memory", *files, "--html", str(page), "--top", "12"])
    assert res.exit_code == 0, res.output
    return {"tmp": tmp, "rows": rows, "page": page, "files": files}


def test_page_is_self_contained_and_escaped(report: dict[str, Any]) -> None:
    text = report["page"].read_text(encoding="utf-8")
    assert EVIL.decode() not in text
    assert "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    for ref in ("src=", "href=", "@import", "url(", "http://", "https://"):
        assert ref not in text.replace('"http://www.w3.org/2000/svg"', ""), ref
    assert text.count("<script") == 2


def test_rendered_page_matches_the_csv(report: dict[str, Any], tmp_path: Path) -> None:
    url = report["page"].as_uri()
    dom = Dom(run_chromium(tmp_path, "--dump-dom", url).decode("utf-8"))
    rows = report["rows"]
    body = dom.all("body")[0]
    assert body.attrs.get("data-rendered") == "ok"
    assert "hidden" in dom.by_id("error").attrs and not dom.by_id("error").all_text().strip()
    # markup in key names is text, not elements
    assert len(dom.all("script")) == 2
    assert all(b.all_text() != "bold" for b in dom.all("b"))
    assert EVIL.decode() in dom.by_id("top-keys").all_text()
    # totals
    assert int(dom.by_id("total-keys").attrs["data-v"]) == len(rows)
    assert int(dom.by_id("total-memory").attrs["data-v"]) == sum(r["memory"] for r in rows)
    assert int(dom.by_id("total-size").attrs["data-v"]) == sum(r["size"] for r in rows)
    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_file: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        for table, name in ((by_type, r["type"]), (by_file, r["file"])):
            table[name][0] += 1
            table[name][1] += r["memory"]
    for tr in dom.by_id("type-totals").find_all(lambda n: n.tag == "tr")[1:]:
        tds = [n for n in tr.children if n.tag == "td"]
        name = tds[0].all_text()
        assert [int(tds[1].attrs["data-v"]), int(tds[2].attrs["data-v"])] == by_type[name]
    files = dom.by_id("file-totals").find_all(lambda n: n.tag == "tr")[1:]
    assert len(files) == 2
    for tr in files:
        tds = [n for n in tr.children if n.tag == "td"]
        assert [int(tds[1].attrs["data-v"]), int(tds[2].attrs["data-v"])] == \
            by_file[tds[0].all_text()]
    # the chart the script drew from the embedded data
    bars = dom.root.find_all(lambda n: n.attrs.get("data-chart") == "types")[0]
    drawn = {g.attrs["data-name"]: [int(g.attrs["data-keys"]), int(g.attrs["data-memory"])]
             for g in bars.find_all(lambda n: n.tag == "g")}
    assert drawn == dict(by_type)
    for chart in ("encodings", "dbs", "ttl", "elements", "memory"):
        svg = dom.root.find_all(lambda n, c=chart: n.attrs.get("data-chart") == c)[0]
        assert svg.find_all(lambda n: n.tag == "rect"), chart
    # top keys: the 12 largest rows, in order
    top = dom.by_id("top-keys").find_all(lambda n: n.tag == "tr")[1:]
    memories = [int(tr.children[0].attrs["data-v"]) for tr in top]
    assert memories == sorted((r["memory"] for r in rows), reverse=True)[:12]
    shown = {tr.children[1].all_text() for tr in top}
    assert {r["key"].decode("utf-8", "replace") for r in rows
            if r["memory"] > memories[-1]} <= shown
    # the treemap: depth-1 prefixes with the sums of their rows
    treemap = dom.by_id("treemap")
    assert treemap.attrs.get("data-zoom") == "(all keys)"
    nodes = treemap.find_all(lambda n: n.tag == "g" and "data-prefix" in n.attrs)
    assert len(nodes) >= 5
    want: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        p = prefix_of(r["key"], b":", 1)
        if p is not None:
            want[p.decode("utf-8", "replace")][0] += 1
            want[p.decode("utf-8", "replace")][1] += r["memory"]
    checked = 0
    for g in nodes:
        name = g.attrs["data-prefix"]
        if name in want:
            assert [int(g.attrs["data-keys"]), int(g.attrs["data-memory"])] == want[name], name
            checked += 1
    assert checked >= 5 and EVIL.decode() + ":" in [g.attrs["data-prefix"] for g in nodes]
    assert sum(int(g.attrs["data-memory"]) for g in nodes) == sum(r["memory"] for r in rows)


def test_zoom_into_a_prefix(report: dict[str, Any], tmp_path: Path) -> None:
    prefix = EVIL.decode() + ":"
    url = report["page"].as_uri() + "#prefix=" + urllib.parse.quote(prefix, safe="")
    dom = Dom(run_chromium(tmp_path, "--dump-dom", url).decode("utf-8"))
    assert dom.all("body")[0].attrs.get("data-rendered") == "ok"
    treemap = dom.by_id("treemap")
    assert treemap.attrs.get("data-zoom") == prefix
    names = {g.attrs["data-prefix"]: int(g.attrs["data-memory"]) for g in
             treemap.find_all(lambda n: n.tag == "g" and "data-prefix" in n.attrs)}
    rows = report["rows"]
    for child in ("x", "y"):
        under = EVIL + b":" + child.encode() + b":"
        want = sum(r["memory"] for r in rows if r["key"].startswith(under))
        assert names[f"{prefix}{child}:"] == want
    assert "(all keys)" in dom.by_id("crumbs").all_text()


def test_screenshot(report: dict[str, Any], tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "memory-report.png"
    shot.unlink(missing_ok=True)
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000",
                 report["page"].as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2000)
    print(f"screenshot: {shot}")


@pytest.mark.parametrize("args", [["--key", "no-such-key*"], ["--depth", "0", "--top", "0"]],
                         ids=["no-keys", "no-prefixes-no-top"])
def test_degenerate_reports_render(args: list[str], tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    res = CliRunner().invoke(main, ["memory", str(SMALL), "--html", str(page), *args])
    assert res.exit_code == 0, res.output
    dom = Dom(run_chromium(tmp_path, "--dump-dom", page.as_uri()).decode("utf-8"))
    assert dom.all("body")[0].attrs.get("data-rendered") == "ok"
    assert "hidden" in dom.by_id("error").attrs
    assert dom.by_id("treemap").attrs.get("data-zoom") == "(all keys)"


def test_a_script_failure_shows_the_error_marker(report: dict[str, Any], tmp_path: Path) -> None:
    text = report["page"].read_text(encoding="utf-8")
    start = text.index('<script type="application/json" id="report-data">')
    end = text.index("</script>", start)
    broken = tmp_path / "broken.html"
    broken.write_text(text[:start] + '<script type="application/json" id="report-data">{'
                      + text[end:], encoding="utf-8")
    dom = Dom(run_chromium(tmp_path, "--dump-dom", broken.as_uri()).decode("utf-8"))
    assert dom.all("body")[0].attrs.get("data-rendered") == "error"
    error = dom.by_id("error")
    assert "hidden" not in error.attrs and "report script error" in error.all_text()
