"""Floating IP queries beyond the generic repository: async SQL (alcor/store/db.py)."""

from __future__ import annotations

from alcor.store import Store


async def other_on_fixed_ip(
    db: Store, port_id: str, fixed_ip: str, network_id: str, fip_id: str
) -> str | None:
    """Return another floating IP of `network_id` already on the port's `fixed_ip`, or None."""
    row = await db.fetchone(
        "SELECT id FROM floatingips WHERE port_id = ? AND fixed_ip_address = ? AND "
        "floating_network_id = ? AND id != ?",
        [port_id, fixed_ip, network_id, fip_id],
    )
    return row[0] if row is not None else None
