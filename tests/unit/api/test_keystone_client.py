"""Helpers of the Keystone client: timestamps and token fingerprints."""

from __future__ import annotations

import hashlib

import pytest

from alcor.api.auth.keystone_client import fingerprint, parse_time


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T10:33:00.000000Z",
        "2024-05-01T10:33:00Z",
        "2024-05-01T10:33:00+00:00",
        "2024-05-01T10:33:00.000000",
    ],
)
def test_keystone_timestamps_are_utc(text: str) -> None:
    """Keystone's expires_at, with or without a zone, is read as UTC."""
    assert parse_time(text) == 1714559580.0


@pytest.mark.parametrize("value", [None, 42, "", "tomorrow"])
def test_unreadable_timestamp_is_none(value: object) -> None:
    """Anything that is not an ISO 8601 string gives None, not an exception."""
    assert parse_time(value) is None


def test_fingerprint_is_sha256_hex() -> None:
    """The fingerprint is the full sha256; logs show only its first 8 characters."""
    assert fingerprint("abc") == hashlib.sha256(b"abc").hexdigest()
