"""Node uniqueness queries (table `nodes`): synchronous SQL."""

from __future__ import annotations

import sqlite_utils


def id_with_name(db: sqlite_utils.Database, name: str, exclude: str = "") -> str | None:
    """Return the id of another node (not `exclude`) named `name`, or None."""
    row = db.execute(
        "SELECT node_id FROM nodes WHERE node_name = ? AND node_id != ?", [name, exclude]
    ).fetchone()
    return row[0] if row is not None else None


def id_with_address(
    db: sqlite_utils.Database, local_ip: str, server_port: int, exclude: str = ""
) -> str | None:
    """Return the id of another node (not `exclude`) at local_ip:server_port, or None."""
    row = db.execute(
        "SELECT node_id FROM nodes WHERE local_ip = ? AND server_port = ? AND node_id != ?",
        [local_ip, server_port, exclude],
    ).fetchone()
    return row[0] if row is not None else None
