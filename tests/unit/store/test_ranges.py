"""Free ranges: disjoint [first, last] rows per pool, exact at any size (IPv6 /64 and up)."""

from __future__ import annotations

import pytest

from alcor.store import Store, ranges


@pytest.fixture
def db(memory_db: Store) -> Store:
    """An in-memory database with the real schema."""
    return memory_db


async def _rows(db: Store, pool: str = "p") -> list[tuple[int, int]]:
    return [
        (int(a, 16), int(b, 16))
        for a, b in await db.fetch(
            "SELECT first, last FROM free_ranges WHERE pool = ? ORDER BY first", [pool]
        )
    ]


def test_keys_sort_like_the_integers(db):
    """Fixed-width hex keys order exactly as their integers, up to 2^128 - 1."""
    values = [0, 1, 9, 10, 255, 256, 2**64 - 1, 2**64, 2**127, 2**128 - 1]
    assert sorted(ranges.key(v) for v in values) == [ranges.key(v) for v in values]


async def test_take_lowest_returns_values_in_order_then_none(db):
    """take_lowest walks a pool from the bottom and returns None when it is empty."""
    await ranges.reset(db, "p", [(5, 7)])
    assert [await ranges.take_lowest(db, "p") for _ in range(4)] == [5, 6, 7, None]
    assert await _rows(db) == []


async def test_take_lowest_crosses_into_the_next_range(db):
    """With several ranges, the lowest free value of the lowest range comes first."""
    await ranges.reset(db, "p", [(20, 20), (1, 2)])
    assert [await ranges.take_lowest(db, "p") for _ in range(3)] == [1, 2, 20]


async def test_reset_excludes_taken_values(db):
    """reset() builds the free ranges minus values already in use."""
    await ranges.reset(db, "p", [(1, 10)], taken=[1, 5, 6, 10, 42])
    assert await _rows(db) == [(2, 4), (7, 9)]


async def test_take_specific_value_splits_a_range(db):
    """Taking a value in the middle leaves two ranges around it."""
    await ranges.reset(db, "p", [(1, 10)])
    assert await ranges.take(db, "p", 5) is True
    assert await _rows(db) == [(1, 4), (6, 10)]
    assert await ranges.take(db, "p", 1) is True
    assert await ranges.take(db, "p", 10) is True
    assert await _rows(db) == [(2, 4), (6, 9)]


async def test_take_specific_value_that_is_not_free_fails(db):
    """A taken value, or one outside every range, cannot be taken."""
    await ranges.reset(db, "p", [(1, 10)])
    assert await ranges.take(db, "p", 3)
    assert await ranges.take(db, "p", 3) is False
    assert await ranges.take(db, "p", 11) is False
    assert await ranges.take(db, "p", 0) is False
    assert await ranges.take(db, "other", 3) is False


async def test_give_back_merges_with_both_neighbours(db):
    """Returning the value between two free ranges merges them into one row."""
    await ranges.reset(db, "p", [(1, 10)])
    await ranges.take(db, "p", 5)
    await ranges.give_back(db, "p", 5)
    assert await _rows(db) == [(1, 10)]


async def test_give_back_merges_with_one_neighbour_or_stands_alone(db):
    """A returned value extends an adjacent range, or becomes its own range."""
    await ranges.reset(db, "p", [(1, 10)], taken=[1, 2, 3, 8, 9, 10])
    await ranges.give_back(db, "p", 3)  # joins (4, 7) at its front
    assert await _rows(db) == [(3, 7)]
    await ranges.give_back(db, "p", 8)  # joins at its end
    assert await _rows(db) == [(3, 8)]
    await ranges.give_back(db, "p", 1)  # no neighbour
    assert await _rows(db) == [(1, 1), (3, 8)]
    await ranges.give_back(db, "p", 2)  # bridges both
    assert await _rows(db) == [(1, 8)]


async def test_give_back_of_a_free_value_changes_nothing(db):
    """Giving back a value that is already free is a no-op (no duplicate rows)."""
    await ranges.reset(db, "p", [(1, 3)])
    await ranges.give_back(db, "p", 2)
    assert await _rows(db) == [(1, 3)]
    assert await ranges.free_count(db, "p") == 3


async def test_pools_are_independent(db):
    """Operations on one pool never touch another."""
    await ranges.reset(db, "a", [(1, 3)])
    await ranges.reset(db, "b", [(1, 3)])
    await ranges.take(db, "a", 2)
    assert await ranges.take_lowest(db, "b") == 1
    assert await _rows(db, "a") == [(1, 1), (3, 3)]
    await ranges.drop(db, "a")
    assert await _rows(db, "a") == []
    assert await _rows(db, "b") == [(2, 3)]


async def test_ipv6_slash_64_is_one_row_with_exact_counts(db):
    """A /64 pool is one row and its free count is exact beyond 2^64 (no enumeration)."""
    base = 0xFD00_0001_0000_0000_0000_0000_0000_0000
    await ranges.reset(db, "v6", [(base + 2, base + 2**64 - 1)])
    assert await ranges.free_count(db, "v6") == 2**64 - 2
    assert await ranges.take_lowest(db, "v6") == base + 2
    middle = base + 2**63 + 12345
    assert await ranges.take(db, "v6", middle)
    assert await ranges.free_count(db, "v6") == 2**64 - 4
    assert len(await _rows(db, "v6")) == 2
    await ranges.give_back(db, "v6", middle)
    await ranges.give_back(db, "v6", base + 2)
    assert await _rows(db, "v6") == [(base + 2, base + 2**64 - 1)]


async def test_whole_ipv6_space_counts_exactly(db):
    """Even a pool spanning 2^128 values counts exactly and takes its top value."""
    await ranges.reset(db, "all", [(0, 2**128 - 1)])
    assert await ranges.free_count(db, "all") == 2**128
    assert await ranges.take(db, "all", 2**128 - 1)
    assert await ranges.free_count(db, "all") == 2**128 - 1
    await ranges.give_back(db, "all", 2**128 - 1)
    assert await _rows(db, "all") == [(0, 2**128 - 1)]


async def test_take_many_takes_the_lowest_values_across_ranges_in_order(db):
    """take_many consumes whole ranges and trims the last one; it stops when the pool is empty."""
    await ranges.reset(db, "p", [(10, 12), (20, 29)], taken=[11])
    assert await ranges.take_many(db, "p", 4) == [10, 12, 20, 21]
    assert await ranges.take_lowest(db, "p") == 22
    assert await ranges.take_many(db, "p", 100) == list(range(23, 30))
    assert await ranges.take_many(db, "p", 1) == []
