"""Shared pytest setup: import path, fixture locations, the ``redis_server`` fixture and
an end-of-run summary of the mismatches against unverified external truths."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
for p in (str(REPO), str(TESTS)):
    if p not in sys.path:
        sys.path.insert(0, p)
if importlib.util.find_spec("rdbtools") is None:  # pragma: no cover - not installed
    sys.path.insert(0, str(REPO))

import helpers  # noqa: E402
import helpers_server  # noqa: E402


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The project's copy of the real-server fixtures (``fixtures/<version>/``)."""
    return helpers.FIXTURES


@pytest.fixture(scope="session")
def external_dir() -> Path:
    """``../shared/fixtures/external`` (read in place); skips when it is absent."""
    if not helpers.EXTERNAL.is_dir():
        pytest.skip(f"external fixtures not found at {helpers.EXTERNAL}")
    return helpers.EXTERNAL


def _server_binary() -> str:
    helpers_server.skip_if_clock_shifted()
    missing = None
    if importlib.util.find_spec("redis") is None:
        missing = "the redis Python package is not installed"
    binary = helpers_server.find_redis_server()
    if binary is None:
        missing = (
            "no redis-server binary found ($RDBTOOLS_REDIS_SERVER, /usr/bin/redis-server, PATH)"
        )
    if missing or binary is None:
        if in_ci():
            pytest.fail(f"CI=true but {missing}", pytrace=False)
        pytest.skip(missing or "no redis-server")
    return binary


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[helpers_server.RedisServer]:
    """A fresh ``redis-server`` on a free 127.0.0.1 port, ``--save '' --appendonly no``,
    its ``--dir`` a temp dir. Yields ``RedisServer(client, port, dir, binary, version,
    process)``. Skips (visibly) when no binary or no redis-py is found, unless ``CI=true``:
    then it fails."""
    binary = _server_binary()
    with helpers_server.start_redis_server(tmp_path / "redis", binary=binary) as server:
        yield server


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Any]:
    """``factory(*extra_args)``: a context manager that starts another server like
    ``redis_server`` with extra arguments (same skip/fail rules)."""
    binary = _server_binary()
    counter = iter(range(1000))

    def factory(*extra_args: str) -> Any:
        return helpers_server.start_redis_server(
            tmp_path / f"redis-{next(counter)}", *extra_args, binary=binary
        )

    yield factory


LIVE_FIXTURES = frozenset({"redis_server", "redis_server_factory"})


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """A test that uses a live-server fixture is marked ``live`` (tests that start a
    server by other means carry the mark themselves)."""
    for item in items:
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if helpers.UNVERIFIED_MISMATCHES:
        tr = terminalreporter
        tr.section("mismatches against unverified external truths (xfail)")
        for case_id, problems in helpers.UNVERIFIED_MISMATCHES:
            tr.write_line(f"{case_id}: {len(problems)} difference(s)")
            for p in problems[:8]:
                tr.write_line(f"    {p}")
            if len(problems) > 8:
                tr.write_line(f"    ... {len(problems) - 8} more")
    if helpers.NOTES:
        terminalreporter.section("rdbtools test notes")
        for note in helpers.NOTES:
            terminalreporter.write_line(note)
