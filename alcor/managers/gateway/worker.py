"""The outbox worker: one FIFO lane per key (VPC), lanes in parallel, retries with backoff.

A lane task exists while its key has pending rows. It takes the head of the lane (the
sender may batch several rows), records the attempt, makes the calls with no transaction
open, and settles the result in one transaction: done rows, failed rows with their next
attempt, and the sender's own bookkeeping (gateway status, ...). Rows behind a failing
head wait: a VPC's port creates never overtake its create, nor its delete its ports'.

kill -9 at any point loses nothing: rows are written with the change that causes them,
and a row whose call went out without its result being committed has attempts > 0, which
tells the sender to read the other side before sending again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import Counter

from alcor.priority import create_background_task
from alcor.store import Store, outbox
from alcor.store.outbox import Row

_LOGGER = logging.getLogger(__name__)

ATTEMPTS = Counter(
    "alcor_outbox_attempts",
    "Outbox rows attempted, by kind and result (done, failed)",
    ["kind", "result"],
)


@dataclass
class Result:
    """What one attempt achieved: rows settled (and how), and why the others were not."""

    done: dict[int, str] = field(default_factory=dict)  # row id -> sent | found | gone
    error: str | None = None


class Sender(Protocol):
    """Turns the head of a lane into external calls and settles their results."""

    def take(self, rows: Sequence[Row]) -> list[Row]:
        """Return the head rows to send together (at least the first)."""

    async def send(self, rows: Sequence[Row]) -> Result:
        """Make the calls (no transaction is open) and return what they achieved."""

    async def settle(self, rows: Sequence[Row], result: Result) -> None:
        """Record the result's side effects (runs inside the settling transaction)."""


def backoff(attempts: int, base: float, cap: float) -> float:
    """Return the jittered delay after the n-th failed attempt: half to all of
    min(cap, base * 2^(n-1)), so retries of many rows do not hit Zeta in step."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


class OutboxWorker:
    """Send pending outbox rows, lane by lane."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        *,
        read_limit: int,
        parallel: int,
        retry_base_s: float,
        retry_cap_s: float,
        linger_s: float,
    ) -> None:
        self._store = store
        self._sender = sender
        self._read_limit = read_limit
        self._slots = asyncio.Semaphore(parallel)
        self._base = retry_base_s
        self._cap = retry_cap_s
        self._linger = linger_s
        self._lanes: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Start a lane for every key with pending rows (after a restart: where it stopped)."""
        self.poke(await outbox.pending_keys(self._store))

    async def stop(self) -> None:
        """Cancel every lane; a call cut short is retried (probed first) on the next start."""
        lanes = list(self._lanes.values())
        for task in lanes:
            task.cancel()
        for task in lanes:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._lanes.clear()

    def poke(self, keys: Iterable[str]) -> None:
        """Make sure the lanes of `keys` run (call after committing rows to them)."""
        for key in keys:
            if key not in self._lanes:
                # Calls to the gateway are background work, whoever pokes (an after-commit
                # callback runs in the commit's own context): the API's callbacks go first.
                self._lanes[key] = create_background_task(self._lane(key), name=f"outbox-{key}")

    @property
    def running_lanes(self) -> int:
        """Return how many lanes have a task."""
        return len(self._lanes)

    async def _lane(self, key: str) -> None:
        try:
            while True:
                # No await between reading an empty lane and leaving it: a poke after a
                # commit either finds this task still here (and it reads the new rows) or
                # starts a new one.
                rows = await outbox.lane(self._store, key, 1)
                if not rows:
                    return
                delay = self._delay(rows)
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
                async with self._slots:
                    # Read again: while this lane waited for a slot, its rows may have
                    # been superseded (a call that never went out must stay unsent).
                    rows = await outbox.lane(self._store, key, self._read_limit)
                    if rows and self._delay(rows) <= 0:
                        await self._attempt(self._sender.take(rows))
        finally:
            if self._lanes.get(key) is asyncio.current_task():
                del self._lanes[key]

    def _delay(self, rows: Sequence[Row]) -> float:
        """Return how long the lane's head must wait: its retry time, and for a first
        attempt until it is `linger` old (rows written just after it then go in the same
        call: one call per burst, not one per API request)."""
        head = rows[0]
        due = head.next_attempt_at
        if head.attempts == 0:
            due = max(due, head.created_at + self._linger)
        return due - time.time()

    async def _attempt(self, rows: Sequence[Row]) -> None:
        now = time.time()
        ids = [r.id for r in rows]
        worst = max(r.attempts for r in rows) + 1
        async with self._store.transaction():
            await outbox.start_attempt(
                self._store, ids, now, now + backoff(worst, self._base, self._cap)
            )
        try:
            result = await self._sender.send(rows)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not stop the lane forever: retried, visible
            _LOGGER.exception("outbox rows %s failed unexpectedly", ids[:5])
            result = Result(error=f"internal error: {type(exc).__name__}: {exc}")
        try:
            async with self._store.transaction():
                await self._record(rows, result)
                await self._sender.settle(rows, result)
        except Exception:
            # The attempt stays recorded: the rows are retried (probed) when next due.
            _LOGGER.exception("settling outbox rows %s failed", ids[:5])
            return
        self._count(rows, result.done)

    async def _record(self, rows: Sequence[Row], result: Result) -> None:
        db = self._store
        now = time.time()
        done: dict[str, list[int]] = {}
        for row_id, how in result.done.items():
            done.setdefault(how, []).append(row_id)
        for how, ids in done.items():
            await outbox.finish(db, ids, how, now)
        failed: dict[int, list[int]] = {}  # by attempts so far
        for row in rows:
            if row.id not in result.done:
                failed.setdefault(row.attempts + 1, []).append(row.id)
        for attempts, ids in failed.items():
            retry_at = now + backoff(attempts, self._base, self._cap)
            await outbox.fail(db, ids, result.error or "not done", retry_at)

    @staticmethod
    def _count(rows: Sequence[Row], done: dict[int, str]) -> None:
        counts: dict[tuple[str, str], int] = {}
        for row in rows:
            label = (row.kind, "done" if row.id in done else "failed")
            counts[label] = counts.get(label, 0) + 1
        for (kind, result), n in counts.items():
            ATTEMPTS.labels(kind, result).inc(n)
