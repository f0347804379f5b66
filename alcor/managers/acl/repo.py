"""Network ACL queries beyond the generic repository: synchronous SQL."""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from alcor.resources import repo
from alcor.resources.network_acl import NETWORK_ACL_RULE
from alcor.resources.repo import Where


def acl_guarding(db: sqlite_utils.Database, subnet_id: str, other_than: str) -> str | None:
    """Return the id of an ACL (not `other_than`) associated with `subnet_id`, or None."""
    row = db.execute(
        "SELECT a.id FROM network_acls a, json_each(a.associated_subnets) s "
        "WHERE s.value = ? AND a.id != ?",
        [subnet_id, other_than],
    ).fetchone()
    return row[0] if row is not None else None


def associated_with(subnet_id: str) -> Where:
    """Select the ACLs associated with `subnet_id`."""
    return Where(
        "EXISTS (SELECT 1 FROM json_each(t.associated_subnets) WHERE value = ?)", (subnet_id,)
    )


def delete_rules_of(db: sqlite_utils.Database, acl_id: str) -> None:
    """Delete every rule of the ACL (it is being deleted)."""
    repo.delete_where(db, NETWORK_ACL_RULE, Where("t.network_acl_id = ?", (acl_id,)))


def rule_with_number(
    db: sqlite_utils.Database, acl_id: str, number: int, other_than: str | None
) -> str | None:
    """Return the id of the ACL's rule (not `other_than`) numbered `number`, or None."""
    row = db.execute(
        "SELECT id FROM network_acl_rules WHERE network_acl_id = ? AND number = ? AND id IS NOT ?",
        [acl_id, number, other_than],
    ).fetchone()
    return row[0] if row is not None else None


def duplicate_number(
    db: sqlite_utils.Database, acl_ids: Sequence[str], below: int
) -> tuple[str, int] | None:
    """Return an (acl_id, number) two rules of these ACLs share under `below`, or None."""
    marks = ", ".join("?" for _ in acl_ids)
    row = db.execute(
        f"SELECT network_acl_id, number FROM network_acl_rules WHERE network_acl_id IN ({marks}) "
        "AND number < ? GROUP BY network_acl_id, number HAVING COUNT(*) > 1",
        [*acl_ids, below],
    ).fetchone()
    return (row[0], row[1]) if row is not None else None
