"""Network ACL queries beyond the generic repository: async SQL (alcor/store/db.py)."""

from __future__ import annotations

from collections.abc import Sequence

from alcor.resources import repo
from alcor.resources.network_acl import NETWORK_ACL_RULE
from alcor.resources.repo import Where
from alcor.store import Store


async def acl_guarding(db: Store, subnet_id: str, other_than: str) -> str | None:
    """Return the id of an ACL (not `other_than`) associated with `subnet_id`, or None."""
    row = await db.fetchone(
        "SELECT id FROM list_values WHERE tbl = 'network_acls' AND attr = 'associated_subnets' "
        "AND value = ? AND id != ?",
        [subnet_id, other_than],
    )
    return row[0] if row is not None else None


def associated_with(subnet_id: str) -> Where:
    """Select the ACLs associated with `subnet_id`."""
    return Where(
        "t.id IN (SELECT id FROM list_values WHERE tbl = 'network_acls' "
        "AND attr = 'associated_subnets' AND value = ?)",
        (subnet_id,),
    )


async def delete_rules_of(db: Store, acl_id: str) -> None:
    """Delete every rule of the ACL (it is being deleted)."""
    await repo.delete_where(db, NETWORK_ACL_RULE, Where("t.network_acl_id = ?", (acl_id,)))


async def rule_with_number(
    db: Store, acl_id: str, number: int, other_than: str | None
) -> str | None:
    """Return the id of the ACL's rule (not `other_than`) numbered `number`, or None."""
    row = await db.fetchone(
        "SELECT id FROM network_acl_rules WHERE network_acl_id = ? AND number = ? AND id IS DISTINCT FROM ?",
        [acl_id, number, other_than],
    )
    return row[0] if row is not None else None


async def duplicate_number(db: Store, acl_ids: Sequence[str], below: int) -> tuple[str, int] | None:
    """Return an (acl_id, number) two rules of these ACLs share under `below`, or None."""
    marks = ", ".join("?" for _ in acl_ids)
    row = await db.fetchone(
        f"SELECT network_acl_id, number FROM network_acl_rules WHERE network_acl_id IN ({marks}) "
        "AND number < ? GROUP BY network_acl_id, number HAVING COUNT(*) > 1",
        [*acl_ids, below],
    )
    return (row[0], row[1]) if row is not None else None
