"""Requests in flight: counted by the dispatcher, waited for by a graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from aiohttp import web

# How long a drain waits, once nothing is in flight, for a request that a client sent on a
# keep-alive connection just before it saw the shutdown (clients in a loop send within ms).
QUIET_S = 0.5


class Inflight:
    """The number of requests being handled, and whether the server is draining."""

    def __init__(self) -> None:
        self.count = 0
        self.streams = 0  # of which long-lived streams (watch): no client waits on them
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._started = asyncio.Event()

    def begin(self) -> None:
        """Note that a request started."""
        self.count += 1
        self._idle.clear()
        self._started.set()

    def end(self) -> None:
        """Note that a request finished."""
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    def backlog(self) -> int:
        """Return how many requests clients are waiting on (streams are not)."""
        return self.count - self.streams

    @contextlib.contextmanager
    def streaming(self) -> Iterator[None]:
        """Count the running request as a stream while inside."""
        self.streams += 1
        try:
            yield
        finally:
            self.streams -= 1

    async def drained(self, timeout: float, quiet_s: float = QUIET_S) -> bool:
        """Wait until nothing is in flight and nothing started for `quiet_s`; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self._idle.wait()
                    self._started.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._started.wait(), quiet_s)
                        continue
                    if self.count == 0:
                        return True
        except TimeoutError:
            return False


INFLIGHT = web.AppKey("inflight", Inflight)
