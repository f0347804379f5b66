"""A value read from the store, kept in memory while this process is the only writer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from alcor.store.db import Store

T = TypeVar("T")


class OneWriterCache(Generic[T]):
    """Keep what `load` returns until `clear` (call it when the rows change).

    Only on SQLite, whose one writer is this process: with several processes on PostgreSQL
    another one may change the rows, so every `get` reads them again.
    """

    def __init__(self, store: Store, load: Callable[[], Awaitable[T]]) -> None:
        self._keep = store.dialect == "sqlite"
        self._load = load
        self._value: T | None = None

    async def get(self) -> T:
        """Return the kept value, or load it (and keep it with one writer)."""
        if self._value is not None:
            return self._value
        value = await self._load()
        if self._keep:
            self._value = value
        return value

    def clear(self) -> None:
        """Forget the kept value: the next `get` loads it again."""
        self._value = None
