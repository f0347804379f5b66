"""Which network and router were auto-allocated for a project (synchronous SQL)."""

from __future__ import annotations

import sqlite_utils


def get(db: sqlite_utils.Database, project_id: str) -> tuple[str, str] | None:
    """Return (network id, router id) of the project's topology, or None."""
    row = db.execute(
        "SELECT network_id, router_id FROM auto_allocated_topologies WHERE project_id = ?",
        [project_id],
    ).fetchone()
    return (row[0], row[1]) if row else None


def insert(db: sqlite_utils.Database, project_id: str, network_id: str, router_id: str) -> None:
    """Record a project's topology."""
    db.execute(
        "INSERT INTO auto_allocated_topologies (project_id, network_id, router_id) "
        "VALUES (?, ?, ?)",
        [project_id, network_id, router_id],
    )


def delete(db: sqlite_utils.Database, project_id: str) -> None:
    """Forget a project's topology."""
    db.execute("DELETE FROM auto_allocated_topologies WHERE project_id = ?", [project_id])


def forget_network(db: sqlite_utils.Database, network_id: str) -> None:
    """Forget the topology whose network was deleted by hand."""
    db.execute("DELETE FROM auto_allocated_topologies WHERE network_id = ?", [network_id])
