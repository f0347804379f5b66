"""IPAM tables: a subnet's pools (`ipam_pools`) and its allocations (`ip_allocations`).

Async SQL, run inside the caller's transaction. Addresses are keyed by
`alcor.store.ranges.key(int)`, which sorts IPv4 and IPv6 alike; free addresses live in the
free-range pools of alcor/store/ranges.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from alcor.store import Store, ranges

_INSERT_ALLOCATION = (
    "INSERT INTO ip_allocations (subnet_id, ip_key, ip, port_id, network_id, auto) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


async def set_pools(db: Store, subnet_id: str, bounds: Iterable[tuple[int, int]]) -> None:
    """Replace the subnet's allocation pools with `bounds` (first, last: inclusive)."""
    await db.execute("DELETE FROM ipam_pools WHERE subnet_id = ?", [subnet_id])
    await db.executemany(
        "INSERT INTO ipam_pools (subnet_id, first, last) VALUES (?, ?, ?)",
        [(subnet_id, ranges.key(lo), ranges.key(hi)) for lo, hi in bounds],
    )


async def pool_bounds(db: Store, subnet_id: str) -> list[tuple[int, int]]:
    """Return the subnet's pools as (first, last) integers."""
    return [
        (int(first, 16), int(last, 16))
        for first, last in await db.fetch(
            "SELECT first, last FROM ipam_pools WHERE subnet_id = ?", [subnet_id]
        )
    ]


async def in_pools(db: Store, subnet_id: str, value: int) -> bool:
    """Return True when the address `value` lies in one of the subnet's pools."""
    k = ranges.key(value)
    row = await db.fetchone(
        "SELECT 1 FROM ipam_pools WHERE subnet_id = ? AND first <= ? AND last >= ?",
        [subnet_id, k, k],
    )
    return row is not None


async def allocated_values(db: Store, subnet_id: str) -> list[int]:
    """Return the subnet's allocated addresses as integers."""
    return [
        int(k, 16)
        for (k,) in await db.fetch(
            "SELECT ip_key FROM ip_allocations WHERE subnet_id = ?", [subnet_id]
        )
    ]


async def drop_subnet(db: Store, subnet_id: str) -> None:
    """Forget the subnet's pools and allocations."""
    await db.execute("DELETE FROM ipam_pools WHERE subnet_id = ?", [subnet_id])
    await db.execute("DELETE FROM ip_allocations WHERE subnet_id = ?", [subnet_id])


async def insert_allocation(
    db: Store,
    subnet_id: str,
    value: int,
    ip: str,
    port_id: str,
    network_id: str,
    auto: bool,
) -> None:
    """Record address `ip` (integer `value`) of the subnet as held by `port_id`."""
    await db.execute(
        _INSERT_ALLOCATION,
        [subnet_id, ranges.key(value), ip, port_id, network_id, 1 if auto else 0],
    )


async def insert_allocations(db: Store, rows: Sequence[tuple[Any, ...]]) -> None:
    """Record many allocations: (subnet_id, ip_key, ip, port_id, network_id, auto) rows."""
    await db.executemany(_INSERT_ALLOCATION, rows)


async def holder(db: Store, subnet_id: str, value: int) -> str | None:
    """Return the port holding address `value` in the subnet, or None."""
    row = await db.fetchone(
        "SELECT port_id FROM ip_allocations WHERE subnet_id = ? AND ip_key = ?",
        [subnet_id, ranges.key(value)],
    )
    return row[0] if row is not None else None


async def delete_allocation(db: Store, subnet_id: str, value: int) -> None:
    """Forget the allocation of address `value` in the subnet."""
    await db.execute(
        "DELETE FROM ip_allocations WHERE subnet_id = ? AND ip_key = ?",
        [subnet_id, ranges.key(value)],
    )


async def port_allocations(
    db: Store, port_id: str, subnet_id: str | None = None
) -> list[tuple[str, str]]:
    """Return the port's (subnet_id, ip) allocations (only in `subnet_id`, if given)."""
    sql = "SELECT subnet_id, ip FROM ip_allocations WHERE port_id = ?"
    params = [port_id]
    if subnet_id is not None:
        sql += " AND subnet_id = ?"
        params.append(subnet_id)
    return [(row[0], row[1]) for row in await db.fetch(sql, params)]


async def subnet_allocations(db: Store, subnet_id: str) -> list[tuple[str, str, bool]]:
    """Return the subnet's (port_id, ip, auto) allocations."""
    return [
        (port, ip, bool(auto))
        for port, ip, auto in await db.fetch(
            "SELECT port_id, ip, auto FROM ip_allocations WHERE subnet_id = ?", [subnet_id]
        )
    ]


async def count_allocations(db: Store, subnet_id: str) -> int:
    """Return how many addresses of the subnet are allocated."""
    return int(
        await db.fetchval("SELECT COUNT(*) FROM ip_allocations WHERE subnet_id = ?", [subnet_id])
    )
