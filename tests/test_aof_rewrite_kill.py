"""``aoftool rewrite`` killed (SIGKILL) at every step of the swap, and after random delays:
what is on disk is always the original AOF or the complete new one — the manifest
parses, every file it lists is there and complete, none is a temporary file — and
``/usr/bin/redis-server`` loads it with the digest of the original, and so does ``aoftool
check`` (new files that the manifest does not list yet are ignored, as the server ignores
them). Running the rewrite again afterwards completes it and removes the temporary files
the killed run left.

The steps are named by ``rdbtools.aof.swap.CRASH_POINTS`` and reached through
``$RDBTOOLS_AOF_REWRITE_CRASH_AT`` (the process kills itself there). Skipped with the
reason shown when no server is there, failed when ``CI=true``.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import cli_env
from test_aof_rewrite_live import raw, serve
from test_aof_support import aof_fixtures, copy_tree, resp, server_available

from rdbtools.aof.manifest import load_manifest
from rdbtools.aof.swap import CRASH_ENV, CRASH_POINTS

pytestmark = pytest.mark.live

SOURCE = next(f for f in aof_fixtures() if f.id == "7.0.15/aof-multipart-preamble-yes-rewritten")
OLD = {"appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof"}


def new_names(fmt: str, seq: int = 3) -> set[str]:
    suffix = "aof" if fmt == "aof" else "rdb"
    return {f"appendonly.aof.{seq}.base.{suffix}", f"appendonly.aof.{seq}.incr.aof"}


def _need_server() -> None:
    why = server_available()
    if why is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {why}", pytrace=False)
        pytest.skip(why)


def _command(*args: str, tool: str = "rewrite") -> list[str]:
    return [sys.executable, "-c", "import sys; from rdbtools.cli.aoftool import main; "
            "sys.exit(main())", tool, *args]


def _run(args: list[str], crash_at: str | None = None) -> subprocess.CompletedProcess[bytes]:
    env = cli_env()
    env.pop(CRASH_ENV, None)
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    return subprocess.run(_command(*args), env=env, capture_output=True, timeout=120,
                          check=False)


def digest_of(directory: Path, tmp: Path, *, single: bool = False) -> tuple[Any, Any]:
    """Load a copy of the AOF (a multi-part ``appendonlydir`` or a single file) in a
    fresh server: ``(DEBUG DIGEST, DBSIZE)``."""
    srv = tmp / f"srv-{time.monotonic_ns()}"
    srv.mkdir()
    if single:
        shutil.copyfile(directory, srv / "appendonly.aof")
    else:
        shutil.copytree(directory, srv / "appendonlydir")
    with serve(srv, aof=True) as server:
        return raw(server.client, "DEBUG", "DIGEST"), server.client.dbsize()


def listed(d: Path) -> set[str]:
    """The base and incr files of the manifest; each must exist and none be temporary."""
    m = load_manifest(str(d / "appendonly.aof.manifest"))
    names = {e.name for e in m.parts}
    for name in names:
        assert (d / name).is_file(), f"{name} is listed but missing"
        assert not name.startswith("temp-")
    return names


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    _need_server()
    result = digest_of(SOURCE.path, tmp_path_factory.mktemp("orig"))
    assert result[1] > 0
    return result


@pytest.mark.parametrize("fmt", ["aof", "preamble"])
@pytest.mark.parametrize("step", CRASH_POINTS)
def test_killed_at_each_step(step: str, fmt: str, original: tuple[Any, Any],
                             tmp_path: Path) -> None:
    d = copy_tree(SOURCE.path, tmp_path / "appendonlydir")
    proc = _run([str(d), "--format", fmt], crash_at=step)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    names = listed(d)
    committed = step in ("manifest-renamed", "history-removed", "done")
    assert names == (new_names(fmt) if committed else OLD), names
    assert digest_of(d, tmp_path) == original
    check = subprocess.run(_command(str(d), tool="check"), env=cli_env(), capture_output=True,
                           timeout=120, check=False)
    assert check.returncode == 0, check.stderr
    again = _run([str(d), "--format", fmt])
    assert again.returncode == 0, again.stderr
    want = new_names(fmt, 4 if committed else 3)
    assert listed(d) == want
    assert sorted(os.listdir(d)) == sorted([*want, "appendonly.aof.manifest"])
    assert digest_of(d, tmp_path) == original


@pytest.mark.parametrize("step", ["temp-written", "temp-synced", "renamed"])
def test_single_file_killed(step: str, tmp_path: Path) -> None:
    _need_server()
    fx = next(f for f in aof_fixtures() if f.id == "6.2.14/aof-single-preamble-no-rewritten")
    p = copy_tree(fx.path, tmp_path / "appendonly.aof")
    before = p.read_bytes()
    want = digest_of(p, tmp_path, single=True)
    # loaded by 7.0 here: 7.0's RDB (7.0 loads 6.2's RDB with a small sorted set's -0
    # score as -0, 6.2's commands as 0)
    args = ["--format", "preamble", "--to-version", "10"]
    completed = tmp_path / "completed.aof"
    assert _run([str(p), *args, "-o", str(completed)]).returncode == 0
    assert digest_of(completed, tmp_path, single=True) == want
    proc = _run([str(p), *args], crash_at=step)
    assert proc.returncode == -signal.SIGKILL
    data = p.read_bytes()
    backups = [n for n in os.listdir(tmp_path) if n.startswith("appendonly.aof.bak.")]
    if step == "renamed":  # the new file, whole (only its ctime AUX field may differ)
        assert len(data) == completed.stat().st_size and data.startswith(b"REDIS0010")
        assert len(backups) == 1 and (tmp_path / backups[0]).read_bytes() == before
    else:
        assert data == before and backups == []
    assert digest_of(p, tmp_path, single=True) == want
    # the next run removes the temporary file the killed one left
    again = _run([str(p), *args])
    assert again.returncode == 0, again.stderr
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert digest_of(p, tmp_path, single=True) == want


def _big_multipart(d: Path) -> None:
    """A multi-part AOF of about 6 MB (a RESP base and two incr files), so that a kill
    after a random delay lands anywhere in the rewrite."""
    rng = random.Random(7)
    d.mkdir()
    base = [resp(b"SELECT", b"0")]
    base += [resp(b"SET", b"k%d" % i, b"v" * rng.randrange(1, 200)) for i in range(20000)]
    (d / "appendonly.aof.1.base.aof").write_bytes(b"".join(base))
    for n in (1, 2):
        cmds = [resp(b"SELECT", b"0")]
        for i in range(20000):
            k = b"k%d" % rng.randrange(30000)
            cmds.append(resp(b"RPUSH", b"l" + k, b"x" * rng.randrange(1, 50)) if i % 3
                        else resp(b"SET", k, b"%d" % i))
        (d / f"appendonly.aof.{n}.incr.aof").write_bytes(b"".join(cmds))
    (d / "appendonly.aof.manifest").write_text(
        "file appendonly.aof.1.base.aof seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i\n"
        "file appendonly.aof.2.incr.aof seq 2 type i\n")


def test_killed_after_random_delays(tmp_path: Path) -> None:
    _need_server()
    d = tmp_path / "appendonlydir"
    _big_multipart(d)
    old = listed(d)
    want = digest_of(d, tmp_path)
    start = time.monotonic()
    assert _run([str(d), "-o", str(tmp_path / "timing.aof")]).returncode == 0
    took = time.monotonic() - start
    rng = random.Random(3)
    for _ in range(6):
        proc = subprocess.Popen(_command(str(d), "--format", rng.choice(["aof", "preamble"])),
                                env=cli_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, took))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        names = listed(d)
        assert names == old or len(names) == 2, names
        assert digest_of(d, tmp_path) == want
        old = names
    done = _run([str(d)])
    assert done.returncode == 0, done.stderr
    assert digest_of(d, tmp_path) == want
