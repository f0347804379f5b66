"""Subnet queries beyond the generic repository: async SQL (alcor/store/db.py)."""

from __future__ import annotations

from alcor.resources.rbac import shared_where_sql
from alcor.resources.repo import Where
from alcor.store import Store

# Params: object type "network", the project.
_ON_SHARED_NETWORK = (
    "(t.network_id IN (SELECT id FROM networks WHERE shared = 1) OR "
    + shared_where_sql("t.network_id")
    + ")"
)


def own_or_on_shared_network(project_id: str) -> Where:
    """Select subnets of `project_id` or on a network shared with all, or with the project
    through an RBAC policy (the member view)."""
    return Where(f"t.project_id = ? OR {_ON_SHARED_NETWORK}", (project_id, "network", project_id))


def on_network_shared(shared: bool) -> Where:
    """Select subnets whose network is (not) shared."""
    return Where("t.network_id IN (SELECT id FROM networks WHERE shared = ?)", (int(shared),))


async def on_network_shared_with(db: Store, subnet_id: str, project_id: str) -> bool:
    """Return True when the subnet's network is shared with all, or with `project_id`."""
    row = await db.fetchone(
        f"SELECT 1 FROM subnets t WHERE t.id = ? AND {_ON_SHARED_NETWORK}",
        [subnet_id, "network", project_id],
    )
    return row is not None


async def projects_of_pool(db: Store, pool_id: str) -> set[str]:
    """Return the projects of the subnets allocated from subnet pool `pool_id`."""
    return {
        row[0]
        for row in await db.fetch(
            "SELECT DISTINCT project_id FROM subnets WHERE subnetpool_id = ?", [pool_id]
        )
    }


async def cidrs_of_pool(db: Store, pool_id: str) -> list[str]:
    """Return the CIDRs of the subnets allocated from subnet pool `pool_id`."""
    return [
        row[0]
        for row in await db.fetch("SELECT cidr FROM subnets WHERE subnetpool_id = ?", [pool_id])
    ]


async def next_seq(db: Store) -> int:
    """Return the creation sequence number of the next subnet (orders a network's subnets)."""
    return int(await db.fetchval("SELECT COALESCE(MAX(seq), 0) + 1 FROM subnets"))


async def has_other_kind(db: Store, network_id: str, without_segment: bool) -> bool:
    """Return True when the network has a subnet on a segment (`without_segment`: the new
    subnet is on none), or one on no segment (the new one is on a segment)."""
    test = "IS NOT NULL" if without_segment else "IS NULL"
    row = await db.fetchone(
        f"SELECT 1 FROM subnets WHERE network_id = ? AND segment_id {test} LIMIT 1", [network_id]
    )
    return row is not None
