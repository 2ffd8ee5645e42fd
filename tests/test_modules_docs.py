"""The examples of ``docs/modules.md`` are run, as those of ``docs/cli.md`` are
(``test_cli_docs``), in a temporary directory holding a ``modules`` link to the module
fixture files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import REPO, cli_env
from helpers_modules import FIXTURE_DIR, need_fixtures
from test_cli_docs import Example, console_blocks, run_block

DOC = REPO / "docs" / "modules.md"


def test_doc_has_examples() -> None:
    assert len(console_blocks(DOC)) >= 6


@pytest.mark.parametrize("block", [pytest.param(b, id=f"modules-{n}")
                                   for n, b in enumerate(console_blocks(DOC), 1)])
def test_example(block: list[Example], tmp_path: Path) -> None:
    need_fixtures()
    (tmp_path / "modules").symlink_to(FIXTURE_DIR)
    env = cli_env()
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    run_block(block, tmp_path, env)
