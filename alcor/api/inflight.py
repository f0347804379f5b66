"""Requests in flight: counted by the dispatcher, waited for by a graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

from aiohttp import web

# How long a drain waits, once nothing is in flight, for a request that a client sent on a
# keep-alive connection just before it saw the shutdown (clients in a loop send within ms).
QUIET_S = 0.5
# How long the peak of concurrent write requests is remembered (group commit's hint).
WRITE_PEAK_S = 1.0


class Inflight:
    """The number of requests being handled, and whether the server is draining."""

    def __init__(self) -> None:
        self.count = 0
        self.streams = 0  # of which long-lived streams (watch): no client waits on them
        self.writes = 0  # of which requests that may write (not GET/HEAD/OPTIONS)
        self._write_peak = 0
        self._write_peak_at = 0.0
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._started = asyncio.Event()

    def begin(self, write: bool = False) -> None:
        """Note that a request started (`write`: one that may write)."""
        self.count += 1
        self._idle.clear()
        self._started.set()
        if write:
            self.writes += 1
            now = time.monotonic()
            if self.writes >= self._write_peak or now - self._write_peak_at > WRITE_PEAK_S:
                self._write_peak, self._write_peak_at = self.writes, now

    def end(self, write: bool = False) -> None:
        """Note that a request finished."""
        self.count -= 1
        self.writes -= write
        if self.count == 0:
            self._idle.set()

    def writers_to_come(self, members: int) -> int:
        """Return how many more write requests may soon join a commit of `members`.

        Clients that wrote concurrently in the last second (the peak of write requests in
        flight) send their next write within moments of their last answer; fewer than two
        writes in flight now means no concurrent writers: none to wait for.
        """
        if self.writes < 2:
            return 0
        return max(0, self._write_peak - members)

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
                        async with asyncio.timeout(quiet_s):
                            await self._started.wait()
                        continue
                    if self.count == 0:
                        return True
        except TimeoutError:
            return False


INFLIGHT = web.AppKey("inflight", Inflight)
