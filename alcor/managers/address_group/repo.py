"""Which security group rules use an address group (read here, never written)."""

from __future__ import annotations

import sqlite_utils


def used_by_rule(db: sqlite_utils.Database, group_id: str) -> bool:
    """Return True when a security group rule names the address group."""
    row = db.execute(
        "SELECT 1 FROM security_group_rules WHERE remote_address_group_id = ? LIMIT 1",
        [group_id],
    ).fetchone()
    return row is not None


def rule_projects(db: sqlite_utils.Database, group_id: str) -> set[str]:
    """Return the projects whose security groups have rules naming the address group."""
    rows = db.execute(
        "SELECT DISTINCT sg_project_id FROM security_group_rules WHERE remote_address_group_id = ?",
        [group_id],
    )
    return {row[0] for row in rows}
