"""``rdbtool restore`` against real deployments and failing servers.

- after a plain install (redis-py and hiredis are core requirements), the CLI restores
  into a standalone server, over a unix socket, with the password from
  ``$REDISCLI_AUTH``; a progress line is drawn on a terminal and not with ``--quiet``;
- databases: a server with 16 databases and a file holding db 20 (the keys of db 20 are
  skipped and counted, exit 9, nothing written into another database — also when CONFIG
  is disabled and the refused ``SELECT`` is what tells);
- failing servers: one killed mid-restore (the count of keys written and in flight), an
  out-of-memory server, a listener that never answers, a non-Redis listener, TLS to a
  plaintext port; every bad URL is exit 2 and one line, the password never printed.
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, cli_env, rdbtool_cmd, run_rdbtool
from helpers_server import free_port, skip_if_clock_shifted
from test_writer_live import client_db, server_with

from rdbtools import read_rdb
from rdbtools.errors import BadUrl, RestoreError
from rdbtools.events import Event, KeyEnd, KeyStart, StringValue
from rdbtools.ops.connection import parse_url, redact
from rdbtools.ops.restore import restore
from rdbtools.rdb.writer import RdbWriter

SMALL = FIXTURES / "7.0.15" / "small-encodings.rdb"
PASSWORD = "s3cret-pw"


def string_keys(items: list[tuple[int, bytes, bytes]]) -> list[Event]:
    events: list[Event] = []
    for db, key, value in items:
        events += [KeyStart(db, key, "string", "raw", 0), StringValue(value), KeyEnd(key, 0, 0)]
    return events


def rdb_file(path: Path, items: list[tuple[int, bytes, bytes]]) -> Path:
    out = io.BytesIO()
    RdbWriter(out, 10).write_all(string_keys(items))
    path.write_bytes(out.getvalue())
    return path


def one_error_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    err = proc.stderr.decode()
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("rdbtool: "), err
    return err


# --------------------------------------------------------------------------- install


def test_redis_client_is_a_core_requirement() -> None:
    """``pip install .`` alone brings the client restore needs (no extra to guess)."""
    reqs = importlib.metadata.requires("rdbtools") or []
    core = [r for r in reqs if "extra ==" not in r]
    assert any(re.match(r"redis\b", r) for r in core), core
    assert any(re.match(r"hiredis\b", r) for r in core), core


@pytest.mark.live
def test_plain_restore_through_the_cli(tmp_path: Path) -> None:
    with server_with(tmp_path / "dest", None) as dest:
        proc = run_rdbtool("restore", str(SMALL), "--url", f"redis://127.0.0.1:{dest.port}")
        assert proc.returncode == 0, proc.stderr
        assert re.fullmatch(rb"wrote (\d+) keys \(RDB 10: \1 by RESTORE, 0 by commands\), "
                            rb"2 functions; skipped \d+ expired, 0 existing; 0 losses\n",
                            proc.stderr), proc.stderr  # fmt: skip
        written = int(proc.stderr.split()[1])
        assert sum(v["keys"] for v in dest.client.info("keyspace").values()) == written


@pytest.mark.live
def test_unix_socket_and_password_from_the_environment(tmp_path: Path) -> None:
    sock = tmp_path / "r.sock"
    with server_with(tmp_path / "dest", None, "--unixsocket", str(sock)) as dest:
        dest.client.config_set("requirepass", PASSWORD)
        env = {**cli_env(), "REDISCLI_AUTH": PASSWORD}
        url = f"unix://{sock}?db=0"
        proc = subprocess.run([*rdbtool_cmd(), "restore", str(SMALL), "--url", url, "--db", "0"],
                              capture_output=True, env=env, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        written = int(proc.stderr.split()[1])
        assert dest.client.dbsize() == written > 50
        env["REDISCLI_AUTH"] = "wrong-" + PASSWORD
        proc = subprocess.run([*rdbtool_cmd(), "restore", str(SMALL), "--url", url],
                              capture_output=True, env=env, timeout=120)  # fmt: skip
        assert proc.returncode == 9
        err = one_error_line(proc)
        assert "authentication failed" in err and PASSWORD not in err


@pytest.mark.live
def test_acl_user_in_the_url(tmp_path: Path) -> None:
    """user:password in the URL (an ACL user); a user without the right to write is one
    line naming the refusal, the password redacted."""
    with server_with(tmp_path / "dest", None) as dest:
        c = dest.client
        c.acl_setuser("restorer", enabled=True, passwords=[f"+{PASSWORD}"], keys=["*"],
                      commands=["+@all"])  # fmt: skip
        c.acl_setuser("reader", enabled=True, passwords=[f"+{PASSWORD}"], keys=["*"],
                      commands=["+@read", "+info", "+config|get", "+select", "+ping"])
        url = f"redis://restorer:{PASSWORD}@127.0.0.1:{dest.port}"
        proc = run_rdbtool("restore", str(SMALL), "--url", url, "--db", "0")
        assert proc.returncode == 0, proc.stderr
        assert c.dbsize() == int(proc.stderr.split()[1]) > 50
        proc = run_rdbtool("restore", str(SMALL), "--url", url.replace(PASSWORD, "nope"))
        assert proc.returncode == 9
        err = one_error_line(proc)
        assert "authentication failed" in err and "restorer:***@" in err
        url = f"redis://reader:{PASSWORD}@127.0.0.1:{dest.port}"
        proc = run_rdbtool("restore", str(SMALL), "--url", url, "--db", "0")
        assert proc.returncode == 9
        err = one_error_line(proc)
        assert "NOPERM" in err or "permission" in err, err
        assert PASSWORD not in err


def _pty_run(*args: str) -> tuple[int, bytes]:
    """Run rdbtool with its stderr on a terminal; (exit code, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*rdbtool_cmd(), *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env=cli_env())  # fmt: skip
    os.close(slave)
    got = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    return proc.wait(timeout=60), got


@pytest.mark.live
def test_progress_on_a_terminal_only_without_quiet(tmp_path: Path) -> None:
    with server_with(tmp_path / "dest", None) as dest:
        url = f"redis://127.0.0.1:{dest.port}"
        code, out = _pty_run("restore", str(SMALL), "--url", url)
        assert code == 0, out
        assert re.search(rb"\r\x1b\[Krestore +\d+\.\d% .* of .*  \d+ keys", out), out
        assert b"wrote " in out
        code, out = _pty_run("restore", str(SMALL), "--url", url, "--quiet")
        assert code == 0, out
        assert b"\x1b[K" not in out and b"wrote " in out


# --------------------------------------------------------------------------- databases


@pytest.mark.live
@pytest.mark.parametrize("config", ["enabled", "disabled"])
def test_database_the_server_lacks_is_never_written_elsewhere(config: str,
                                                              tmp_path: Path) -> None:
    """16 databases, a file with keys in db 0, 3 and 20: db 20's keys are skipped and
    counted (exit 9), the sentinel in db 0 that shares a name with one of them stays.
    With CONFIG disabled the server's refused SELECT is what keeps them out."""
    rdb = rdb_file(tmp_path / "db20.rdb", [
        (0, b"a", b"file-a"), (3, b"b", b"file-b"),
        (20, b"sentinel", b"from db 20"), (20, b"c", b"file-c"), (20, b"d", b"file-d"),
        (3, b"e", b"file-e"),
    ])  # fmt: skip
    args = ("--rename-command", "CONFIG", "") if config == "disabled" else ()
    with server_with(tmp_path / "dest", None, "--databases", "16", *args) as dest:
        dest.client.set(b"sentinel", b"mine")
        proc = run_rdbtool("restore", str(rdb), "--url", f"redis://127.0.0.1:{dest.port}")
        assert proc.returncode == 9, proc.stderr
        summary, last = proc.stderr.decode().splitlines()
        assert summary.startswith("wrote 3 keys ") and "3 of missing databases" in summary
        reason = ("the server has 16 databases (0-15)" if config == "enabled"
                  else "DB index is out of range")
        assert last == (f"rdbtool: 3 keys not written: 3 of db 20 (database 20: {reason}): "
                        "map them with --to-db N, or leave them out with --db")
        assert dest.client.get(b"sentinel") == b"mine"
        assert dest.client.get(b"a") == b"file-a"
        assert not dest.client.exists(b"c", b"d")
        db3 = client_db(dest.client, 3)
        assert db3.mget(b"b", b"e") == [b"file-b", b"file-e"] and db3.dbsize() == 2
        assert dest.client.dbsize() == 2

        proc = run_rdbtool("restore", str(rdb), "--url", f"redis://127.0.0.1:{dest.port}",
                           "--db", "20", "--to-db", "5")  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert client_db(dest.client, 5).mget(b"sentinel", b"c") == [b"from db 20", b"file-c"]
        assert dest.client.get(b"sentinel") == b"mine"


@pytest.mark.live
def test_url_database_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    with server_with(tmp_path / "dest", None) as dest:
        url = f"redis://:{PASSWORD}@127.0.0.1:{dest.port}/99"
        dest.client.config_set("requirepass", PASSWORD)
        proc = run_rdbtool("restore", str(SMALL), "--url", url)
        assert proc.returncode == 2, proc.stderr
        err = one_error_line(proc)
        assert "no database 99" in err and PASSWORD not in err and ":***@" in err


# --------------------------------------------------------------------------- failures


def many_keys(tmp_path: Path, n: int) -> Path:
    return rdb_file(tmp_path / "many.rdb", [(0, b"k:%d" % i, b"v" * 20) for i in range(n)])


@pytest.mark.live
def test_server_killed_mid_restore_library(tmp_path: Path) -> None:
    """Killed after the first batch's replies: 50 keys written, the next 50 in flight."""
    rdb = many_keys(tmp_path, 1000)
    with server_with(tmp_path / "dest", None) as dest:

        def kill(done_bytes: int, keys: int) -> None:
            dest.process.kill()
            dest.process.wait()

        with pytest.raises(RestoreError) as err:
            restore(read_rdb(str(rdb)), dest.client, pipeline=50, progress=kill)
        assert re.match(r"connection lost after 50 keys written \(50 in flight, not known to "
                        r"be written\): ", str(err.value)), err.value  # fmt: skip
        assert err.value.exit_code == 9


@pytest.mark.live
def test_server_killed_mid_restore_cli(tmp_path: Path) -> None:
    rdb = many_keys(tmp_path, 300_000)
    with server_with(tmp_path / "dest", None) as dest:
        proc = subprocess.Popen([*rdbtool_cmd(), "restore", str(rdb), "--url",
                                 f"redis://127.0.0.1:{dest.port}", "--pipeline", "20"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=cli_env())  # fmt: skip
        seen = []

        def killer() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                n = dest.client.dbsize()
                if n >= 2000:
                    seen.append(n)
                    dest.process.send_signal(signal.SIGKILL)
                    return
                time.sleep(0.01)

        t = threading.Thread(target=killer)
        t.start()
        _, err = proc.communicate(timeout=120)
        t.join()
        assert seen, "the restore never got to 2000 keys"
        assert proc.returncode == 9, err
        text = err.decode()
        assert "Traceback" not in text and text.count("\n") == 1, text
        m = re.match(r"rdbtool: connection lost after (\d+) keys written \((\d+) in flight, "
                     r"not known to be written\)", text)  # fmt: skip
        assert m, text
        assert int(m.group(1)) + int(m.group(2)) >= seen[0] - 20
        assert int(m.group(2)) <= 20
        assert "NoneType" not in text


@pytest.mark.live
def test_out_of_memory_server(tmp_path: Path) -> None:
    rdb = rdb_file(tmp_path / "big.rdb", [(0, b"k:%d" % i, os.urandom(2000)) for i in range(3000)])
    with server_with(tmp_path / "dest", None, "--maxmemory", "2mb",
                     "--maxmemory-policy", "noeviction") as dest:  # fmt: skip
        proc = run_rdbtool("restore", str(rdb), "--url", f"redis://127.0.0.1:{dest.port}")
        assert proc.returncode == 9, proc.stderr
        err = one_error_line(proc)
        m = re.match(r"rdbtool: the server is out of memory \(maxmemory\): it refused (\d+) "
                     r"command\(s\) after (\d+) keys written; first: b'k:\d+': OOM ", err)
        assert m, err
        assert int(m.group(1)) >= 1 and int(m.group(2)) > 0
        assert dest.client.dbsize() == int(m.group(2))


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    skip_if_clock_shifted()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


@pytest.fixture
def http_listener() -> Iterator[int]:
    """A port that answers every connection like an HTTP server."""
    skip_if_clock_shifted()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = s.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield s.getsockname()[1]
    finally:
        stop.set()
        t.join()
        s.close()


@pytest.mark.live
def test_silent_listener_times_out(silent_listener: int) -> None:
    started = time.monotonic()
    proc = run_rdbtool("restore", str(SMALL), "--url", f"redis://127.0.0.1:{silent_listener}",
                       "--timeout", "1", timeout=30)  # fmt: skip
    assert time.monotonic() - started < 20
    assert proc.returncode == 9, proc.stderr
    assert "no reply within 1 s" in one_error_line(proc)


@pytest.mark.live
def test_non_redis_listener(http_listener: int) -> None:
    proc = run_rdbtool("restore", str(SMALL), "--url", f"redis://127.0.0.1:{http_listener}",
                       "--timeout", "5", timeout=30)  # fmt: skip
    assert proc.returncode == 9, proc.stderr
    assert "not the Redis protocol" in one_error_line(proc)


@pytest.mark.live
def test_tls_to_a_plaintext_server(tmp_path: Path) -> None:
    with server_with(tmp_path / "dest", None) as dest:
        proc = run_rdbtool("restore", str(SMALL), "--url", f"rediss://127.0.0.1:{dest.port}",
                           "--timeout", "2", timeout=30)  # fmt: skip
        assert proc.returncode == 9, proc.stderr
        err = one_error_line(proc)
        assert "TLS" in err, err
        assert dest.client.dbsize() == 0


BAD_URLS = [
    ("http://user:{pw}@example.com/", "unsupported scheme 'http'"),
    ("localhost:6379", "not a URL"),
    ("redis://:{pw}@127.0.0.1:notaport", "port 'notaport' is not a number"),
    ("redis://:{pw}@127.0.0.1:99999", "port 99999 is out of range"),
    ("redis://:{pw}@127.0.0.1:6379/x", "database 'x' is not a number"),
    ("redis://:{pw}@127.0.0.1:6379/99999999999", "database 99999999999 is out of range"),
    ("redis://{pw}@127.0.0.1:6379/0?password=x", "unknown URL argument 'password'"),
    ("redis://", "no host name"),
    ("unix://", "no socket path"),
]


@pytest.mark.parametrize("url,message", BAD_URLS)
@pytest.mark.parametrize("dry_run", [False, True])
def test_bad_url_is_exit_2(url: str, message: str, dry_run: bool) -> None:
    url = url.format(pw=PASSWORD)
    extra = ("--dry-run", "--target-version", "10") if dry_run else ()
    proc = run_rdbtool("restore", str(SMALL), "--url", url, *extra)
    assert proc.returncode == 2, proc.stderr
    err = one_error_line(proc)
    assert message in err and PASSWORD not in err, err
    with pytest.raises(BadUrl):
        parse_url(url)


def test_bad_options_are_exit_2() -> None:
    url = "redis://127.0.0.1:1"
    for args in (["--target-version", "99"], ["--target-version", "0"], ["--to-db", "-1"],
                 ["--timeout", "0"], ["--tls-insecure"], ["--tls-ca", "/nonexistent.pem"],
                 ["--tls-insecure", "--dry-run", "--target-version", "10"]):
        proc = run_rdbtool("restore", str(SMALL), "--url", url, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert b"Traceback" not in proc.stderr
    proc = run_rdbtool("restore", str(SMALL), "--url", "rediss://h?ssl_cert_reqs=maybe",
                       "--dry-run", "--target-version", "10")  # fmt: skip
    assert proc.returncode == 2 and b"ssl_cert_reqs='maybe'" in proc.stderr, proc.stderr


def test_redact() -> None:
    assert redact("redis://user:pw@h:1/0") == "redis://user:***@h:1/0"
    assert redact("redis://:pw@h") == "redis://:***@h"
    assert redact("redis://pw@h") == "redis://***@h"
    assert redact("rediss://h:1/0?ssl_ca_certs=/x&password=pw") == (
        "rediss://h:1/0?ssl_ca_certs=/x&password=***")
    assert redact("unix://:pw@/tmp/s.sock") == "unix://:***@/tmp/s.sock"
    assert redact("h:6379") == "h:6379"
    assert redact("pw@h:6379") == "***@h:6379"


def test_parse_url() -> None:
    t = parse_url("redis://u:p%40ss@[::1]:7000/3", env={})
    assert (t.host, t.port, t.db, t.username, t.password) == ("::1", 7000, 3, "u", "p@ss")
    t = parse_url("redis://h", env={"REDISCLI_AUTH": "fromenv"})
    assert (t.port, t.db, t.password) == (6379, 0, "fromenv")
    t = parse_url("redis://:inurl@h", env={"REDISCLI_AUTH": "fromenv"})
    assert t.password == "inurl"
    t = parse_url("unix:///run/redis.sock?db=2", env={})
    assert (t.path, t.db) == ("/run/redis.sock", 2)
    assert parse_url("rediss://h:6380", env={}).tls


def tls_port(client: Any, directory: Path, auth_clients: bool) -> tuple[int, Path, Path]:
    """Switch the server behind ``client`` to TLS on another port, with a self-signed
    certificate for 127.0.0.1: (the TLS port, the certificate, its key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    port = free_port()
    client.config_set("tls-cert-file", str(cert))
    client.config_set("tls-key-file", str(key))
    client.config_set("tls-ca-cert-file", str(cert))
    client.config_set("tls-auth-clients", "yes" if auth_clients else "no")
    client.config_set("tls-port", str(port))
    return port, cert, key


NEEDS_OPENSSL = pytest.mark.skipif(shutil.which("openssl") is None,
                                   reason="openssl is not installed")


@pytest.mark.live
@NEEDS_OPENSSL
def test_tls_ca_in_the_url(tmp_path: Path) -> None:
    """rediss:// with the CA file as a URL argument (redis-py's ``ssl_ca_certs``)."""
    with server_with(tmp_path / "dest", None) as dest:
        port, cert, _ = tls_port(dest.client, tmp_path, auth_clients=False)
        run = run_rdbtool("restore", str(SMALL), "--url",
                          f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}")
        assert run.returncode == 0, run.stderr
        assert dest.client.dbsize() > 90


@pytest.mark.live
@NEEDS_OPENSSL
def test_tls_options(tmp_path: Path) -> None:
    """rediss:// with --tls-ca / --tls-cert / --tls-key against a server that asks for
    client certificates; --tls-insecure skips the server's verification."""
    with server_with(tmp_path / "dest", None) as dest:
        c = dest.client
        tls, cert, key = tls_port(c, tmp_path, auth_clients=True)
        url = f"rediss://127.0.0.1:{tls}"
        client_cert = ("--tls-cert", str(cert), "--tls-key", str(key))
        ok = run_rdbtool("restore", str(SMALL), "--url", url, "--tls-ca", str(cert),
                         *client_cert, "--db", "0")  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        assert c.dbsize() == int(ok.stderr.split()[1]) > 50
        c.flushall()
        ok = run_rdbtool("restore", str(SMALL), "--url", url, "--tls-insecure", *client_cert,
                         "--db", "0")  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        assert c.dbsize() > 50
        unverified = run_rdbtool("restore", str(SMALL), "--url", url, *client_cert)
        assert unverified.returncode == 9
        assert "TLS failed" in one_error_line(unverified)
        no_cert = run_rdbtool("restore", str(SMALL), "--url", url, "--tls-ca", str(cert),
                              "--timeout", "5")  # fmt: skip
        assert no_cert.returncode == 9
        one_error_line(no_cert)
