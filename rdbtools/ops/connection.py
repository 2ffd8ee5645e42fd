"""Connections to a live server, for every operation that talks to one (``restore``,
``memory --model-from``): one place that checks the URL, connects with redis-py, finds
out whether the server is a cluster node, and turns every failure into one line.

URLs (the rules of ``redis-cli -u`` and redis-py's ``from_url``)::

    redis://[[user]:password@]host[:port][/db]     plain TCP, port 6379 by default
    rediss://[[user]:password@]host[:port][/db]    TLS
    unix://[[user]:password@]/path/to/socket[?db=N]

The password may instead come from ``$REDISCLI_AUTH`` (what ``redis-cli`` reads), so
that it is not in the process list; a password in the URL wins. It is never printed:
every message shows the URL through ``redact``.

A target whose ``INFO cluster`` says ``cluster_enabled:1`` (or any, when asked with
``cluster=True``) is reached through redis-py's ``RedisCluster``, which sends each key
to the primary of its slot, pipelines per node and follows ``MOVED``/``ASK``.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from rdbtools.errors import BadUrl, RdbToolsError, ServerError

__all__ = [
    "DEFAULT_TIMEOUT",
    "PASSWORD_ENV",
    "BadUrl",
    "ServerError",
    "Target",
    "Tls",
    "check_url",
    "cluster_enabled",
    "connect",
    "is_cluster",
    "parse_url",
    "redact",
    "one_line",
    "server_errors",
]

PASSWORD_ENV = "REDISCLI_AUTH"
DEFAULT_TIMEOUT = 30.0
MAX_DB = (1 << 31) - 1  # the server's "databases" is an int
SCHEMES = ("redis", "rediss", "unix")
QUERY_ARGS = frozenset({"db", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs"})


@dataclass(frozen=True, slots=True)
class Tls:
    """TLS options for a ``rediss://`` URL: a CA bundle to verify the server with, a
    client certificate and key (for ``tls-auth-clients yes``), or no verification."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    insecure: bool = False

    def given(self) -> bool:
        return bool(self.ca or self.cert or self.key or self.insecure)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL."""

    scheme: str
    host: str = ""
    port: int = 6379
    path: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None
    query: tuple[tuple[str, str], ...] = ()

    @property
    def tls(self) -> bool:
        return self.scheme == "rediss"


_HOSTPORT = re.compile(r"^(\[[^\]]*\]|[^:]*)(?::(.*))?$")


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (in the user part and in a
    ``password=`` query argument), for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return re.sub(r"^[^@/]*@", "***@", url)
    netloc, slash, tail = rest.partition("/")
    creds, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, _ = creds.partition(":")
        netloc = f"{user}:***@{hostport}" if colon else f"{creds}@{hostport}"
        if not colon and scheme.lower() in SCHEMES and creds:
            # redis-py and redis-cli read a lone user part as the password
            netloc = f"***@{hostport}"
    tail = re.sub(r"(?i)(password=)[^&]*", r"\1***", tail)
    return f"{scheme}://{netloc}{slash}{tail}"


def parse_url(url: str, *, env: dict[str, str] | None = None) -> Target:
    """Check ``url`` and split it; ``BadUrl`` (one line, the password redacted) when it
    is not a URL this package can connect to. A password missing from the URL is taken
    from ``$REDISCLI_AUTH``."""
    shown = redact(url)
    if "://" not in url:
        hint = f"; write redis://{url}" if _HOSTPORT.match(url) and url else ""
        raise BadUrl(f"{shown}: not a URL (redis://HOST:PORT[/DB], rediss://..., "
                     f"unix:///PATH){hint}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise BadUrl(f"{shown}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise BadUrl(f"{shown}: unsupported scheme {parts.scheme!r} "
                     "(use redis://, rediss:// or unix://)")
    query: dict[str, str] = {}
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name not in QUERY_ARGS:
            raise BadUrl(f"{shown}: unknown URL argument {name!r} "
                         f"(known: {', '.join(sorted(QUERY_ARGS))})")
        query[name] = values[-1]
    creds, at, hostport = parts.netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = creds.partition(":")
        if colon:
            username, password = unquote(user) or None, unquote(secret) or None
        else:
            password = unquote(user) or None
    if password is None:
        password = (os.environ if env is None else env).get(PASSWORD_ENV) or None
    db_text = query.pop("db", None)
    if scheme == "unix":
        path = unquote(parts.path)
        if not path:
            raise BadUrl(f"{shown}: no socket path (unix:///path/to/redis.sock)")
        return Target(scheme, path=path, db=_db(db_text or "0", shown), username=username,
                      password=password, query=tuple(query.items()))
    m = _HOSTPORT.match(hostport)
    host, port_text = (m.group(1), m.group(2)) if m else ("", None)
    host = host.strip("[]")
    if not host:
        raise BadUrl(f"{shown}: no host name")
    port = 6379
    if port_text:
        if not port_text.isdigit():
            raise BadUrl(f"{shown}: port {port_text!r} is not a number")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise BadUrl(f"{shown}: port {port} is out of range (1-65535)")
    path = parts.path.strip("/")
    if db_text is None:
        db_text = path or "0"
    elif path:
        raise BadUrl(f"{shown}: the database is given twice (path and ?db=)")
    return Target(scheme, host=host, port=port, db=_db(db_text, shown), username=username,
                  password=password, query=tuple(query.items()))


def _db(text: str, shown: str) -> int:
    if not text.isdigit():
        raise BadUrl(f"{shown}: database {text!r} is not a number")
    db = int(text)
    if db > MAX_DB:
        raise BadUrl(f"{shown}: database {db} is out of range")
    return db


def _kwargs(target: Target, tls: Tls, timeout: float) -> dict[str, Any]:
    """redis-py connection arguments for ``target``."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    kw: dict[str, Any] = {
        "username": target.username,
        "password": target.password,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # a write whose reply was lost is not known to be written: never resend it
        "retry": Retry(NoBackoff(), 0),
    }
    if target.scheme == "unix":
        kw["unix_socket_path"] = target.path
    else:
        kw["host"], kw["port"] = target.host, target.port
    query = dict(target.query)
    if target.tls:
        reqs = query.get("ssl_cert_reqs", "required")
        kw.update(
            ssl=True,
            ssl_ca_certs=tls.ca or query.get("ssl_ca_certs"),
            ssl_certfile=tls.cert or query.get("ssl_certfile"),
            ssl_keyfile=tls.key or query.get("ssl_keyfile"),
            ssl_cert_reqs="none" if tls.insecure else reqs,
            ssl_check_hostname=not tls.insecure and reqs == "required",
        )
    return kw


def check_url(url: str, tls: Tls | None = None) -> Target:
    """``parse_url``, and the TLS options checked against the scheme: what ``connect``
    refuses before connecting (``BadUrl``), for callers that may not connect at all
    (``restore --dry-run``)."""
    target = parse_url(url)
    query = dict(target.query)
    if not target.tls and ((tls and tls.given()) or query):
        raise BadUrl(f"{redact(url)}: TLS options need a rediss:// URL")
    reqs = query.get("ssl_cert_reqs", "required")
    if reqs not in ("none", "optional", "required"):
        raise BadUrl(f"{redact(url)}: ssl_cert_reqs={reqs!r}: none, optional or required")
    return target


def connect(
    url: str,
    *,
    tls: Tls | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cluster: bool | None = None,
) -> Any:
    """A redis-py client for the server at ``url``, checked to answer: a ``redis.Redis``,
    or a ``redis.cluster.RedisCluster`` when the server is a cluster node (``cluster``:
    ``None`` finds out with ``INFO cluster``, ``True`` insists, ``False`` never uses
    the cluster client). ``timeout`` (seconds) bounds the connection and each reply.

    Raises ``BadUrl`` (exit 2) for a malformed URL, options or a database the server
    lacks, and ``ServerError`` (exit 9) when the server cannot be used; each message is
    one line with the password redacted."""
    tls = tls or Tls()
    target = check_url(url, tls)
    if timeout <= 0:
        raise BadUrl(f"timeout {timeout}: must be more than 0 seconds")
    try:
        import redis
    except ImportError:  # pragma: no cover - redis is a dependency
        raise ServerError("the redis package is missing: pip install 'redis>=5.3'") from None
    kw = _kwargs(target, tls, timeout)
    with server_errors(url, timeout):
        client = redis.Redis(db=target.db, **kw)
        try:
            client.ping()
            enabled = cluster if cluster is not None else cluster_enabled(client)
            if not enabled:
                return client
            if cluster and not cluster_enabled(client):
                raise ServerError(f"{redact(url)}: --cluster, but the server is not a "
                                  "cluster node (INFO cluster: cluster_enabled:0)")
        except BaseException:
            client.close()
            raise
        client.close()
        if target.scheme == "unix":
            raise BadUrl(f"{redact(url)}: a cluster is reached by host and port, not a "
                         "unix socket")
        if target.db:
            raise BadUrl(f"{redact(url)}: a cluster has database 0 only")
        from redis.cluster import RedisCluster

        rc = RedisCluster(**kw)
        rc.ping(target_nodes=RedisCluster.PRIMARIES)
        return rc


def cluster_enabled(client: Any) -> bool:
    """Whether the server behind the redis-py ``client`` is a cluster node
    (``INFO cluster``: ``cluster_enabled:1``)."""
    from redis.exceptions import ResponseError

    try:
        return bool(int(client.info("cluster").get("cluster_enabled", 0)))
    except ResponseError:  # INFO refused (ACL, renamed): take it as a standalone server
        return False


def is_cluster(client: Any) -> bool:
    """Whether ``client`` is redis-py's cluster client."""
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)


@contextmanager
def server_errors(url: str, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Turn what redis-py (or the socket below it) raises into ``ServerError`` /
    ``BadUrl``: one line naming the redacted URL."""
    from redis import exceptions as rx

    shown = redact(url)
    try:
        yield
    except RdbToolsError:
        raise
    except rx.AuthenticationError as exc:
        raise ServerError(f"{shown}: authentication failed: {one_line(exc)}") from None
    except rx.TimeoutError:
        what = "a Redis server speaking TLS" if url.lower().startswith("rediss:") else \
            "a Redis server"
        raise ServerError(f"{shown}: no reply within {timeout:g} s (is it {what}? a slow "
                          "one needs a longer --timeout)") from None
    except rx.InvalidResponse:
        raise ServerError(f"{shown}: the reply is not the Redis protocol "
                          "(is it a Redis server?)") from None
    except rx.ConnectionError as exc:
        text = one_line(exc)
        if "Invalid Database" in text or "DB index is out of range" in text:
            raise BadUrl(f"{shown}: the server has no database {parse_url(url).db}") from None
        if isinstance(exc.__context__, ssl.SSLError) or "SSL" in text:
            raise ServerError(f"{shown}: TLS failed (is the port speaking TLS? are "
                              f"--tls-ca/--tls-cert right?): {text}") from None
        raise ServerError(f"{shown}: {text}") from None
    except rx.ResponseError as exc:
        text = one_line(exc)
        if "DB index is out of range" in text:
            raise BadUrl(f"{shown}: the server has no database {parse_url(url).db}") from None
        if text.startswith(("NOAUTH", "WRONGPASS")):
            raise ServerError(f"{shown}: authentication failed: {text} (password: in the "
                              f"URL or ${PASSWORD_ENV})") from None
        if isinstance(exc, rx.NoPermissionError) or text.startswith("NOPERM"):
            raise ServerError(f"{shown}: the user may not do this: {text}") from None
        raise ServerError(f"{shown}: the server refused: {text}") from None
    except rx.RedisError as exc:  # cluster errors, ...
        raise ServerError(f"{shown}: {type(exc).__name__}: {one_line(exc)}") from None
    except ssl.SSLError as exc:
        raise ServerError(f"{shown}: TLS failed: {one_line(exc)}") from None


def one_line(exc: BaseException) -> str:
    """An exception's text on one line, bounded."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."
