"""The revision rule: first 1, each change last + 1, tombstones last + 1, re-creation above."""

from __future__ import annotations

from alcor.store.revisions import FIRST_REVISION, first_revision, next_revision, tombstone


def test_next_revision_is_last_plus_one_of_the_named_field() -> None:
    """The default field is revision_number; ports also count neighbor_revision."""
    port = {"revision_number": 4, "neighbor_revision": 9}
    assert next_revision(port) == 5
    assert next_revision(port, "neighbor_revision") == 10


def test_next_revision_of_a_missing_or_null_revision_is_the_first() -> None:
    """A record without a revision (or a null one) is followed by revision 1."""
    assert next_revision({}) == FIRST_REVISION
    assert next_revision({"revision_number": None}) == FIRST_REVISION


async def test_a_new_id_starts_at_the_first_revision(memory_db) -> None:
    """No tombstone: revision 1."""
    assert await first_revision(memory_db, "port", "p1") == FIRST_REVISION


async def test_tombstone_holds_last_plus_one_and_recreation_starts_above_it(memory_db) -> None:
    """Deleting at revision 7 leaves tombstone 8; the same id created again starts at 9."""
    db = memory_db
    await tombstone(db, "port", {"id": "p1", "revision_number": 7, "neighbor_revision": 3})
    await tombstone(db, "neighbor", {"id": "p1", "neighbor_revision": 3}, "neighbor_revision")
    stored = dict(await db.fetch("SELECT kind, revision FROM tombstones WHERE id = 'p1'"))
    assert stored == {"port": 8, "neighbor": 4}
    assert await first_revision(db, "port", "p1") == 9
    assert await first_revision(db, "router", "p1") == FIRST_REVISION
