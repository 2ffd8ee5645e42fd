"""The examples of ``docs/cli.md``, ``README.md`` and ``docs/api.md`` are run.

In ``console`` blocks each ``$ command`` runs in ``bash`` in a temporary directory holding
a ``fixtures`` link to the fixtures, with stderr merged into stdout; it must exit 0 and
print the lines that follow it (a line ``...`` stands for any number of lines). The
``python`` blocks of the README run in such a directory too, with deprecation warnings
as errors, and must exit 0; each ``python`` block of the library reference
(``docs/api.md``) is followed by a ``text`` block, and must print exactly that."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, REPO, cli_env

DOCS = [REPO / "docs" / "cli.md", REPO / "README.md"]
Example = tuple[str, list[str]]


def fenced_blocks(path: Path) -> list[tuple[str, str]]:
    """``(language, text)`` of every fenced block of ``path``, in order."""
    blocks: list[tuple[str, str]] = []
    lang: str | None = None
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if lang is None:
            if line.startswith("```"):
                lang, lines = line[3:].strip(), []
        elif line.strip() == "```":
            blocks.append((lang, "\n".join(lines)))
            lang = None
        else:
            lines.append(line)
    return blocks


def python_blocks(path: Path) -> list[str]:
    return [text for lang, text in fenced_blocks(path) if lang == "python"]


def python_examples(path: Path) -> list[tuple[str, str]]:
    """``(code, printed)``: each ``python`` block of ``path`` with the ``text`` block
    that must follow it."""
    blocks = fenced_blocks(path)
    found = []
    for n, (lang, text) in enumerate(blocks):
        if lang == "python":
            after = blocks[n + 1] if n + 1 < len(blocks) else ("", "")
            assert after[0] == "text", f"{path.name}: a python block without its output"
            found.append((text, after[1] + "\n"))
    return found


API = REPO / "docs" / "api.md"


def console_blocks(path: Path) -> list[list[Example]]:
    blocks: list[list[Example]] = []
    block: list[Example] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if block is None:
            if line.strip() == "```console":
                block = []
        elif line.strip() == "```":
            blocks.append(block)
            block = None
        elif line.startswith("$ "):
            block.append((line[2:], []))
        elif block:
            block[-1][1].append(line)
    return blocks


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` fits ``expected``, where a ``...`` line matches any lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(expected[1:], actual[1:])


def params() -> list[object]:
    out = []
    for doc in DOCS:
        if doc.is_file():
            for n, block in enumerate(console_blocks(doc), 1):
                out.append(pytest.param(block, id=f"{doc.name}-{n}"))
    return out


def test_docs_have_examples() -> None:
    assert len(console_blocks(REPO / "docs" / "cli.md")) >= 5


def workdir(tmp_path: Path) -> dict[str, str]:
    """Prepare ``tmp_path`` (a ``fixtures`` link) and return the environment to run in."""
    if not (FIXTURES / "7.0.15" / "small-encodings.rdb").is_file():
        pytest.skip(f"fixtures not found in {FIXTURES}")
    (tmp_path / "fixtures").symlink_to(FIXTURES)
    env = cli_env()
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_python(code: str, tmp_path: Path) -> str:
    """Run ``code`` in ``tmp_path`` (see ``workdir``), deprecation warnings as errors; it
    must exit 0. Returns what it printed."""
    env = workdir(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(c, id=f"README-python-{n}")
        for n, c in enumerate(python_blocks(REPO / "README.md"), 1)
    ],
)
def test_python_example(code: str, tmp_path: Path) -> None:
    assert run_python(code, tmp_path)


def test_api_reference_names_every_public_name() -> None:
    import rdbtools

    text = API.read_text(encoding="utf-8")
    assert len(python_examples(API)) >= 4
    for name in rdbtools.__all__:
        assert f"`{name}" in text, name


@pytest.mark.parametrize(
    ("code", "printed"),
    [pytest.param(c, p, id=f"api-python-{n}") for n, (c, p) in enumerate(python_examples(API), 1)],
)
def test_api_example(code: str, printed: str, tmp_path: Path) -> None:
    assert run_python(code, tmp_path) == printed


def run_block(block: list[Example], cwd: Path, env: dict[str, str]) -> None:
    """Run the commands of one ``console`` block in ``cwd``; each must exit 0 and print
    what follows it."""
    for command, expected in block:
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
        actual = proc.stdout.decode("utf-8", "replace").splitlines()
        assert proc.returncode == 0, (command, actual)
        assert matches(expected, actual), (command, "\n".join(actual))


@pytest.mark.parametrize("block", params())
def test_example(block: list[Example], tmp_path: Path) -> None:
    run_block(block, tmp_path, workdir(tmp_path))
