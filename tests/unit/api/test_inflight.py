"""Inflight: what a graceful shutdown waits for."""

from __future__ import annotations

import asyncio

import pytest

from alcor.api.inflight import Inflight


async def test_drained_waits_for_requests_in_flight_then_a_quiet_moment() -> None:
    """drained() returns only once nothing is in flight and nothing new started."""
    inflight = Inflight()
    inflight.begin()
    waiting = asyncio.ensure_future(inflight.drained(timeout=10, quiet_s=0.05))
    await asyncio.sleep(0)
    assert not waiting.done()
    inflight.end()
    inflight.begin()  # a request that arrived on a kept-alive connection
    inflight.end()
    assert await waiting is True
    assert inflight.count == 0


async def test_drained_gives_up_after_its_timeout() -> None:
    """A request that never ends does not hold the shutdown past the timeout."""
    inflight = Inflight()
    inflight.begin()
    assert await inflight.drained(timeout=0.05, quiet_s=0.01) is False
    assert inflight.count == 1


def test_the_backlog_counts_requests_clients_wait_on_not_streams() -> None:
    """A watch stream is in flight (a shutdown waits for it) but no client waits on it."""
    inflight = Inflight()
    for _ in range(3):
        inflight.begin()
    with inflight.streaming():
        assert (inflight.count, inflight.backlog()) == (3, 2)
    assert inflight.backlog() == 3


@pytest.fixture
def clocked(monkeypatch) -> tuple[Inflight, list[float]]:
    """An Inflight whose clock the test moves (time.monotonic patched)."""
    clock = [100.0]
    monkeypatch.setattr("alcor.api.inflight.time.monotonic", lambda: clock[0])
    return Inflight(), clock


def _writes(inflight: Inflight, n: int, *, end: bool = False) -> None:
    for _ in range(n):
        (inflight.end if end else inflight.begin)(write=True)


def test_writers_to_come_is_the_recent_write_peak_beyond_a_commits_members(clocked) -> None:
    """Four concurrent writes seen: a commit of two may expect two more; reads do not count."""
    inflight, _ = clocked
    _writes(inflight, 4)
    for _ in range(3):
        inflight.begin()  # reads never join a write transaction
    assert inflight.writers_to_come(members=2) == 2
    assert inflight.writers_to_come(members=4) == 0
    _writes(inflight, 2, end=True)
    assert inflight.writers_to_come(members=1) == 3  # the peak is remembered a while
    _writes(inflight, 1, end=True)
    assert inflight.writers_to_come(members=1) == 0  # one write in flight: nobody to wait for


def test_the_write_peak_is_forgotten_after_a_quiet_second(clocked) -> None:
    """After the burst the peak follows the writers of now."""
    inflight, clock = clocked
    _writes(inflight, 8)
    _writes(inflight, 8, end=True)
    clock[0] += 2.0
    _writes(inflight, 2)
    assert inflight.writers_to_come(members=1) == 1
