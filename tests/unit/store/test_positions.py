"""Positions: readers waiting for the change record to move."""

from __future__ import annotations

import asyncio

import pytest

from alcor.store.db import Positions


async def test_a_wait_cancelled_as_the_position_moves_ends_cancelled():
    """A stop cancels a reader in the very turn a commit wakes it: the cancellation must
    win (Python 3.11's wait_for returned the result instead, and the reader's task ran on
    until its stop timed out: a 30 s shutdown)."""
    positions = Positions()
    waiting = asyncio.ensure_future(positions.wait(0, timeout=10))
    await asyncio.sleep(0)  # the reader waits
    positions.note(1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_wait_returns_on_a_move_past_it_and_false_on_timeout():
    """True once the position passes `after` (at once if it already has); False on timeout."""
    positions = Positions()
    assert await positions.wait(0, timeout=0.01) is False
    waiting = asyncio.ensure_future(positions.wait(0, timeout=10))
    await asyncio.sleep(0)
    positions.note(2)
    assert await waiting is True
    assert await positions.wait(1, timeout=0) is True
