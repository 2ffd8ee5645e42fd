"""The terminal progress line: off unless stderr is a terminal, erased on close."""

from __future__ import annotations

import io

from rdbtools.cli._progress import Progress, human_bytes


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress(1000, stream=out) as p:
        p.update(500, 3)
    assert out.getvalue() == ""


def test_on_a_terminal_draws_and_erases() -> None:
    out = Tty()
    p = Progress(1000, label="restore", stream=out)
    p.update(500, 3)
    text = out.getvalue()
    assert "restore" in text and "50.0%" in text and "3 keys" in text
    p.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_forced_off_on_a_terminal() -> None:
    out = Tty()
    p = Progress(10, enabled=False, stream=out)
    p.update(5, 1)
    p.close()
    assert out.getvalue() == ""


def test_unknown_total_has_no_eta() -> None:
    p = Progress(None, enabled=False)
    p.update(2048, 7)
    assert "ETA" not in p.line() and "%" not in p.line() and "2.0 KiB" in p.line()


def test_human_bytes() -> None:
    assert human_bytes(10) == "10 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**3) == "3.0 GiB"
