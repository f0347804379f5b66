"""Trunk queries and the subport table (trunk_subports): synchronous SQL."""

from __future__ import annotations

from typing import Any

from alcor.store import Store


async def count(db: Store) -> int:
    """Return how many trunks exist."""
    return int(await db.fetchval("SELECT COUNT(*) FROM trunks"))


async def subports(db: Store, trunk_id: str) -> list[dict[str, Any]]:
    """Return a trunk's subports in the order they were added."""
    rows = await db.fetch(
        "SELECT port_id, segmentation_type, segmentation_id FROM trunk_subports "
        "WHERE trunk_id = ? ORDER BY seq",
        [trunk_id],
    )
    return [
        {"port_id": p, "segmentation_type": kind, "segmentation_id": seg} for p, kind, seg in rows
    ]


async def insert_subports(db: Store, trunk_id: str, items: list[dict[str, Any]]) -> None:
    """Add subports to a trunk, after every subport added before."""
    first = int(await db.fetchval("SELECT COALESCE(MAX(seq), 0) + 1 FROM trunk_subports"))
    await db.executemany(
        "INSERT INTO trunk_subports (port_id, trunk_id, segmentation_type, "
        "segmentation_id, seq) VALUES (?, ?, ?, ?, ?)",
        [
            (s["port_id"], trunk_id, s["segmentation_type"], s["segmentation_id"], first + i)
            for i, s in enumerate(items)
        ],
    )


async def delete_subport(db: Store, trunk_id: str, port_id: str) -> bool:
    """Remove one subport; return False when the trunk has no such subport."""
    return bool(
        await db.execute(
            "DELETE FROM trunk_subports WHERE trunk_id = ? AND port_id = ?", [trunk_id, port_id]
        )
    )


async def delete_subports(db: Store, trunk_id: str) -> None:
    """Remove every subport of a trunk."""
    await db.execute("DELETE FROM trunk_subports WHERE trunk_id = ?", [trunk_id])


async def trunk_of_parent(db: Store, port_id: str) -> str | None:
    """Return the trunk whose parent is `port_id`, or None."""
    row = await db.fetchone("SELECT id FROM trunks WHERE port_id = ?", [port_id])
    return row[0] if row else None


async def trunk_of_subport(db: Store, port_id: str) -> str | None:
    """Return the trunk that has `port_id` as a subport, or None."""
    row = await db.fetchone("SELECT trunk_id FROM trunk_subports WHERE port_id = ?", [port_id])
    return row[0] if row else None


async def trunks_of_parents(db: Store, port_ids: list[str]) -> list[tuple[str, str]]:
    """Return (trunk id, parent port id) of the trunks whose parents are among `port_ids`."""
    out: list[tuple[str, str]] = []
    for start in range(0, len(port_ids), 500):
        chunk = port_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        out += await db.fetch(f"SELECT id, port_id FROM trunks WHERE port_id IN ({marks})", chunk)
    return out
