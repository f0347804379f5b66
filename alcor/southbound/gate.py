"""The push start gate: how many hosts build and start a push at once, own hosts first.

A port create marks a neighbor state for every host of its network and a PORT state for the
port's own host, where a VM waits for ACTIVE. The gate bounds how many hosts build and start a
push at the same time (a burst of 100 hosts takes the loop in slices). A FIFO semaphore made
the own host queue behind the neighbor pushes of earlier ports: at 80 creates/s with 100
agents, the wait in the gate was most of the p99 (tens to hundreds of ms). So a host with a
PORT state pending (`Delivery.urgent`) never waits: it enters at once, and a host that becomes
urgent while it waits is let in when its PORT state is marked (`promote`). Such pushes come
one per port create, at the API's rate, so they need no bound of their own; they still count
against the others while they hold the gate. A host's full state (a new host, an agent that
restarted) carries its PORT states too and enters at once as well: its VMs wait just the
same, and with the API first (alcor/priority.py) the builds queue behind the API anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from alcor.southbound.delivery import Delivery


class PushGate:
    """At most `limit` hosts building and starting a push; urgent hosts do not wait."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._waiting: dict[str, asyncio.Future[None]] = {}  # by node id, oldest first

    @contextlib.asynccontextmanager
    async def enter(self, delivery: Delivery) -> AsyncIterator[None]:
        """Hold the gate for `delivery`'s host while the block runs."""
        await self._acquire(delivery)
        try:
            yield
        finally:
            self._release()

    def promote(self, delivery: Delivery) -> None:
        """Let `delivery`'s host in now if it waits (it has a PORT state pending)."""
        waiter = self._waiting.pop(delivery.node_id, None)
        if waiter is not None and not waiter.done():
            self.held += 1
            waiter.set_result(None)

    async def _acquire(self, delivery: Delivery) -> None:
        if delivery.urgent or (self.held < self.limit and not self._waiting):
            self.held += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[delivery.node_id] = waiter
        try:
            await waiter
        except asyncio.CancelledError:
            if self._waiting.get(delivery.node_id) is waiter:
                del self._waiting[delivery.node_id]
            elif waiter.done() and not waiter.cancelled():
                self._release()  # let in, then cancelled before it ran: pass the place on
            raise

    def _release(self) -> None:
        self.held -= 1
        while self._waiting and self.held < self.limit:
            waiter = self._waiting.pop(next(iter(self._waiting)))
            if not waiter.done():
                self.held += 1
                waiter.set_result(None)
