"""Pooled client channels per agent address, for the gRPC transport plugins (grpc, grpcio)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

_LOGGER = logging.getLogger(__name__)
C = TypeVar("C")
Address = tuple[str, int]


@dataclass(slots=True)
class Pooled(Generic[C]):
    """One channel and its use."""

    channel: C
    last_used: float = field(default_factory=time.monotonic)
    in_use: int = 0
    warmed: bool = False  # the transport's first message on the connection was sent
    session: Any = None  # the transport's long-lived push stream on this connection, if any


class ChannelPool(Generic[C]):
    """One lazily opened channel per (ip, port), closed when idle, broken or forgotten."""

    def __init__(self, open_channel: Callable[[Address], C], close: Callable[[C], None]) -> None:
        self._open = open_channel
        self._close = close
        self._channels: dict[Address, Pooled[C]] = {}
        self._by_node: dict[str, set[Address]] = {}

    def get(self, node_id: str, addr: Address) -> Pooled[C]:
        """Return the channel to `addr`, opening it for `node_id` when there is none."""
        pooled = self._channels.get(addr)
        if pooled is None:
            pooled = Pooled(self._open(addr))
            self._channels[addr] = pooled
            self._by_node.setdefault(node_id, set()).add(addr)
        return pooled

    @contextlib.contextmanager
    def using(self, pooled: Pooled[C]) -> Iterator[None]:
        """Count a call on the channel, so the reaper leaves it open meanwhile."""
        pooled.in_use += 1
        try:
            yield
        finally:
            pooled.in_use -= 1
            pooled.last_used = time.monotonic()

    def drop(self, addr: Address, pooled: Pooled[C]) -> None:
        """Close a broken channel so the next call dials a fresh connection."""
        if self._channels.get(addr) is pooled:
            del self._channels[addr]
        self._close(pooled.channel)

    def forget(self, node_id: str) -> None:
        """Close the channels opened for `node_id`."""
        for addr in self._by_node.pop(node_id, ()):
            pooled = self._channels.pop(addr, None)
            if pooled is not None:
                self._close(pooled.channel)

    def close_all(self) -> None:
        """Close every channel."""
        for pooled in self._channels.values():
            self._close(pooled.channel)
        self._channels.clear()
        self._by_node.clear()

    def close_idle(self, used_before: float) -> int:
        """Close channels not used since `used_before` (monotonic); return how many."""
        stale = [
            (a, p) for a, p in self._channels.items() if p.in_use == 0 and p.last_used < used_before
        ]
        for addr, pooled in stale:
            _LOGGER.debug("closing idle channel to %s:%s", *addr)
            self.drop(addr, pooled)
        return len(stale)

    async def reap(self, idle_s: float) -> None:
        """Close channels idle for `idle_s`, forever (run as a task)."""
        while True:
            await asyncio.sleep(max(0.05, min(idle_s / 4, 30.0)))
            self.close_idle(time.monotonic() - idle_s)

    def __len__(self) -> int:
        return len(self._channels)
