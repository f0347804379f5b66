"""Which network and router were auto-allocated for a project (synchronous SQL)."""

from __future__ import annotations

from alcor.store import Store


async def get(db: Store, project_id: str) -> tuple[str, str] | None:
    """Return (network id, router id) of the project's topology, or None."""
    row = await db.fetchone(
        "SELECT network_id, router_id FROM auto_allocated_topologies WHERE project_id = ?",
        [project_id],
    )
    return (row[0], row[1]) if row else None


async def insert(db: Store, project_id: str, network_id: str, router_id: str) -> None:
    """Record a project's topology."""
    await db.execute(
        "INSERT INTO auto_allocated_topologies (project_id, network_id, router_id) "
        "VALUES (?, ?, ?)",
        [project_id, network_id, router_id],
    )


async def delete(db: Store, project_id: str) -> None:
    """Forget a project's topology."""
    await db.execute("DELETE FROM auto_allocated_topologies WHERE project_id = ?", [project_id])


async def forget_network(db: Store, network_id: str) -> None:
    """Forget the topology whose network was deleted by hand."""
    await db.execute("DELETE FROM auto_allocated_topologies WHERE network_id = ?", [network_id])
