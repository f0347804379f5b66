"""Network queries and the segments networks hold (table `segments`): async SQL (alcor/store/db.py).

`kind` is the id space (segment:tunnel, segment:vlan:<physnet>, segment:flat:<physnet>);
the free ids of each space are free-range pools of alcor/store/ranges.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from alcor.resources import repo
from alcor.resources.network import NETWORK
from alcor.resources.repo import Where
from alcor.store import Store
from alcor.store.db import marks


def with_subnets(subnet_ids: Sequence[str]) -> Where:
    """Select the networks of the subnets (the `subnets` list filter)."""
    return Where(
        f"t.id IN (SELECT network_id FROM subnets WHERE id IN ({marks(subnet_ids)}))",
        tuple(subnet_ids),
    )


repo.register_list_filter(NETWORK, "subnets", with_subnets)


def own_shared_or_external(project_id: str) -> Where:
    """Select networks of `project_id`, shared ones and external ones (the member view)."""
    return Where("t.project_id = ? OR t.shared = 1 OR t.router_external = 1", (project_id,))


async def clear_segment_pools(db: Store) -> None:
    """Drop the free ranges of every segment id space (they are rebuilt from config)."""
    await db.execute("DELETE FROM free_ranges WHERE pool LIKE 'segment:%'")


async def taken(db: Store, kind: str) -> list[int]:
    """Return the ids of `kind` that networks hold."""
    return [row[0] for row in await db.fetch("SELECT seg_id FROM segments WHERE kind = ?", [kind])]


async def in_use(db: Store, kind: str, seg_id: int | None = None) -> bool:
    """Return True when a network holds `seg_id` of `kind` (any id, when None)."""
    if seg_id is None:
        row = await db.fetchone("SELECT 1 FROM segments WHERE kind = ?", [kind])
    else:
        row = await db.fetchone(
            "SELECT 1 FROM segments WHERE kind = ? AND seg_id = ?", [kind, seg_id]
        )
    return row is not None


async def insert(db: Store, kind: str, seg_id: int, network_id: str) -> None:
    """Record that `network_id` holds `seg_id` of `kind`."""
    await db.execute(
        "INSERT INTO segments (kind, seg_id, network_id) VALUES (?, ?, ?)",
        [kind, seg_id, network_id],
    )


async def delete_of_network(db: Store, network_id: str) -> list[tuple[str, int]]:
    """Forget the network's segments; return them as (kind, seg_id)."""
    rows = await db.fetch("SELECT kind, seg_id FROM segments WHERE network_id = ?", [network_id])
    await db.execute("DELETE FROM segments WHERE network_id = ?", [network_id])
    return [(kind, seg_id) for kind, seg_id in rows]
