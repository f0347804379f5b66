"""Which security group rules use an address group (read here, never written)."""

from __future__ import annotations

from alcor.store import Store


async def used_by_rule(db: Store, group_id: str) -> bool:
    """Return True when a security group rule names the address group."""
    row = await db.fetchone(
        "SELECT 1 FROM security_group_rules WHERE remote_address_group_id = ? LIMIT 1",
        [group_id],
    )
    return row is not None


async def rule_projects(db: Store, group_id: str) -> set[str]:
    """Return the projects whose security groups have rules naming the address group."""
    rows = await db.fetch(
        "SELECT DISTINCT sg_project_id FROM security_group_rules WHERE remote_address_group_id = ?",
        [group_id],
    )
    return {row[0] for row in rows}
