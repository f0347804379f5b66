"""Server-generated ids are RFC 4122 version-4 UUIDs in canonical form, never repeated."""

from __future__ import annotations

import uuid

from alcor.managers.common import new_id, random_bytes


def test_new_ids_are_canonical_version_4_uuids_and_unique():
    """10,000 ids: each parses as UUID4 (RFC 4122 variant), lower-case dashed, none twice."""
    ids = [new_id() for _ in range(10_000)]
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value
    assert len(set(ids)) == len(ids)


def test_random_bytes_come_in_the_asked_length_across_refills():
    """3 bytes at a time past several 4 KiB refills: right length, no run of repeats."""
    draws = [random_bytes(3) for _ in range(5_000)]  # 15,000 bytes: four refills
    assert all(len(d) == 3 for d in draws)
    assert len(set(draws)) > 4_990  # 24 random bits: a handful of meetings at most
    assert len(random_bytes(16)) == 16
