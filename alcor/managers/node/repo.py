"""Node uniqueness queries (table `nodes`): async SQL (alcor/store/db.py)."""

from __future__ import annotations

from alcor.store import Store


async def id_with_name(db: Store, name: str, exclude: str = "") -> str | None:
    """Return the id of another node (not `exclude`) named `name`, or None."""
    row = await db.fetchone(
        "SELECT node_id FROM nodes WHERE node_name = ? AND node_id != ?", [name, exclude]
    )
    return row[0] if row is not None else None


async def id_with_address(
    db: Store, local_ip: str, server_port: int, exclude: str = ""
) -> str | None:
    """Return the id of another node (not `exclude`) at local_ip:server_port, or None."""
    row = await db.fetchone(
        "SELECT node_id FROM nodes WHERE local_ip = ? AND server_port = ? AND node_id != ?",
        [local_ip, server_port, exclude],
    )
    return row[0] if row is not None else None
