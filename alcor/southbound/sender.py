"""Per-host delivery bookkeeping and the single-flight send loop (southbound spec §2.2, §5)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from alcor.config import RetryConfig
from alcor.southbound.view import Key

_LOGGER = logging.getLogger(__name__)
# A random uuid4 head per process plus a counter: unique ids for tracing without paying
# for os.urandom on every message (a new host can mean a thousand messages at once).
_REQUEST_ID_HEAD = str(uuid.uuid4())[:24]
_REQUEST_ID_COUNTER = itertools.count(1)


def next_request_id() -> str:
    """Return a new uuid-shaped goal-state request id, unique within and across runs."""
    return f"{_REQUEST_ID_HEAD}{next(_REQUEST_ID_COUNTER) & 0xFFFFFFFFFFFF:012x}"


@dataclass(slots=True)
class Carried:
    """One state inside an in-flight message."""

    key: Key
    revision: int
    present: bool  # False for a DELETE


@dataclass
class Message:
    """A built goal state for one host."""

    request_id: str
    payload: bytes
    carried: list[Carried]
    since: float = field(default_factory=time.time)


@dataclass
class Delivery:
    """What the controller knows about one host's programming (also the API's view)."""

    node_id: str
    pending: dict[Key, None] = field(default_factory=dict)  # ordered set of dirty keys
    sent: dict[Key, tuple[int, bool]] = field(default_factory=dict)  # key -> (rev, present)
    acked: dict[Key, int] = field(default_factory=dict)
    status: dict[Key, str] = field(default_factory=dict)  # last status per key
    attempts: dict[tuple[Key, int], int] = field(default_factory=dict)
    exhausted: set[tuple[Key, int]] = field(default_factory=set)
    inflight: Message | None = None
    backoff_until: float = 0.0
    consecutive_failures: int = 0
    last_contact: float | None = None
    last_success: float | None = None
    last_agent_restart: float | None = None
    last_error: str | None = None
    connected: bool = False
    restart_waiters: list[asyncio.Future[bool]] = field(default_factory=list)

    def mark(self, keys: Any) -> None:
        """Add dirty keys (duplicates merge)."""
        for key in keys:
            self.pending[key] = None

    def reset(self) -> None:
        """Forget what was sent and acknowledged (agent restart / re-addressed node)."""
        self.sent.clear()
        self.acked.clear()
        self.status.clear()
        self.attempts.clear()
        self.exhausted.clear()
        self.backoff_until = 0.0


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
    ) -> None:
        self.delivery = delivery
        self._send_once = send_once
        self._retry = retry
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the send loop."""
        self._task = asyncio.create_task(self._run(), name=f"sender-{self.delivery.node_id}")

    async def stop(self) -> None:
        """Cancel the send loop and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for waiter in self.delivery.restart_waiters:
            if not waiter.done():
                waiter.set_result(False)

    def wake(self) -> None:
        """Tell the loop there may be work."""
        self._wake.set()

    async def _run(self) -> None:
        delivery = self.delivery
        while True:
            await self._wake.wait()
            self._wake.clear()
            while delivery.pending:
                delay = delivery.backoff_until - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=delay)
                        self._wake.clear()
                    except TimeoutError:
                        pass
                    if delivery.backoff_until - time.monotonic() > 0:
                        continue
                try:
                    ok = await self._send_once(delivery)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug must not kill the host's delivery forever
                    _LOGGER.exception("sender for node %s failed; backing off", delivery.node_id)
                    ok = False
                if not ok:
                    delivery.consecutive_failures += 1
                    delivery.backoff_until = time.monotonic() + backoff_delay(
                        self._retry, delivery.consecutive_failures
                    )
