"""A throw-away Redis Cluster of three primaries on free loopback ports (for live tests).

Each node is a ``redis-server --cluster-enabled yes`` started by
``helpers_server.start_redis_server``; slots are split in three with ``CLUSTER
ADDSLOTSRANGE``, the nodes meet with ``CLUSTER MEET``, and the cluster is used once every
node says ``cluster_state:ok`` and knows the other two.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers_server import RedisServer, free_port, start_redis_server

RANGES = ((0, 5460), (5461, 10922), (10923, 16383))


@dataclass
class Cluster:
    nodes: list[RedisServer]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    def client(self) -> Any:
        """A ``RedisCluster`` on the first node."""
        from redis.cluster import RedisCluster

        return RedisCluster(host="127.0.0.1", port=self.nodes[0].port, socket_timeout=30)


def _info(client: Any) -> dict[str, str]:
    text = client.execute_command("CLUSTER", "INFO")
    if isinstance(text, bytes):
        text = text.decode()
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    return dict(line.split(":", 1) for line in text.split() if ":" in line)


@contextmanager
def start_cluster(directory: Path, *extra_args: str, timeout: float = 30.0) -> Iterator[Cluster]:
    """Three primaries, slots 0-5460, 5461-10922, 10923-16383, until the block ends."""
    with ExitStack() as stack:
        nodes = []
        buses = []
        for i in range(3):
            d = directory / f"node{i}"
            # the bus port is port + 10000 unless given: past 65535 for a high free port
            buses.append(free_port())
            nodes.append(stack.enter_context(start_redis_server(
                d, "--cluster-enabled", "yes", "--cluster-config-file", str(d / "nodes.conf"),
                "--cluster-port", str(buses[-1]),
                "--enable-debug-command", "yes", *extra_args)))
        for node, (lo, hi) in zip(nodes, RANGES):
            node.client.execute_command("CLUSTER", "ADDSLOTSRANGE", lo, hi)
        for node, bus in zip(nodes[1:], buses[1:]):
            nodes[0].client.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus)
        deadline = time.monotonic() + timeout
        while True:
            infos = [_info(n.client) for n in nodes]
            if all(i.get("cluster_state") == "ok" and i.get("cluster_known_nodes") == "3"
                   and i.get("cluster_slots_assigned") == "16384" for i in infos):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not come up: {infos}")
            time.sleep(0.1)
        yield Cluster(nodes)
