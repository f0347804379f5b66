"""Subnet queries beyond the generic repository: synchronous SQL on the store thread."""

from __future__ import annotations

import sqlite_utils

from alcor.resources.repo import Where


def own_or_on_shared_network(project_id: str) -> Where:
    """Select subnets of `project_id` or on a shared network (the member view)."""
    return Where(
        "t.project_id = ? OR t.network_id IN (SELECT id FROM networks WHERE shared = 1)",
        (project_id,),
    )


def on_network_shared(shared: bool) -> Where:
    """Select subnets whose network is (not) shared."""
    return Where("t.network_id IN (SELECT id FROM networks WHERE shared = ?)", (int(shared),))


def network_is_shared(db: sqlite_utils.Database, network_id: str) -> bool:
    """Return True when the network is shared."""
    row = db.execute("SELECT 1 FROM networks WHERE id = ? AND shared = 1", [network_id]).fetchone()
    return row is not None


def cidrs_of_pool(db: sqlite_utils.Database, pool_id: str) -> list[str]:
    """Return the CIDRs of the subnets allocated from subnet pool `pool_id`."""
    return [
        row[0] for row in db.execute("SELECT cidr FROM subnets WHERE subnetpool_id = ?", [pool_id])
    ]


def next_seq(db: sqlite_utils.Database) -> int:
    """Return the creation sequence number of the next subnet (orders a network's subnets)."""
    return int(db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM subnets").fetchone()[0])
