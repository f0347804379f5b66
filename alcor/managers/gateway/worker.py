"""The outbox worker: one FIFO lane per key (VPC), lanes in parallel, retries with backoff.

A lane task exists while its key has pending rows. It takes the head of the lane (the
sender may batch several rows), records the attempt, makes the calls with no transaction
open, and settles the result in one transaction: done rows, failed rows with their next
attempt, and the sender's own bookkeeping (gateway status, ...). Rows behind a failing
head wait: a VPC's port creates never overtake its create, nor its delete its ports'.

kill -9 at any point loses nothing: rows are written with the change that causes them,
and a row whose call went out without its result being committed has attempts > 0, which
tells the sender to read the other side before sending again.

Several processes on one PostgreSQL database (an `Ownership`): each lane is worked by the
live member that owns its key (rendezvous hashing, as hosts are). A process works only the
lanes it owns, finds the rows other processes queued for them by reading the outbox every
`poll_s`, and picks lanes up when members come or go. A lane that moves away finishes the
call in flight, settles it, and stops. Ownership moves by heartbeats, so two processes may
both believe for a moment that they own a lane; the fence is in the database: a call is
claimed (its attempt recorded, marked with the member's id) under the lane's advisory
lock, after re-reading the head, and not while a live member's mark is on the lane. The
mark goes with the settled result. A dead member's mark is void: its successor reads
Zeta's side first (attempts > 0), as after a restart. A process that loses its heartbeat
abandons its calls before the others may count it dead, and clears its marks when it is
back. A stop gives the calls in flight `drain_s` to settle (the membership leaves after).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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


class Ownership(Protocol):
    """Which live process works which lanes (alcor/southbound/ownership.py's Membership)."""

    @property
    def name(self) -> str:
        """Return the name of the component that keeps the membership."""

    @property
    def member_id(self) -> str:
        """Return this process's member id."""

    @property
    def live(self) -> tuple[str, ...]:
        """Return the live members' ids."""

    @property
    def healthy(self) -> bool:
        """Tell whether this process's heartbeat is recent enough to act for keys."""

    def owns(self, key: str) -> bool:
        """Tell whether this process works lane `key` now."""

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the members change or this process gives up its keys."""


def backoff(attempts: int, base: float, cap: float) -> float:
    """Return the jittered delay after the n-th failed attempt: half to all of
    min(cap, base * 2^(n-1)), so retries of many rows do not hit Zeta in step."""
    # The exponent stops growing long after the cap is reached (2^1024 is no float).
    ceiling = min(cap, base * 2 ** min(max(0, attempts - 1), 64))
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
        ownership: Ownership | None = None,
        poll_s: float = 0.5,
        drain_s: float = 10.0,
    ) -> None:
        self._store = store
        self._sender = sender
        self._read_limit = read_limit
        self._slots = asyncio.Semaphore(parallel)
        self._base = retry_base_s
        self._cap = retry_cap_s
        self._linger = linger_s
        self._lanes: dict[str, asyncio.Task[None]] = {}
        # Several processes: who works which lane, how often the outbox is read for rows
        # the others queued, how long a stop waits for the calls in flight.
        self._own = ownership
        self._poll = poll_s
        self._drain = drain_s
        self._sending: set[str] = set()  # lanes with a call out (claimed, not yet settled)
        self._stopping = False
        self._paused = False  # gave up for want of a heartbeat, until its marks are cleared
        self._rescan = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()  # the scanner, a recovery

    async def start(self) -> None:
        """Start a lane for every key with pending rows (after a restart: where it stopped)."""
        self._stopping = False
        if self._own is not None:
            self._own.listen(self._members_changed)
            self._spawn(self._scan(), "outbox-scan")
            return  # the scan starts the lanes this process owns
        self.poke(await outbox.pending_keys(self._store))

    async def stop(self) -> None:
        """Cancel every lane; a call cut short is retried (probed first) on the next start.

        With several processes the calls in flight first get `drain_s` to finish and settle:
        the others take these lanes over once this process has left the members.
        """
        self._stopping = True
        lanes = list(self._lanes.values())
        if self._own is not None and lanes:
            for key, task in list(self._lanes.items()):
                if key not in self._sending:
                    task.cancel()
            await asyncio.wait(lanes, timeout=self._drain)
        for task in [*lanes, *self._tasks]:
            task.cancel()
        for task in [*lanes, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._lanes.clear()
        self._tasks.clear()

    def poke(self, keys: Iterable[str]) -> None:
        """Make sure the lanes of `keys` run (call after committing rows to them); with
        several processes, only the lanes this process owns."""
        for key in keys:
            if key not in self._lanes and self._works(key):
                # Calls to the gateway are background work, whoever pokes (an after-commit
                # callback runs in the commit's own context): the API's callbacks go first.
                self._lanes[key] = create_background_task(self._lane(key), name=f"outbox-{key}")

    @property
    def running_lanes(self) -> int:
        """Return how many lanes have a task."""
        return len(self._lanes)

    def _works(self, key: str) -> bool:
        """Tell whether this process works lane `key` now."""
        if self._stopping or self._paused:
            return False
        return self._own is None or self._own.owns(key)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = create_background_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- several processes: which lanes are this process's ------------------------------
    def _members_changed(self) -> None:
        own = self._own
        if own is None or self._stopping:
            return
        if not own.healthy:
            # No heartbeat for too long: the others take these lanes once this process
            # counts as dead. Abandon the calls in flight now, before they may.
            if not self._paused:
                self._paused = True
                for task in self._lanes.values():
                    task.cancel()
            return
        if self._paused:
            self._spawn(self._recover(own.member_id), "outbox-recover")
            return
        self._rescan.set()  # lanes that moved here; those that moved away stop by themselves

    async def _recover(self, me: str) -> None:
        """Back after giving up: clear the marks of the abandoned calls (none of this
        process is out any more; the marks would hold the lanes now that it is live
        again), then work the lanes it owns."""
        await asyncio.gather(*self._lanes.values(), return_exceptions=True)
        await self._retry(outbox.release_all, me)
        self._paused = False
        self._rescan.set()

    async def _scan(self) -> None:
        """Start the owned lanes with pending rows, every `poll_s` and when members change
        (another process's change consumer may have queued them)."""
        while True:
            try:
                self.poke(await outbox.pending_keys(self._store))
            except Exception as exc:  # the database is away: try again at the next poll
                _LOGGER.warning("reading the outbox's pending lanes failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._rescan.wait()
            self._rescan.clear()

    # ---- one lane ------------------------------------------------------------------------
    async def _lane(self, key: str) -> None:
        try:
            while self._works(key):
                # No await between reading an empty lane and leaving it: a poke after a
                # commit either finds this task still here (and it reads the new rows) or
                # starts a new one.
                rows = await outbox.lane(self._store, key, 1)
                if not rows:
                    return
                wait = self._delay(rows)
                if wait <= 0:
                    async with self._slots:
                        wait = await self._turn(key)
                if wait > 0:
                    await asyncio.sleep(wait)
        finally:
            if self._lanes.get(key) is asyncio.current_task():
                del self._lanes[key]

    async def _turn(self, key: str) -> float:
        """Send the head of the lane if it is due (and, with several processes, no other
        has a call of it out); return how long to wait before looking again."""
        if self._own is None:
            # Read again: while this lane waited for a slot, its rows may have been
            # superseded (a call that never went out must stay unsent).
            rows = await outbox.lane(self._store, key, self._read_limit)
            if not rows or self._delay(rows) > 0:
                return 0.0
            batch = await self._start_attempt(self._sender.take(rows), None)
        else:
            batch, busy = await self._claim(key, self._own.member_id)
            if busy:
                return self._poll
        if batch:
            await self._attempt(batch)
        return 0.0

    async def _claim(self, key: str, me: str) -> tuple[list[Row], bool]:
        """Record an attempt of the lane's head as this member's; return its rows, and
        whether another live member still has a call of the lane out (nothing claimed)."""
        assert self._own is not None
        async with self._store.transaction():
            # One claim or settlement of a lane at a time across processes, so that the
            # head read here is the head, and a mark seen absent stays absent.
            await self._store.lock(lane_lock(key))
            live = set(self._own.live)
            if any(s != me and s in live for s in await outbox.senders(self._store, key)):
                return [], True
            rows = await outbox.lane(self._store, key, self._read_limit)
            if not rows or self._delay(rows) > 0:
                return [], False
            batch = await self._start_attempt(self._sender.take(rows), me)
        return batch, False

    def _delay(self, rows: Sequence[Row]) -> float:
        """Return how long the lane's head must wait: its retry time, and for a first
        attempt until it is `linger` old (rows written just after it then go in the same
        call: one call per burst, not one per API request)."""
        head = rows[0]
        due = head.next_attempt_at
        if head.attempts == 0:
            due = max(due, head.created_at + self._linger)
        return due - time.time()

    async def _start_attempt(self, rows: Sequence[Row], me: str | None) -> list[Row]:
        """Record an attempt of `rows`; return those recorded (the others were superseded
        after they were read, by a change consumer's transaction: they stay unsent)."""
        now = time.time()
        worst = max(r.attempts for r in rows) + 1
        retry_at = now + backoff(worst, self._base, self._cap)
        async with self._store.transaction():
            ids = [r.id for r in rows]
            recorded = await outbox.start_attempt(self._store, ids, now, retry_at, me)
        return [r for r in rows if r.id in recorded]

    async def _attempt(self, rows: Sequence[Row]) -> None:
        """Make the calls of rows whose attempt is recorded, and settle the result."""
        ids = [r.id for r in rows]
        key = rows[0].key
        self._sending.add(key)
        try:
            try:
                result = await self._sender.send(rows)
            except asyncio.CancelledError:
                raise  # the marks stay until this process leaves, dies or recovers
            except Exception as exc:  # a bug must not stop the lane forever: retried, visible
                _LOGGER.exception("outbox rows %s failed unexpectedly", ids[:5])
                result = Result(error=f"internal error: {type(exc).__name__}: {exc}")
            settled = await self._settle(rows, result)
        finally:
            self._sending.discard(key)
        if settled:
            self._count(rows, result.done)
        elif self._own is not None:
            # The rows are retried (probed) when next due; meanwhile the lane must not stay
            # marked as this member's call in flight. Cleared before this lane claims again.
            await self._retry(outbox.release, ids, self._own.member_id)

    async def _settle(self, rows: Sequence[Row], result: Result) -> bool:
        """Commit the result and the sender's bookkeeping; False when that failed (the
        attempt stays recorded: the rows are retried, probed, when next due)."""
        try:
            async with self._store.transaction():
                if self._own is not None:
                    await self._store.lock(lane_lock(rows[0].key))
                    await outbox.release(self._store, [r.id for r in rows], self._own.member_id)
                await self._record(rows, result)
                await self._sender.settle(rows, result)
        except Exception:
            _LOGGER.exception("settling outbox rows %s failed", [r.id for r in rows][:5])
            return False
        return True

    async def _retry(self, clear: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run `clear(store, *args)` (marks of this member) in a transaction until the
        database takes it."""
        failed = False
        while True:
            try:
                async with self._store.transaction():
                    await clear(self._store, *args)
                return
            except Exception as exc:
                if not failed:
                    _LOGGER.warning("clearing in-flight marks of the outbox failed: %s", exc)
                failed = True
                await asyncio.sleep(self._poll)

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


def lane_lock(key: str) -> str:
    """Return the name of the advisory lock of lane `key` (several processes)."""
    return f"outbox-lane:{key}"
