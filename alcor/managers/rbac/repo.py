"""RBAC policy queries beyond the generic repository: synchronous SQL."""

from __future__ import annotations

from alcor.store import Store


async def other_targets(
    db: Store, object_type: str, object_id: str, action: str, policy_id: str
) -> set[str]:
    """Return the targets of the object's other policies of `action`."""
    rows = await db.fetch(
        "SELECT target_tenant FROM rbac_policies WHERE object_type = ? AND object_id = ? "
        "AND action = ? AND id != ?",
        [object_type, object_id, action, policy_id],
    )
    return {row[0] for row in rows}


async def find(db: Store, object_type: str, object_id: str, action: str, target: str) -> str | None:
    """Return the id of the policy of `action` on the object for `target`, or None."""
    row = await db.fetchone(
        "SELECT id FROM rbac_policies WHERE object_type = ? AND object_id = ? AND "
        "action = ? AND target_tenant = ?",
        [object_type, object_id, action, target],
    )
    return row[0] if row else None
