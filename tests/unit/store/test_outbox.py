"""The outbox table: FIFO lanes, settled rows keep their outcome, pruning, summaries."""

from __future__ import annotations

import pytest
import sqlite_utils

from alcor.store import outbox


@pytest.fixture
def db(schema_db: sqlite_utils.Database) -> sqlite_utils.Database:
    """The schema database of tests/conftest.py."""
    return schema_db


def test_lanes_are_fifo_and_separate(db):
    """Rows of one key come back in the order written; other keys do not mix in."""
    a1 = outbox.enqueue(db, "K1", "a", "t1", {"n": 1}, now=10.0)
    outbox.enqueue(db, "K1", "b", "t2", {"n": 2}, now=11.0)
    a2 = outbox.enqueue(db, "K2", "a", "t3", {"n": 3}, now=12.0)
    assert [r.id for r in outbox.lane(db, "a", 10)] == [a1, a2]
    assert outbox.lane(db, "a", 1)[0].payload == {"n": 1}
    assert sorted(outbox.pending_keys(db)) == ["a", "b"]
    assert outbox.oldest_pending_created(db) == 10.0
    assert outbox.pending_by_kind(db) == {"K1": 2, "K2": 1}


def test_a_settled_row_keeps_its_first_outcome(db):
    """finish and fail touch pending rows only: a superseded row is never revived."""
    row = outbox.enqueue(db, "K", "a", "t", {})
    outbox.finish(db, [row], "superseded", 5.0)
    outbox.finish(db, [row], "sent", 6.0)
    outbox.fail(db, [row], "boom", 99.0)
    settled = outbox.get(db, row)
    assert (settled.outcome, settled.done_at, settled.last_error) == ("superseded", 5.0, None)
    assert outbox.lane(db, "a", 10) == []


def test_attempts_errors_and_summary(db):
    """An attempt counts before the call; a failure keeps its error until success."""
    first = outbox.enqueue(db, "K", "a", "t1", {})
    outbox.enqueue(db, "K", "a", "t2", {})
    outbox.start_attempt(db, [first], now=100.0, next_attempt_at=101.0)
    outbox.fail(db, [first], "answered 500", next_attempt_at=102.0)
    assert outbox.worst_pending(db, "a") == (1, "answered 500")
    assert outbox.lane_summary(db, ["a", "z"]) == {
        "a": {"pending_operations": 2, "attempts": 1, "last_attempt_at": 100.0},
        "z": {"pending_operations": 0, "attempts": 0, "last_attempt_at": None},
    }
    outbox.finish(db, [first], "sent", 103.0)
    assert outbox.worst_pending(db, "a") == (0, None)
    assert outbox.get(db, first).last_error is None


def test_pending_for_target_and_prune(db):
    """Rows about one object from an id on; settled rows older than the cut are pruned."""
    old = outbox.enqueue(db, "K", "a", "p1", {})
    new = outbox.enqueue(db, "K", "a", "p1", {})
    assert [r.id for r in outbox.pending_for_target(db, "p1", from_id=new)] == [new]
    outbox.finish(db, [old], "sent", 1.0)
    assert outbox.prune_done(db, older_than=2.0) == 1
    assert outbox.get(db, old) is None and outbox.get(db, new) is not None
    assert [r.id for r in outbox.rows(db)] == [new]
    assert [r.id for r in outbox.rows(db, pending_only=True)] == [new]
