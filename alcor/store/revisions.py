"""The revision rule: a resource's first revision is 1, and every change is the last + 1.

A delete is a change too: its tombstone (and its change-record row) carries last + 1, and an
id created again starts above its tombstone, so agents can refuse stale updates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alcor.store.db import Store

FIRST_REVISION = 1


def next_revision(obj: Mapping[str, Any], field: str = "revision_number") -> int:
    """Return the revision that follows `obj[field]` (a missing or null one counts as 0)."""
    return int(obj.get(field) or 0) + 1


async def first_revision(db: Store, kind: str, obj_id: str) -> int:
    """Return the revision a (re-)created id starts at: 1, or the one after its tombstone."""
    last = await tombstone_of(db, kind, obj_id)
    if last is None:
        return FIRST_REVISION
    return next_revision({"revision": last}, "revision")


async def tombstone_of(db: Store, kind: str, obj_id: str) -> int | None:
    """Return the revision stored in the tombstone of a deleted (kind, id), or None."""
    value = await db.fetchval(
        "SELECT revision FROM tombstones WHERE kind = ? AND id = ?", [kind, obj_id]
    )
    return int(value) if value is not None else None


async def tombstone(
    db: Store,
    kind: str,
    obj: Mapping[str, Any],
    field: str = "revision_number",
) -> None:
    """Remember the deleted `obj`'s last revision + 1 (of `field`) under (kind, id)."""
    await db.execute(
        "INSERT INTO tombstones (kind, id, revision) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, id) DO UPDATE SET revision = excluded.revision",
        [kind, obj["id"], next_revision(obj, field)],
    )
