"""A real bus and a real store (SQLite file in tmp_path, full schema) for manager unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from alcor.bus import Bus
from alcor.config import StoreConfig
from alcor.store import Store, open_store
from alcor.store.schema import MIGRATIONS


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    """A started store with the real schema."""
    s = open_store(StoreConfig(path=str(tmp_path / "unit.db")), MIGRATIONS)
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
def bus() -> Bus:
    """A bus with nothing registered."""
    return Bus()
