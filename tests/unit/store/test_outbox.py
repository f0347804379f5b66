"""The outbox table: FIFO lanes, settled rows keep their outcome, pruning, summaries."""

from __future__ import annotations

import pytest

from alcor.store import Store, outbox


@pytest.fixture
def db(memory_db: Store) -> Store:
    """The in-memory store of tests/conftest.py."""
    return memory_db


async def test_lanes_are_fifo_and_separate(db):
    """Rows of one key come back in the order written; other keys do not mix in."""
    a1 = await outbox.enqueue(db, "K1", "a", "t1", {"n": 1}, now=10.0)
    await outbox.enqueue(db, "K1", "b", "t2", {"n": 2}, now=11.0)
    a2 = await outbox.enqueue(db, "K2", "a", "t3", {"n": 3}, now=12.0)
    assert [r.id for r in await outbox.lane(db, "a", 10)] == [a1, a2]
    assert (await outbox.lane(db, "a", 1))[0].payload == {"n": 1}
    assert sorted(await outbox.pending_keys(db)) == ["a", "b"]
    assert await outbox.oldest_pending_created(db) == 10.0
    assert await outbox.pending_by_kind(db) == {"K1": 2, "K2": 1}


async def test_a_settled_row_keeps_its_first_outcome(db):
    """finish and fail touch pending rows only: a superseded row is never revived."""
    row = await outbox.enqueue(db, "K", "a", "t", {})
    await outbox.finish(db, [row], "superseded", 5.0)
    await outbox.finish(db, [row], "sent", 6.0)
    await outbox.fail(db, [row], "boom", 99.0)
    settled = await outbox.get(db, row)
    assert (settled.outcome, settled.done_at, settled.last_error) == ("superseded", 5.0, None)
    assert await outbox.lane(db, "a", 10) == []


async def test_attempts_errors_and_summary(db):
    """An attempt counts before the call; a failure keeps its error until success."""
    first = await outbox.enqueue(db, "K", "a", "t1", {})
    await outbox.enqueue(db, "K", "a", "t2", {})
    await outbox.start_attempt(db, [first], now=100.0, next_attempt_at=101.0)
    await outbox.fail(db, [first], "answered 500", next_attempt_at=102.0)
    assert await outbox.worst_pending(db, "a") == (1, "answered 500")
    assert await outbox.lane_summary(db, ["a", "z"]) == {
        "a": {"pending_operations": 2, "attempts": 1, "last_attempt_at": 100.0},
        "z": {"pending_operations": 0, "attempts": 0, "last_attempt_at": None},
    }
    await outbox.finish(db, [first], "sent", 103.0)
    assert await outbox.worst_pending(db, "a") == (0, None)
    assert (await outbox.get(db, first)).last_error is None


async def test_pending_for_target_and_prune(db):
    """Rows about one object from an id on; settled rows older than the cut are pruned."""
    old = await outbox.enqueue(db, "K", "a", "p1", {})
    new = await outbox.enqueue(db, "K", "a", "p1", {})
    assert [r.id for r in await outbox.pending_for_target(db, "p1", from_id=new)] == [new]
    await outbox.finish(db, [old], "sent", 1.0)
    assert await outbox.prune_done(db, older_than=2.0) == 1
    assert await outbox.get(db, old) is None and await outbox.get(db, new) is not None
    assert [r.id for r in await outbox.rows(db)] == [new]
    assert [r.id for r in await outbox.rows(db, pending_only=True)] == [new]
