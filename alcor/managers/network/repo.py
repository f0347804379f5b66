"""Network queries and the segments networks hold (table `segments`): synchronous SQL.

`kind` is the id space (segment:tunnel, segment:vlan:<physnet>, segment:flat:<physnet>);
the free ids of each space are free-range pools of alcor/store/ranges.py.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from alcor.resources.rbac import any_access_sql
from alcor.resources.repo import Where


def own_shared_or_external(project_id: str) -> Where:
    """Select networks of `project_id`, those shared with all, and those an RBAC policy
    shares with the project or makes external for it (the member view)."""
    return Where(
        f"t.project_id = ? OR t.shared = 1 OR {any_access_sql()}",
        (project_id, "network", project_id),
    )


def clear_segment_pools(db: sqlite_utils.Database) -> None:
    """Drop the free ranges of every segment id space (they are rebuilt from config)."""
    db.execute("DELETE FROM free_ranges WHERE pool LIKE 'segment:%'")


def taken(db: sqlite_utils.Database, kind: str) -> list[int]:
    """Return the ids of `kind` that networks hold."""
    return [row[0] for row in db.execute("SELECT seg_id FROM segments WHERE kind = ?", [kind])]


def in_use(db: sqlite_utils.Database, kind: str, seg_id: int | None = None) -> bool:
    """Return True when a network holds `seg_id` of `kind` (any id, when None)."""
    if seg_id is None:
        row = db.execute("SELECT 1 FROM segments WHERE kind = ?", [kind]).fetchone()
    else:
        row = db.execute(
            "SELECT 1 FROM segments WHERE kind = ? AND seg_id = ?", [kind, seg_id]
        ).fetchone()
    return row is not None


def insert(db: sqlite_utils.Database, kind: str, seg_id: int, network_id: str) -> None:
    """Record that `network_id` holds `seg_id` of `kind`."""
    db.execute(
        "INSERT INTO segments (kind, seg_id, network_id) VALUES (?, ?, ?)",
        [kind, seg_id, network_id],
    )


def delete_holding(db: sqlite_utils.Database, kind: str, seg_id: int) -> None:
    """Forget that a network holds `seg_id` of `kind`."""
    db.execute("DELETE FROM segments WHERE kind = ? AND seg_id = ?", [kind, seg_id])


def delete_of_network(db: sqlite_utils.Database, network_id: str) -> list[tuple[str, int]]:
    """Forget the network's segments; return them as (kind, seg_id)."""
    rows = db.execute(
        "SELECT kind, seg_id FROM segments WHERE network_id = ?", [network_id]
    ).fetchall()
    db.execute("DELETE FROM segments WHERE network_id = ?", [network_id])
    return [(kind, seg_id) for kind, seg_id in rows]


def holders_in(db: sqlite_utils.Database, kind: str, lo: int, hi: int) -> list[tuple[int, str]]:
    """Return (segmentation id, network project) of the ids of `kind` in [lo, hi] networks
    hold."""
    rows = db.execute(
        "SELECT s.seg_id, n.project_id FROM segments s JOIN networks n ON n.id = s.network_id "
        "WHERE s.kind = ? AND s.seg_id BETWEEN ? AND ? ORDER BY s.seg_id",
        [kind, lo, hi],
    ).fetchall()
    return [(seg_id, project) for seg_id, project in rows]


def default_external(db: sqlite_utils.Database) -> str | None:
    """Return the id of the default external network (the oldest, if several), or None."""
    row = db.execute(
        "SELECT id FROM networks WHERE is_default = 1 AND router_external = 1 "
        "ORDER BY created_at LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def without_segments(
    db: sqlite_utils.Database, network_id: str | None = None
) -> list[dict[str, Any]]:
    """Return the networks (raw rows: id, provider columns, created_at) that have no
    segment row, or just `network_id` if it has none."""
    sql = (
        "SELECT id, provider_network_type, provider_physical_network, "
        "provider_segmentation_id, created_at FROM networks n WHERE NOT EXISTS "
        "(SELECT 1 FROM network_segments s WHERE s.network_id = n.id)"
    )
    params: list[str] = []
    if network_id is not None:
        sql += " AND n.id = ?"
        params.append(network_id)
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
