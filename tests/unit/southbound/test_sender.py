"""HostSender's coalescing: the paced window, and the port window of a port's own host."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from alcor.config import RetryConfig
from alcor.southbound.delivery import Delivery
from alcor.southbound.sender import HostSender
from alcor.southbound.view import NEIGHBOR, PORT

PACED_S = 5.0  # far longer than any wait below: a push before it is the port window's


class Pushes:
    """A send_once that records the keys of every push and wakes whoever waits for one."""

    def __init__(self) -> None:
        self.keys: list[list[tuple[str, str]]] = []
        self._pushed = asyncio.Event()

    async def send_once(self, delivery: Delivery) -> bool:
        self.keys.append(delivery.take_pending())
        self._pushed.set()
        return True

    async def next(self, timeout: float) -> list[tuple[str, str]]:
        """Wait for the next push; return its keys."""
        self._pushed.clear()
        await asyncio.wait_for(self._pushed.wait(), timeout)
        return self.keys[-1]


async def _started(port_window: Callable[[], float | None]) -> tuple[HostSender, Pushes]:
    pushes = Pushes()
    sender = HostSender(Delivery("n1"), pushes.send_once, RetryConfig(), PACED_S, port_window)
    sender.start()
    sender.delivery.mark([(NEIGHBOR, "first")])
    sender.wake()
    await pushes.next(2.0)  # the first push after a quiet spell goes at once
    return sender, pushes


async def test_a_port_cuts_the_paced_window_short():
    """A host waiting out a wide window for a neighbor pushes within the port window once
    a PORT state of its own is pending, and carries the neighbor too."""
    sender, pushes = await _started(lambda: 0.01)
    try:
        sender.delivery.mark([(NEIGHBOR, "n")])
        sender.wake()
        await asyncio.sleep(0)  # the sender is now waiting out the paced window
        sender.delivery.mark([(PORT, "p")])
        sender.wake()
        assert await pushes.next(2.0) == [(NEIGHBOR, "n"), (PORT, "p")]
        assert not sender.delivery.urgent
    finally:
        await sender.stop()


async def test_neighbors_alone_wait_for_the_paced_window():
    """Without a PORT state pending the window is the paced one."""
    sender, pushes = await _started(lambda: 0.01)
    try:
        sender.delivery.mark([(NEIGHBOR, "n")])
        sender.wake()
        with pytest.raises(TimeoutError):
            await pushes.next(0.2)
    finally:
        await sender.stop()


async def test_a_port_waits_for_the_paced_window_while_clients_queue_on_the_api():
    """No port window (the API has a backlog): the PORT state coalesces like the rest."""
    sender, pushes = await _started(lambda: None)
    try:
        sender.delivery.mark([(PORT, "p")])
        sender.wake()
        with pytest.raises(TimeoutError):
            await pushes.next(0.2)
    finally:
        await sender.stop()
