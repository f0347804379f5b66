"""Free-range bookkeeping for integer pools (IP addresses, segmentation ids).

A pool is a set of free integers stored as disjoint [first, last] ranges, so taking the
lowest free value, taking a specific one, or giving one back costs one or two indexed
statements whatever the pool size: an IPv6 /64 is one row, never 2^64.
Keys are fixed-width hex text, which sorts like the integers (128 bits fit).

Every take is a compare-and-swap: the range row changes only if it still is what was read,
else the read is repeated. With one SQLite writer it always holds the first time; with
several processes on PostgreSQL, a concurrent take of the same range waits for the row
lock, finds it changed, and reads again (READ COMMITTED: the next read sees that commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alcor.store.db import RetryRequest, Store


def key(value: int) -> str:
    """Return the sortable text key of an integer (0 <= value < 2^128)."""
    return f"{value:032x}"


def _int(text: str) -> int:
    return int(text, 16)


async def reset(
    db: Store,
    pool: str,
    ranges: Sequence[tuple[int, int]],
    taken: Iterable[int] = (),
) -> None:
    """Make `pool` hold exactly `ranges` minus the values in `taken`."""
    await db.execute("DELETE FROM free_ranges WHERE pool = ?", [pool])
    used = sorted(set(taken))
    rows = []
    for lo, hi in sorted(ranges):
        start = lo
        for value in used:
            if value < start or value > hi:
                continue
            if value > start:
                rows.append((pool, key(start), key(value - 1)))
            start = value + 1
        if start <= hi:
            rows.append((pool, key(start), key(hi)))
    await db.executemany("INSERT INTO free_ranges (pool, first, last) VALUES (?, ?, ?)", rows)


async def drop(db: Store, pool: str) -> None:
    """Forget `pool` entirely."""
    await db.execute("DELETE FROM free_ranges WHERE pool = ?", [pool])


# A take that keeps losing its compare-and-swap to other processes gives up: the request
# is retried from the start (alcor/store/db.py RetryRequest).
MAX_SWAPS = 50


async def take_lowest(db: Store, pool: str) -> int | None:
    """Take and return the lowest free value, or None when the pool is exhausted."""
    for _ in range(MAX_SWAPS):
        row = await db.fetchone(
            "SELECT first, last FROM free_ranges WHERE pool = ? ORDER BY first LIMIT 1", [pool]
        )
        if row is None:
            return None
        first, last = row
        if await _shrink_front(db, pool, first, last):
            return _int(first)
    raise _contended(pool)


async def take_many(db: Store, pool: str, count: int) -> list[int]:
    """Take up to `count` lowest free values (fewer when the pool runs out), in order."""
    taken: list[int] = []
    for _ in range(MAX_SWAPS):
        # Each range holds at least one value, so `count` ranges are always enough.
        rows = await db.fetch(
            "SELECT first, last FROM free_ranges WHERE pool = ? ORDER BY first LIMIT ?",
            [pool, count - len(taken)],
        )
        lost = False
        for first, last in rows:
            lo, hi = _int(first), _int(last)
            n = min(count - len(taken), hi - lo + 1)
            if lo + n > hi:
                sql = "DELETE FROM free_ranges WHERE pool = ? AND first = ? AND last = ?"
                params = [pool, first, last]
            else:
                sql = "UPDATE free_ranges SET first = ? WHERE pool = ? AND first = ? AND last = ?"
                params = [key(lo + n), pool, first, last]
            if not await db.execute(sql, params):
                lost = True  # another process took from this range: read again
                break
            taken.extend(range(lo, lo + n))
            if len(taken) >= count:
                return taken
        if not lost:
            return taken  # every free range is taken: the pool ran out
    raise _contended(pool)


async def take(db: Store, pool: str, value: int) -> bool:
    """Take `value` if it is free; return False when it is not in a free range."""
    k = key(value)
    for _ in range(MAX_SWAPS):
        row = await _range_at(db, pool, k)
        if row is None:
            return False
        first, last = row
        if first == k:
            if await _shrink_front(db, pool, first, last):
                return True
            continue
        if not await db.execute(
            "UPDATE free_ranges SET last = ? WHERE pool = ? AND first = ? AND last = ?",
            [key(value - 1), pool, first, last],
        ):
            continue
        if last != k:
            await db.execute(
                "INSERT INTO free_ranges (pool, first, last) VALUES (?, ?, ?)",
                [pool, key(value + 1), last],
            )
        return True
    raise _contended(pool)


async def is_free(db: Store, pool: str, value: int) -> bool:
    """Return True when `value` lies in a free range of `pool`."""
    k = key(value)
    last = await db.fetchval(
        "SELECT last FROM free_ranges WHERE pool = ? AND first <= ? ORDER BY first DESC LIMIT 1",
        [pool, k],
    )
    return last is not None and last >= k


async def give_back(db: Store, pool: str, value: int) -> None:
    """Return `value` to the pool, merging with adjacent free ranges.

    Callers serialise give-backs of a pool with its takes through the row that recorded
    the value (an allocation row, a segment row) they delete in the same transaction.
    """
    if await is_free(db, pool, value):
        return
    k = key(value)
    before = await db.fetchone(
        "SELECT first, last FROM free_ranges WHERE pool = ? AND first < ? "
        "ORDER BY first DESC LIMIT 1",
        [pool, k],
    )
    after = await db.fetchval(
        "SELECT last FROM free_ranges WHERE pool = ? AND first = ?", [pool, key(value + 1)]
    )
    joins_before = before is not None and _int(before[1]) == value - 1
    if after is not None:
        await db.execute(
            "DELETE FROM free_ranges WHERE pool = ? AND first = ?", [pool, key(value + 1)]
        )
    new_last = after if after is not None else k
    if (
        before is not None
        and joins_before
        and await db.execute(
            "UPDATE free_ranges SET last = ? WHERE pool = ? AND first = ? AND last = ?",
            [new_last, pool, before[0], before[1]],
        )
    ):
        return
    await db.execute(
        "INSERT INTO free_ranges (pool, first, last) VALUES (?, ?, ?)", [pool, k, new_last]
    )


async def free_count(db: Store, pool: str) -> int:
    """Return how many values are free (exact, also beyond 2^64)."""
    total = 0
    for first, last in await db.fetch("SELECT first, last FROM free_ranges WHERE pool = ?", [pool]):
        total += _int(last) - _int(first) + 1
    return total


async def _shrink_front(db: Store, pool: str, first: str, last: str) -> bool:
    """Remove the range's first value if the range is still (first, last)."""
    if first == last:
        sql = "DELETE FROM free_ranges WHERE pool = ? AND first = ? AND last = ?"
        params = [pool, first, last]
    else:
        sql = "UPDATE free_ranges SET first = ? WHERE pool = ? AND first = ? AND last = ?"
        params = [key(_int(first) + 1), pool, first, last]
    return bool(await db.execute(sql, params))


def _contended(pool: str) -> RetryRequest:
    return RetryRequest(f"allocation from pool {pool} kept losing to other processes")


async def _range_at(db: Store, pool: str, k: str) -> tuple[str, str] | None:
    """Return the free range (first, last) holding the value of key `k`, or None."""
    row = await db.fetchone(
        "SELECT first, last FROM free_ranges WHERE pool = ? AND first <= ? "
        "ORDER BY first DESC LIMIT 1",
        [pool, k],
    )
    if row is None or row[1] < k:
        return None
    return row[0], row[1]


async def lowest_free(db: Store, pool: str, start: int, end: int | None = None) -> int | None:
    """Return the lowest free value >= `start` (and <= `end`), without taking it."""
    k = key(start)
    if await _range_at(db, pool, k) is not None:
        value = start
    else:
        first = await db.fetchval(
            "SELECT first FROM free_ranges WHERE pool = ? AND first > ? ORDER BY first LIMIT 1",
            [pool, k],
        )
        if first is None:
            return None
        value = _int(first)
    return value if end is None or value <= end else None


async def free_runs(db: Store, pool: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Return the free [first, last] runs of `pool` within [lo, hi]."""
    rows = await db.fetch(
        "SELECT first, last FROM free_ranges WHERE pool = ? AND first <= ? AND last >= ? "
        "ORDER BY first",
        [pool, key(hi), key(lo)],
    )
    return [(max(_int(first), lo), min(_int(last), hi)) for first, last in rows]
