"""Subnet queries beyond the generic repository: async SQL (alcor/store/db.py)."""

from __future__ import annotations

from alcor.resources.repo import Where
from alcor.store import Store


def own_or_on_shared_network(project_id: str) -> Where:
    """Select subnets of `project_id` or on a shared network (the member view)."""
    return Where(
        "t.project_id = ? OR t.network_id IN (SELECT id FROM networks WHERE shared = 1)",
        (project_id,),
    )


def on_network_shared(shared: bool) -> Where:
    """Select subnets whose network is (not) shared."""
    return Where("t.network_id IN (SELECT id FROM networks WHERE shared = ?)", (int(shared),))


async def network_is_shared(db: Store, network_id: str) -> bool:
    """Return True when the network is shared."""
    row = await db.fetchone("SELECT 1 FROM networks WHERE id = ? AND shared = 1", [network_id])
    return row is not None


async def cidrs_of_pool(db: Store, pool_id: str) -> list[str]:
    """Return the CIDRs of the subnets allocated from subnet pool `pool_id`."""
    return [
        row[0]
        for row in await db.fetch("SELECT cidr FROM subnets WHERE subnetpool_id = ?", [pool_id])
    ]


async def next_seq(db: Store) -> int:
    """Return the creation sequence number of the next subnet (orders a network's subnets)."""
    return int(await db.fetchval("SELECT COALESCE(MAX(seq), 0) + 1 FROM subnets"))
