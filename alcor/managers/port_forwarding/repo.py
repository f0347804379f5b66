"""Port forwarding queries beyond the generic repository: synchronous SQL."""

from __future__ import annotations

from alcor.store import Store


async def floating_ip_of_port(db: Store, port_id: str) -> str | None:
    """Return a floating IP associated with the port, or None (floating IPs are only read)."""
    row = await db.fetchone("SELECT id FROM floatingips WHERE port_id = ? LIMIT 1", [port_id])
    return row[0] if row else None
