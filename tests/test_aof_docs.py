"""The examples of ``docs/aof.md`` are run, as ``test_cli_docs`` runs those of
``docs/cli.md``: each ``$ command`` of a ``console`` block in ``bash`` in a temporary
directory holding a ``fixtures`` link; it must exit 0 and print the lines that follow
(``...`` stands for any lines)."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_cli_docs
from helpers import REPO
from test_cli_docs import Example, console_blocks

DOC = REPO / "docs" / "aof.md"


def test_doc_has_examples() -> None:
    assert len(console_blocks(DOC)) >= 6


@pytest.mark.parametrize(
    "block", [pytest.param(b, id=f"aof.md-{n}") for n, b in enumerate(console_blocks(DOC), 1)]
)
def test_aof_doc_example(block: list[Example], tmp_path: Path) -> None:
    test_cli_docs.test_example(block, tmp_path)


def test_readme_mentions_aoftool() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "aoftool" in text and "docs/aof.md" in text
