"""Two outbox workers of two cluster members on one store: a lane is worked by its owner,
and never by two at once, whatever each believes it owns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from alcor.managers.gateway.worker import OutboxWorker, Result
from alcor.store import Store, outbox
from alcor.store.outbox import Row

LANE = "vpc-1"


class Members:
    """An Ownership whose live members and owners a test sets."""

    name = "cluster"

    def __init__(self, member_id: str, world: World) -> None:
        self.member_id = member_id
        self._world = world
        self.healthy = True

    @property
    def live(self) -> tuple[str, ...]:
        """Return the members the test says are live."""
        return self._world.live

    def owns(self, key: str) -> bool:
        """Tell whether the test gave `key` to this member."""
        return self.healthy and self._world.owner.get(key) == self.member_id

    def listen(self, callback: Callable[[], None]) -> None:
        """Remember the callback (the test calls it when it moves a lane)."""
        self._world.listeners.append(callback)


class World:
    """The members' shared view: who is live, who owns which lane."""

    def __init__(self) -> None:
        self.live: tuple[str, ...] = ("a", "b")
        self.owner: dict[str, str] = {}
        self.listeners: list[Callable[[], None]] = []

    def move(self, key: str, member: str) -> None:
        """Give lane `key` to `member` and tell every worker."""
        self.owner[key] = member
        for callback in self.listeners:
            callback()


class Held:
    """A worker.Sender whose calls wait until the test lets them go; it records them."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int]] = []  # (row id, attempts before this one)
        self.gate = asyncio.Event()
        self.calling = asyncio.Event()

    def take(self, rows: Sequence[Row]) -> list[Row]:
        """Return the head alone."""
        return [rows[0]]

    async def send(self, rows: Sequence[Row]) -> Result:
        """Record the call, wait for the gate, succeed."""
        self.sent += [(r.id, r.attempts) for r in rows]
        self.calling.set()
        await self.gate.wait()
        return Result(done={r.id: "sent" for r in rows})

    async def settle(self, rows: Sequence[Row], result: Result) -> None:
        """Nothing to settle."""


def _worker(db: Store, sender: Held, members: Members) -> OutboxWorker:
    return OutboxWorker(
        db,
        sender,
        read_limit=10,
        parallel=4,
        retry_base_s=0.01,
        retry_cap_s=0.01,
        linger_s=0.0,
        ownership=members,
        poll_s=0.01,
        drain_s=1.0,
    )


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.005)


@pytest.fixture
async def pair(memory_db: Store):
    """Workers of members a and b on one store, lane LANE owned by a."""
    world = World()
    world.owner[LANE] = "a"
    senders = {"a": Held(), "b": Held()}
    members = {m: Members(m, world) for m in ("a", "b")}
    workers = {m: _worker(memory_db, senders[m], members[m]) for m in ("a", "b")}
    for worker in workers.values():
        await worker.start()
    yield world, senders, members
    for sender in senders.values():
        sender.gate.set()
    for worker in workers.values():
        await worker.stop()


async def test_a_lane_that_moves_waits_for_the_call_out(memory_db, pair):
    """Lane moved to b while a's call is out: b sends nothing until a has settled it, then
    goes on with the next row; a stops working the lane."""
    world, senders, _ = pair
    first = await outbox.enqueue(memory_db, "K", LANE, "t1", {}, now=0.0)
    second = await outbox.enqueue(memory_db, "K", LANE, "t2", {}, now=0.0)
    await asyncio.wait_for(senders["a"].calling.wait(), 10)
    world.move(LANE, "b")
    await asyncio.sleep(0.2)  # b looks at the lane many times meanwhile
    assert senders["b"].sent == []
    senders["b"].gate.set()
    senders["a"].gate.set()
    await _until(lambda: bool(senders["b"].sent))
    assert senders["a"].sent == [(first, 0)]
    assert senders["b"].sent == [(second, 0)]


async def test_the_call_of_a_dead_member_is_taken_over_and_read_back(memory_db, pair):
    """a dies with its call out: its mark no longer holds the lane; b owns it and sends
    the row again as an unknown outcome (attempts > 0: read Zeta's side first)."""
    world, senders, _ = pair
    row = await outbox.enqueue(memory_db, "K", LANE, "t1", {}, now=0.0)
    await asyncio.wait_for(senders["a"].calling.wait(), 10)
    world.live = ("b",)
    senders["b"].gate.set()
    world.move(LANE, "b")
    await _until(lambda: bool(senders["b"].sent))
    assert senders["b"].sent == [(row, 1)]


async def test_a_member_back_from_giving_up_frees_the_lanes_it_abandoned(memory_db, pair):
    """a loses its heartbeat with a call out: it abandons the call (its mark stays, and
    holds the lane while a still counts as live). Back, a clears the marks of what it
    abandoned; b, the lane's owner now, takes the row as an unknown outcome."""
    world, senders, members = pair
    row = await outbox.enqueue(memory_db, "K", LANE, "t1", {}, now=0.0)
    await asyncio.wait_for(senders["a"].calling.wait(), 10)
    members["a"].healthy = False
    world.move(LANE, "b")  # a gives up; b owns the lane, a still counts as live
    senders["b"].gate.set()
    await asyncio.sleep(0.2)
    assert senders["b"].sent == []
    members["a"].healthy = True
    world.move(LANE, "b")  # a's heartbeat is back
    await _until(lambda: bool(senders["b"].sent))
    assert senders["b"].sent == [(row, 1)]
