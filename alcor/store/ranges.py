"""Free-range bookkeeping for integer pools (IP addresses, segmentation ids).

A pool is a set of free integers stored as disjoint [first, last] ranges, so taking the
lowest free value, taking a specific one, or giving one back costs one or two indexed
statements whatever the pool size: an IPv6 /64 is one row, never 2^64.
Keys are fixed-width hex text, which sorts like the integers (128 bits fit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlite_utils


def key(value: int) -> str:
    """Return the sortable text key of an integer (0 <= value < 2^128)."""
    return f"{value:032x}"


def _int(text: str) -> int:
    return int(text, 16)


def reset(
    db: sqlite_utils.Database,
    pool: str,
    ranges: Sequence[tuple[int, int]],
    taken: Iterable[int] = (),
) -> None:
    """Make `pool` hold exactly `ranges` minus the values in `taken`."""
    db.execute("DELETE FROM free_ranges WHERE pool = ?", [pool])
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
    db.conn.executemany("INSERT INTO free_ranges (pool, first, last) VALUES (?, ?, ?)", rows)


def drop(db: sqlite_utils.Database, pool: str) -> None:
    """Forget `pool` entirely."""
    db.execute("DELETE FROM free_ranges WHERE pool = ?", [pool])


def take_lowest(db: sqlite_utils.Database, pool: str) -> int | None:
    """Take and return the lowest free value, or None when the pool is exhausted."""
    row = db.execute(
        "SELECT first, last FROM free_ranges WHERE pool = ? ORDER BY first LIMIT 1", [pool]
    ).fetchone()
    if row is None:
        return None
    first, last = row
    _shrink_front(db, pool, first, last)
    return _int(first)


def take_many(db: sqlite_utils.Database, pool: str, count: int) -> list[int]:
    """Take up to `count` lowest free values (fewer when the pool runs out), in order."""
    taken: list[int] = []
    consumed: list[str] = []
    # Each range holds at least one value, so `count` ranges are always enough.
    rows = db.execute(
        "SELECT first, last FROM free_ranges WHERE pool = ? ORDER BY first LIMIT ?", [pool, count]
    ).fetchall()
    for first, last in rows:
        lo, hi = _int(first), _int(last)
        n = min(count - len(taken), hi - lo + 1)
        taken.extend(range(lo, lo + n))
        if lo + n > hi:
            consumed.append(first)
        else:
            db.execute(
                "UPDATE free_ranges SET first = ? WHERE pool = ? AND first = ?",
                [key(lo + n), pool, first],
            )
        if len(taken) >= count:
            break
    db.conn.executemany(
        "DELETE FROM free_ranges WHERE pool = ? AND first = ?",
        [(pool, first) for first in consumed],
    )
    return taken


def take(db: sqlite_utils.Database, pool: str, value: int) -> bool:
    """Take `value` if it is free; return False when it is not in a free range."""
    k = key(value)
    row = _range_at(db, pool, k)
    if row is None:
        return False
    first, last = row
    if first == k:
        _shrink_front(db, pool, first, last)
        return True
    db.execute(
        "UPDATE free_ranges SET last = ? WHERE pool = ? AND first = ?",
        [key(value - 1), pool, first],
    )
    if last != k:
        db.execute(
            "INSERT INTO free_ranges (pool, first, last) VALUES (?, ?, ?)",
            [pool, key(value + 1), last],
        )
    return True


def is_free(db: sqlite_utils.Database, pool: str, value: int) -> bool:
    """Return True when `value` lies in a free range of `pool`."""
    k = key(value)
    row = db.execute(
        "SELECT last FROM free_ranges WHERE pool = ? AND first <= ? ORDER BY first DESC LIMIT 1",
        [pool, k],
    ).fetchone()
    return row is not None and row[0] >= k


def give_back(db: sqlite_utils.Database, pool: str, value: int) -> None:
    """Return `value` to the pool, merging with adjacent free ranges."""
    if is_free(db, pool, value):
        return
    k = key(value)
    before = db.execute(
        "SELECT first, last FROM free_ranges WHERE pool = ? AND first < ? "
        "ORDER BY first DESC LIMIT 1",
        [pool, k],
    ).fetchone()
    after = db.execute(
        "SELECT last FROM free_ranges WHERE pool = ? AND first = ?", [pool, key(value + 1)]
    ).fetchone()
    joins_before = before is not None and _int(before[1]) == value - 1
    if after is not None:
        db.execute("DELETE FROM free_ranges WHERE pool = ? AND first = ?", [pool, key(value + 1)])
    new_last = after[0] if after is not None else k
    if joins_before:
        db.execute(
            "UPDATE free_ranges SET last = ? WHERE pool = ? AND first = ?",
            [new_last, pool, before[0]],
        )
    else:
        db.execute(
            "INSERT INTO free_ranges (pool, first, last) VALUES (?, ?, ?)", [pool, k, new_last]
        )


def free_count(db: sqlite_utils.Database, pool: str) -> int:
    """Return how many values are free (exact, also beyond 2^64)."""
    total = 0
    for first, last in db.execute("SELECT first, last FROM free_ranges WHERE pool = ?", [pool]):
        total += _int(last) - _int(first) + 1
    return total


def _range_at(db: sqlite_utils.Database, pool: str, k: str) -> tuple[str, str] | None:
    """Return the free range (first, last) holding the value of key `k`, or None."""
    row = db.execute(
        "SELECT first, last FROM free_ranges WHERE pool = ? AND first <= ? "
        "ORDER BY first DESC LIMIT 1",
        [pool, k],
    ).fetchone()
    if row is None or row[1] < k:
        return None
    return row[0], row[1]


def _shrink_front(db: sqlite_utils.Database, pool: str, first: str, last: str) -> None:
    if first == last:
        db.execute("DELETE FROM free_ranges WHERE pool = ? AND first = ?", [pool, first])
    else:
        db.execute(
            "UPDATE free_ranges SET first = ? WHERE pool = ? AND first = ?",
            [key(_int(first) + 1), pool, first],
        )


def lowest_free(
    db: sqlite_utils.Database, pool: str, start: int, end: int | None = None
) -> int | None:
    """Return the lowest free value >= `start` (and <= `end`), without taking it."""
    k = key(start)
    if _range_at(db, pool, k) is not None:
        value = start
    else:
        row = db.execute(
            "SELECT first FROM free_ranges WHERE pool = ? AND first > ? ORDER BY first LIMIT 1",
            [pool, k],
        ).fetchone()
        if row is None:
            return None
        value = _int(row[0])
    return value if end is None or value <= end else None


def free_runs(db: sqlite_utils.Database, pool: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Return the free [first, last] runs of `pool` within [lo, hi]."""
    rows = db.execute(
        "SELECT first, last FROM free_ranges WHERE pool = ? AND first <= ? AND last >= ? "
        "ORDER BY first",
        [pool, key(hi), key(lo)],
    ).fetchall()
    return [(max(_int(first), lo), min(_int(last), hi)) for first, last in rows]
