"""Server version texts, read once: ``7.0.15`` (``redis_version`` / ``valkey_version`` of
``INFO server``, the ``redis-ver`` / ``valkey-ver`` AUX field), ``valkey-8.0`` or
``redis-7.2`` (``rdbtool memory --model``)."""

from __future__ import annotations

import re

_LOOSE = re.compile(r"\s*(?:(redis|valkey)[-/ ]?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?", re.I)
_EXACT = re.compile(r"(?:(redis|valkey)-)?(\d+)(?:\.(\d+))?(?:\.(\d+))?", re.I)


def parse_version(text: str, *, exact: bool = False) -> tuple[str, tuple[int, int, int]]:
    """``"7.0"``, ``"7.2.6"``, ``"valkey-8.0"``, ``"redis-8.0"`` → (server, (major,
    minor, patch)); the server is ``redis`` unless named, a missing part is 0. Text
    after the version (``7.2.4-rc1``) is ignored unless ``exact``, which takes only
    ``[redis-|valkey-]major[.minor[.patch]]``. A bad text raises ``ValueError``."""
    m = _EXACT.fullmatch(text) if exact else _LOOSE.match(text)
    if not m:
        raise ValueError(f"bad server version {text!r} (expected e.g. 7.2, 7.4.1, valkey-8.0)")
    server = (m.group(1) or "redis").lower()
    return server, (int(m.group(2)), int(m.group(3) or 0), int(m.group(4) or 0))
