"""The single-flight send loop of one host, request ids and backoff (southbound spec §2.2)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable

from alcor.config import RetryConfig
from alcor.lifecycle import cancel
from alcor.southbound.delivery import Delivery

_LOGGER = logging.getLogger(__name__)
# A random uuid4 head per process plus a counter: unique ids for tracing without paying
# for os.urandom on every message (a new host can mean a thousand messages at once).
_REQUEST_ID_HEAD = str(uuid.uuid4())[:24]
_REQUEST_ID_COUNTER = itertools.count(1)


def next_request_id() -> str:
    """Return a new uuid-shaped goal-state request id, unique within and across runs."""
    return f"{_REQUEST_ID_HEAD}{next(_REQUEST_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"


def backoff_delay(retry: RetryConfig, failures: int) -> float:
    """Return the jittered backoff before attempt `failures + 1` (d/2 + U(0, d/2))."""
    d = min(retry.cap_s, retry.base_s * retry.factor ** max(failures - 1, 0))
    return d / 2 + random.uniform(0, d / 2)


class HostSender:
    """One task per node: at most one message in flight, everything pending goes next."""

    def __init__(
        self,
        delivery: Delivery,
        send_once: Callable[[Delivery], Awaitable[bool]],
        retry: RetryConfig,
        coalesce_s: float | Callable[[], float] = 0.0,
        port_window_s: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.delivery = delivery
        self._send_once = send_once
        self._retry = retry
        # The window is a number or, with a pacer, read afresh before every push.
        self._coalesce_s = coalesce_s if callable(coalesce_s) else (lambda: coalesce_s)
        self._port_window_s = port_window_s  # the longest wait while a PORT state is pending
        self._last_sent = 0.0
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()  # a PORT state was marked (cuts a window wait short)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the send loop."""
        self._task = asyncio.create_task(self._run(), name=f"sender-{self.delivery.node_id}")

    async def stop(self) -> None:
        """Cancel the send loop and wait for it."""
        await cancel(self._task)
        self._task = None
        for waiter in self.delivery.restart_waiters:
            if not waiter.done():
                waiter.set_result(False)

    def wake(self) -> None:
        """Tell the loop there may be work; a PORT state pending may cut a window short."""
        self._wake.set()
        if self.delivery.urgent:
            self._urgent.set()  # a window being waited out is recomputed

    async def _run(self) -> None:
        delivery = self.delivery
        while True:
            await self._wake.wait()
            self._wake.clear()
            while delivery.pending:
                delay = delivery.backoff_until - time.monotonic()
                if delay > 0:
                    try:  # asyncio.timeout, not wait_for: see Positions.wait
                        async with asyncio.timeout(delay):
                            await self._wake.wait()
                        self._wake.clear()
                    except TimeoutError:
                        pass
                    if delivery.backoff_until - time.monotonic() > 0:
                        continue
                # Coalescing: a host pushed to within the window waits for the rest of it, so
                # a burst of changes travels in one message instead of one message each. The
                # first push after a quiet spell goes at once.
                while (wait := self._window_left()) > 0:
                    await self._wait_window(wait)
                self._last_sent = time.monotonic()
                delivery.sending = True
                try:
                    ok = await self._send_once(delivery)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug must not kill the host's delivery forever
                    _LOGGER.exception("sender for node %s failed; backing off", delivery.node_id)
                    ok = False
                finally:
                    delivery.sending = False
                if not ok:
                    delivery.consecutive_failures += 1
                    delivery.backoff_until = time.monotonic() + backoff_delay(
                        self._retry, delivery.consecutive_failures
                    )

    def _window_left(self) -> float:
        window = self._coalesce_s()
        if self.delivery.urgent:  # see LoopPacer.port_window
            port_window = self._port_window_s()
            if port_window is not None:
                window = min(window, port_window)
        return self._last_sent + window - time.monotonic()

    async def _wait_window(self, wait: float) -> None:
        """Sleep `wait` seconds, or until a PORT state is marked (see `wake`)."""
        self._urgent.clear()
        with contextlib.suppress(TimeoutError):  # asyncio.timeout: see Positions.wait
            async with asyncio.timeout(wait):
                await self._urgent.wait()
