"""Subnet pool queries beyond the generic repository: async SQL (alcor/store/db.py)."""

from __future__ import annotations

from alcor.resources.repo import Where
from alcor.store import Store


async def has_default(db: Store, ip_version: int) -> bool:
    """Return True when a default pool of `ip_version` exists."""
    row = await db.fetchone(
        "SELECT 1 FROM subnetpools WHERE is_default = 1 AND ip_version = ?", [ip_version]
    )
    return row is not None


def own_or_shared(project_id: str) -> Where:
    """Select pools of `project_id` or shared ones (the member view)."""
    return Where("t.project_id = ? OR t.shared = 1", (project_id,))


def default_of_version(ip_version: int) -> Where:
    """Select the default pool of `ip_version`."""
    return Where("t.is_default = 1 AND t.ip_version = ?", (ip_version,))


def in_scope(address_scope_id: str) -> Where:
    """Select the pools of an address scope."""
    return Where("t.address_scope_id = ?", (address_scope_id,))
