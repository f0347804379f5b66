"""Free ranges: disjoint [first, last] rows per pool, exact at any size (IPv6 /64 and up)."""

from __future__ import annotations

import pytest
import sqlite_utils

from alcor.store import ranges
from alcor.store.schema import initial


@pytest.fixture
def db() -> sqlite_utils.Database:
    """An in-memory database with the real schema."""
    database = sqlite_utils.Database(memory=True)
    initial(database)
    return database


def _rows(db: sqlite_utils.Database, pool: str = "p") -> list[tuple[int, int]]:
    return [
        (int(a, 16), int(b, 16))
        for a, b in db.execute(
            "SELECT first, last FROM free_ranges WHERE pool = ? ORDER BY first", [pool]
        )
    ]


def test_keys_sort_like_the_integers():
    """Fixed-width hex keys order exactly as their integers, up to 2^128 - 1."""
    values = [0, 1, 9, 10, 255, 256, 2**64 - 1, 2**64, 2**127, 2**128 - 1]
    assert sorted(ranges.key(v) for v in values) == [ranges.key(v) for v in values]


def test_take_lowest_returns_values_in_order_then_none(db):
    """take_lowest walks a pool from the bottom and returns None when it is empty."""
    ranges.reset(db, "p", [(5, 7)])
    assert [ranges.take_lowest(db, "p") for _ in range(4)] == [5, 6, 7, None]
    assert _rows(db) == []


def test_take_lowest_crosses_into_the_next_range(db):
    """With several ranges, the lowest free value of the lowest range comes first."""
    ranges.reset(db, "p", [(20, 20), (1, 2)])
    assert [ranges.take_lowest(db, "p") for _ in range(3)] == [1, 2, 20]


def test_reset_excludes_taken_values(db):
    """reset() builds the free ranges minus values already in use."""
    ranges.reset(db, "p", [(1, 10)], taken=[1, 5, 6, 10, 42])
    assert _rows(db) == [(2, 4), (7, 9)]


def test_take_specific_value_splits_a_range(db):
    """Taking a value in the middle leaves two ranges around it."""
    ranges.reset(db, "p", [(1, 10)])
    assert ranges.take(db, "p", 5) is True
    assert _rows(db) == [(1, 4), (6, 10)]
    assert ranges.take(db, "p", 1) is True
    assert ranges.take(db, "p", 10) is True
    assert _rows(db) == [(2, 4), (6, 9)]


def test_take_specific_value_that_is_not_free_fails(db):
    """A taken value, or one outside every range, cannot be taken."""
    ranges.reset(db, "p", [(1, 10)])
    assert ranges.take(db, "p", 3)
    assert ranges.take(db, "p", 3) is False
    assert ranges.take(db, "p", 11) is False
    assert ranges.take(db, "p", 0) is False
    assert ranges.take(db, "other", 3) is False


def test_give_back_merges_with_both_neighbours(db):
    """Returning the value between two free ranges merges them into one row."""
    ranges.reset(db, "p", [(1, 10)])
    ranges.take(db, "p", 5)
    ranges.give_back(db, "p", 5)
    assert _rows(db) == [(1, 10)]


def test_give_back_merges_with_one_neighbour_or_stands_alone(db):
    """A returned value extends an adjacent range, or becomes its own range."""
    ranges.reset(db, "p", [(1, 10)], taken=[1, 2, 3, 8, 9, 10])
    ranges.give_back(db, "p", 3)  # joins (4, 7) at its front
    assert _rows(db) == [(3, 7)]
    ranges.give_back(db, "p", 8)  # joins at its end
    assert _rows(db) == [(3, 8)]
    ranges.give_back(db, "p", 1)  # no neighbour
    assert _rows(db) == [(1, 1), (3, 8)]
    ranges.give_back(db, "p", 2)  # bridges both
    assert _rows(db) == [(1, 8)]


def test_give_back_of_a_free_value_changes_nothing(db):
    """Giving back a value that is already free is a no-op (no duplicate rows)."""
    ranges.reset(db, "p", [(1, 3)])
    ranges.give_back(db, "p", 2)
    assert _rows(db) == [(1, 3)]
    assert ranges.free_count(db, "p") == 3


def test_pools_are_independent(db):
    """Operations on one pool never touch another."""
    ranges.reset(db, "a", [(1, 3)])
    ranges.reset(db, "b", [(1, 3)])
    ranges.take(db, "a", 2)
    assert ranges.take_lowest(db, "b") == 1
    assert _rows(db, "a") == [(1, 1), (3, 3)]
    ranges.drop(db, "a")
    assert _rows(db, "a") == []
    assert _rows(db, "b") == [(2, 3)]


def test_ipv6_slash_64_is_one_row_with_exact_counts():
    """A /64 pool is one row and its free count is exact beyond 2^64 (no enumeration)."""
    db = sqlite_utils.Database(memory=True)
    initial(db)
    base = 0xFD00_0001_0000_0000_0000_0000_0000_0000
    ranges.reset(db, "v6", [(base + 2, base + 2**64 - 1)])
    assert ranges.free_count(db, "v6") == 2**64 - 2
    assert ranges.take_lowest(db, "v6") == base + 2
    middle = base + 2**63 + 12345
    assert ranges.take(db, "v6", middle)
    assert ranges.free_count(db, "v6") == 2**64 - 4
    assert len(_rows(db, "v6")) == 2
    ranges.give_back(db, "v6", middle)
    ranges.give_back(db, "v6", base + 2)
    assert _rows(db, "v6") == [(base + 2, base + 2**64 - 1)]


def test_whole_ipv6_space_counts_exactly():
    """Even a pool spanning 2^128 values counts exactly and takes its top value."""
    db = sqlite_utils.Database(memory=True)
    initial(db)
    ranges.reset(db, "all", [(0, 2**128 - 1)])
    assert ranges.free_count(db, "all") == 2**128
    assert ranges.take(db, "all", 2**128 - 1)
    assert ranges.free_count(db, "all") == 2**128 - 1
    ranges.give_back(db, "all", 2**128 - 1)
    assert _rows(db, "all") == [(0, 2**128 - 1)]


def test_take_many_takes_the_lowest_values_across_ranges_in_order():
    """take_many consumes whole ranges and trims the last one; it stops when the pool is empty."""
    db = sqlite_utils.Database(memory=True)
    initial(db)
    ranges.reset(db, "p", [(10, 12), (20, 29)], taken=[11])
    assert ranges.take_many(db, "p", 4) == [10, 12, 20, 21]
    assert ranges.take_lowest(db, "p") == 22
    assert ranges.take_many(db, "p", 100) == list(range(23, 30))
    assert ranges.take_many(db, "p", 1) == []
