"""MAC allocations (table `macs`): async SQL, run inside the caller's transaction.

A generated (`auto`) MAC is unique everywhere by a partial unique index, so two processes
that draw the same random MAC cannot both insert it (the loser's request is retried); a
given MAC is unique per network only (the primary key).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alcor.store import Store


async def in_use_on_network(db: Store, network_id: str, mac: str) -> bool:
    """Return True when `mac` is allocated on `network_id`."""
    row = await db.fetchone(
        "SELECT 1 FROM macs WHERE network_id = ? AND mac = ?", [network_id, mac]
    )
    return row is not None


async def in_use(db: Store, mac: str) -> bool:
    """Return True when `mac` is allocated on any network."""
    return await db.fetchone("SELECT 1 FROM macs WHERE mac = ?", [mac]) is not None


async def taken_of(db: Store, candidates: Iterable[str]) -> set[str]:
    """Return the `candidates` already allocated anywhere (checked 500 at a time)."""
    wanted = list(candidates)
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        taken.update(
            row[0] for row in await db.fetch(f"SELECT mac FROM macs WHERE mac IN ({marks})", chunk)
        )
    return taken


async def insert(db: Store, network_id: str, mac: str, owner: str, auto: bool) -> None:
    """Record `mac` (generated when `auto`) on `network_id` for `owner`."""
    await db.execute(
        'INSERT INTO macs (network_id, mac, owner, "auto") VALUES (?, ?, ?, ?)',
        [network_id, mac, owner, 1 if auto else 0],
    )


async def insert_many(
    db: Store, network_id: str, macs: Sequence[str], owners: Sequence[str]
) -> None:
    """Record the generated `macs[i]` on `network_id` for `owners[i]`."""
    await db.executemany(
        'INSERT INTO macs (network_id, mac, owner, "auto") VALUES (?, ?, ?, 1)',
        [(network_id, mac, owner) for mac, owner in zip(macs, owners, strict=True)],
    )


async def delete(db: Store, network_id: str, mac: str, owner: str) -> None:
    """Release `mac` of `owner` on `network_id`."""
    await db.execute(
        "DELETE FROM macs WHERE network_id = ? AND mac = ? AND owner = ?",
        [network_id, mac, owner],
    )


async def delete_network(db: Store, network_id: str) -> None:
    """Release every MAC of `network_id`."""
    await db.execute("DELETE FROM macs WHERE network_id = ?", [network_id])
