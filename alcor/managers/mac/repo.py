"""MAC allocations (table `macs`): synchronous SQL, run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlite_utils


def in_use_on_network(db: sqlite_utils.Database, network_id: str, mac: str) -> bool:
    """Return True when `mac` is allocated on `network_id`."""
    row = db.execute(
        "SELECT 1 FROM macs WHERE network_id = ? AND mac = ?", [network_id, mac]
    ).fetchone()
    return row is not None


def in_use(db: sqlite_utils.Database, mac: str) -> bool:
    """Return True when `mac` is allocated on any network."""
    return db.execute("SELECT 1 FROM macs WHERE mac = ?", [mac]).fetchone() is not None


def taken_of(db: sqlite_utils.Database, candidates: Iterable[str]) -> set[str]:
    """Return the `candidates` already allocated anywhere (checked 500 at a time)."""
    wanted = list(candidates)
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        taken.update(
            row[0] for row in db.execute(f"SELECT mac FROM macs WHERE mac IN ({marks})", chunk)
        )
    return taken


def insert(db: sqlite_utils.Database, network_id: str, mac: str, owner: str) -> None:
    """Record `mac` on `network_id` for `owner`."""
    db.execute(
        "INSERT INTO macs (network_id, mac, owner) VALUES (?, ?, ?)", [network_id, mac, owner]
    )


def insert_many(
    db: sqlite_utils.Database, network_id: str, macs: Sequence[str], owners: Sequence[str]
) -> None:
    """Record `macs[i]` on `network_id` for `owners[i]`."""
    db.conn.executemany(
        "INSERT INTO macs (network_id, mac, owner) VALUES (?, ?, ?)",
        [(network_id, mac, owner) for mac, owner in zip(macs, owners, strict=True)],
    )


def delete(db: sqlite_utils.Database, network_id: str, mac: str, owner: str) -> None:
    """Release `mac` of `owner` on `network_id`."""
    db.execute(
        "DELETE FROM macs WHERE network_id = ? AND mac = ? AND owner = ?",
        [network_id, mac, owner],
    )


def delete_network(db: sqlite_utils.Database, network_id: str) -> None:
    """Release every MAC of `network_id`."""
    db.execute("DELETE FROM macs WHERE network_id = ?", [network_id])
