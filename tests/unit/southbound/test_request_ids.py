"""Goal-state request ids: uuid-shaped and never repeated."""

from __future__ import annotations

import uuid

from alcor.southbound.sender import next_request_id


def test_request_ids_are_distinct_uuid_strings():
    """Ten thousand ids parse as UUIDs and are all different."""
    ids = [next_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i for i in ids[:100])
