"""Delayed topic work (VPC topic deletes, tombstones): keyed timers and owned tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from alcor.southbound.base import TransportError

_LOGGER = logging.getLogger(__name__)
RETRY_LATER_S = 30.0

Key = tuple[str, str]  # (kind, what): ("delete", topic), ("tombstone", "topic/key")
Action = Callable[[], Awaitable[object]]


class Delayed:
    """Run actions after a delay; one pending action per key; failed ones retry later.

    Pending actions live in memory only: a controller restart forgets them.
    """

    def __init__(self) -> None:
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, key: Key, delay: float, action: Action) -> None:
        """Run `action` after `delay` seconds, replacing a pending action of the same key."""
        self.cancel(key)
        self._timers[key] = asyncio.get_running_loop().call_later(delay, self._fire, key, action)

    def cancel(self, key: Key) -> None:
        """Drop the pending action of `key`, if any."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def pending(self) -> list[Key]:
        """Return the keys with a pending action, sorted."""
        return sorted(self._timers)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run `coro` as an owned task (cancelled by `close`)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel every timer and task."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _fire(self, key: Key, action: Action) -> None:
        self._timers.pop(key, None)
        self.spawn(self._run(key, action), name=f"kafka-{key[0]}")

    async def _run(self, key: Key, action: Action) -> None:
        try:
            await action()
        except TransportError as exc:
            _LOGGER.warning(
                "%s %s failed, retrying in %s s: %s", key[0], key[1], RETRY_LATER_S, exc
            )
            self.schedule(key, RETRY_LATER_S, action)
