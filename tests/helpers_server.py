"""Start a throw-away ``redis-server`` on a free loopback port (for live-server tests).

Used by the ``redis_server`` fixture in ``conftest.py``; tests that need extra server
arguments (another ``dbfilename``, a module ...) can call ``start_redis_server`` directly.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_CANDIDATES = ("/usr/bin/redis-server",)


def find_redis_server() -> str | None:
    """``$RDBTOOLS_REDIS_SERVER``, else Debian's ``/usr/bin/redis-server``, else the first
    ``redis-server`` on PATH that answers ``--version``."""
    env = os.environ.get("RDBTOOLS_REDIS_SERVER")
    candidates = [env] if env else []
    candidates += list(SERVER_CANDIDATES)
    which = shutil.which("redis-server")
    if which:
        candidates.append(which)
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK) and server_version(c):
            return c
    return None


def server_version(binary: str) -> str | None:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, timeout=10, check=False
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    client: Any  # redis.Redis
    port: int
    dir: Path
    binary: str
    version: str | None
    process: subprocess.Popen[bytes]

    @property
    def rdb_path(self) -> Path:
        return self.dir / "dump.rdb"

    def log(self) -> str:
        p = self.dir / "redis.log"
        return p.read_text(errors="replace") if p.exists() else ""


NO_LIVE_ENV = "RDBTOOLS_NO_LIVE"


def skip_if_clock_shifted() -> None:
    """Skip the calling test when live servers are off (``RDBTOOLS_NO_LIVE=1``): the run
    under ``faketime`` sets it, since libfaketime makes redis-server hang."""
    if os.environ.get(NO_LIVE_ENV):
        import pytest

        pytest.skip(f"{NO_LIVE_ENV} is set: no live server under a shifted clock")


def real_clock_env() -> dict[str, str]:
    """The environment less libfaketime's variables: for the server's offline tools
    (``redis-check-aof``), which read no clock but hang under libfaketime as the server
    does."""
    return {k: v for k, v in os.environ.items()
            if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_NO_CACHE", "DONT_FAKE_MONOTONIC")}


@contextmanager
def start_redis_server(
    directory: Path, *extra_args: str, binary: str | None = None, timeout: float = 15.0
) -> Iterator[RedisServer]:
    """Run ``redis-server --save '' --appendonly no --dir DIRECTORY`` on a free 127.0.0.1
    port until the block ends. Raises ``RuntimeError`` if it does not answer PING."""
    import redis

    skip_if_clock_shifted()
    binary = binary or find_redis_server()
    if binary is None:
        raise RuntimeError("no redis-server binary found")
    directory.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _attempt in range(3):
        port = free_port()
        args = [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--daemonize",
            "no",
            "--logfile",
            str(directory / "redis.log"),
            *extra_args,
        ]
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
        deadline = time.monotonic() + timeout
        up = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                up = bool(client.ping())
                break
            except redis.exceptions.ConnectionError as e:
                last_error = str(e)
                time.sleep(0.05)
        if not up:
            _stop(proc, client)
            log = directory / "redis.log"
            last_error += "\n" + (log.read_text(errors="replace")[-2000:] if log.exists() else "")
            continue
        server = RedisServer(client, port, directory, binary, server_version(binary), proc)
        try:
            yield server
        finally:
            _stop(proc, client)
        return
    raise RuntimeError(f"redis-server did not start: {last_error}")


def _stop(proc: subprocess.Popen[bytes], client: Any) -> None:
    try:
        client.close()
    except Exception:  # noqa: BLE001, S110 - best effort
        pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def raw(client: Any, *args: Any) -> Any:
    """A command's reply as the server sent it (no redis-py response parsing)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


def as_dict(reply: Any) -> dict[bytes, Any]:
    """A map reply (a RESP3 map, or a RESP2 flat list of pairs) as a dict."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2]))
