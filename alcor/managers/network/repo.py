"""Network queries and the segments networks hold (table `segments`): async SQL (alcor/store/db.py).

`kind` is the id space (segment:tunnel, segment:vlan:<physnet>, segment:flat:<physnet>);
the free ids of each space are free-range pools of alcor/store/ranges.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alcor.resources import repo
from alcor.resources.network import NETWORK
from alcor.resources.rbac import any_access_sql
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
    """Select networks of `project_id`, those shared with all, and those an RBAC policy
    shares with the project or makes external for it (the member view)."""
    return Where(
        f"t.project_id = ? OR t.shared = 1 OR {any_access_sql()}",
        (project_id, "network", project_id),
    )


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


async def delete_holding(db: Store, kind: str, seg_id: int) -> None:
    """Forget that a network holds `seg_id` of `kind`."""
    await db.execute("DELETE FROM segments WHERE kind = ? AND seg_id = ?", [kind, seg_id])


async def delete_of_network(db: Store, network_id: str) -> list[tuple[str, int]]:
    """Forget the network's segments; return them as (kind, seg_id)."""
    rows = await db.fetch("SELECT kind, seg_id FROM segments WHERE network_id = ?", [network_id])
    await db.execute("DELETE FROM segments WHERE network_id = ?", [network_id])
    return [(kind, seg_id) for kind, seg_id in rows]


async def holders_in(db: Store, kind: str, lo: int, hi: int) -> list[tuple[int, str]]:
    """Return (segmentation id, network project) of the ids of `kind` in [lo, hi] networks
    hold."""
    rows = await db.fetch(
        "SELECT s.seg_id, n.project_id FROM segments s JOIN networks n ON n.id = s.network_id "
        "WHERE s.kind = ? AND s.seg_id BETWEEN ? AND ? ORDER BY s.seg_id",
        [kind, lo, hi],
    )
    return [(seg_id, project) for seg_id, project in rows]


async def default_external(db: Store) -> str | None:
    """Return the id of the default external network (the oldest, if several), or None."""
    row = await db.fetchone(
        "SELECT id FROM networks WHERE is_default = 1 AND router_external = 1 "
        "ORDER BY created_at LIMIT 1"
    )
    return row[0] if row else None


async def without_segments(db: Store, network_id: str | None = None) -> list[dict[str, Any]]:
    """Return the networks (raw rows: id, provider columns, created_at) that have no
    segment row, or just `network_id` if it has none."""
    names = (
        "id",
        "provider_network_type",
        "provider_physical_network",
        "provider_segmentation_id",
        "created_at",
    )
    sql = (
        f"SELECT {', '.join(names)} FROM networks n WHERE NOT EXISTS "
        "(SELECT 1 FROM network_segments s WHERE s.network_id = n.id)"
    )
    params: list[str] = []
    if network_id is not None:
        sql += " AND n.id = ?"
        params.append(network_id)
    return [dict(zip(names, row, strict=True)) for row in await db.fetch(sql, params)]
