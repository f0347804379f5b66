"""Port forwarding queries beyond the generic repository: synchronous SQL."""

from __future__ import annotations

import sqlite_utils


def floating_ip_of_port(db: sqlite_utils.Database, port_id: str) -> str | None:
    """Return a floating IP associated with the port, or None (floating IPs are only read)."""
    row = db.execute("SELECT id FROM floatingips WHERE port_id = ? LIMIT 1", [port_id]).fetchone()
    return row[0] if row else None
