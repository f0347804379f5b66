"""Security group queries beyond the generic repository: async SQL (alcor/store/db.py)."""

from __future__ import annotations

from alcor.resources import repo
from alcor.resources.repo import Where
from alcor.resources.security_group import SECURITY_GROUP_RULE
from alcor.store import Store


async def default_group_of(db: Store, project_id: str) -> str | None:
    """Return the id of the project's default group, or None."""
    row = await db.fetchone(
        "SELECT id FROM security_groups WHERE project_id = ? AND is_default = 1", [project_id]
    )
    return row[0] if row is not None else None


def own_or_rule_of_own_group(project_id: str) -> Where:
    """Select rules of `project_id` or in one of its groups (the member view)."""
    return Where("t.project_id = ? OR t.sg_project_id = ?", (project_id, project_id))


async def has_ports(db: Store, group_id: str) -> bool:
    """Return True when a port is in the group."""
    row = await db.fetchone(
        "SELECT 1 FROM port_security_groups WHERE security_group_id = ? LIMIT 1", [group_id]
    )
    return row is not None


async def groups_referencing(db: Store, group_id: str) -> list[str]:
    """Return the other groups with a rule whose remote group is `group_id`."""
    groups = await _groups_with_remote(db, "remote_group_id", group_id)
    return [g for g in groups if g != group_id]  # naming itself is not a reference


async def groups_using_address_group(db: Store, address_group_id: str) -> list[str]:
    """Return the groups with a rule whose remote is the address group."""
    return await _groups_with_remote(db, "remote_address_group_id", address_group_id)


async def _groups_with_remote(db: Store, column: str, remote_id: str) -> list[str]:
    sql = f"SELECT DISTINCT security_group_id FROM security_group_rules WHERE {column} = ?"
    return [row[0] for row in await db.fetch(sql, [remote_id])]


async def delete_rules_involving(db: Store, group_id: str) -> None:
    """Delete the group's rules and every rule whose remote group it is (it is deleted)."""
    await repo.delete_where(
        db,
        SECURITY_GROUP_RULE,
        Where("t.security_group_id = ? OR t.remote_group_id = ?", (group_id, group_id)),
    )


async def rule_with_key(db: Store, group_id: str, normalized: str) -> str | None:
    """Return the id of the group's rule with this normalized form, or None."""
    row = await db.fetchone(
        "SELECT id FROM security_group_rules WHERE security_group_id = ? AND normalized = ?",
        [group_id, normalized],
    )
    return row[0] if row is not None else None


async def next_rule_seq(db: Store, group_id: str) -> int:
    """Return the creation sequence number of the group's next rule."""
    return int(
        await db.fetchval(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM security_group_rules "
            "WHERE security_group_id = ?",
            [group_id],
        )
    )


async def projects_of_ports(db: Store, group_id: str) -> set[str]:
    """Return the projects of the ports in the group."""
    return {
        row[0]
        for row in await db.fetch(
            "SELECT DISTINCT p.project_id FROM port_security_groups g JOIN ports p ON "
            "p.id = g.port_id WHERE g.security_group_id = ?",
            [group_id],
        )
    }
