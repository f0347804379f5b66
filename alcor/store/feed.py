"""Follow the change record in commit order windows, so that a late commit is never skipped.

A position is an integer a reader can persist (host cursors, durable consumers):

* SQLite: the seq of the last change read. One writer commits in seq order, so every
  change after a position has a larger seq.
* PostgreSQL: an xid boundary: every change whose transaction id is below it has been
  read. A sequence value is taken before commit, so a change with a smaller seq may
  become visible after one with a larger seq; but every transaction below the snapshot's
  xmin has ended, so the changes with xid in [position, xmin) are complete and final.
  A reader takes that window whole (paged by seq), then moves its position to xmin.
  Within a window changes come in seq order, which for any one resource is the order its
  writes committed (its row is locked before its change row takes a seq).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alcor.store.changes import Change, decode
from alcor.store.db import Store, marks

_COLUMNS = "seq, resource, id, revision, type, project_id, object, at"


def columns(db: Store) -> str:
    """Return the columns `changes.decode` reads, with the xid on PostgreSQL."""
    return _COLUMNS if db.dialect == "sqlite" else _COLUMNS + ", xid"


def is_after(db: Store, change: Change, after: int) -> bool:
    """Tell whether `change` lies beyond position `after`."""
    return change.seq > after if db.dialect == "sqlite" else change.xid >= after


async def position(db: Store) -> int:
    """Return the newest position: nothing committed so far lies beyond it."""
    if db.dialect == "sqlite":
        row = await db.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
        return int(row[0]) if row else 0
    return int(await db.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))


async def horizon(db: Store) -> int:
    """Return the position a reader must reach to have read everything committed so far
    (PostgreSQL: past every transaction id given out, even those still running)."""
    if db.dialect == "sqlite":
        return await position(db)
    return int(await db.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"))


class Reader:
    """Read the changes after a position, window by window, page by page."""

    def __init__(
        self,
        db: Store,
        after: int,
        resources: Iterable[str] | None = None,
        page: int = 1000,
        window: tuple[int, int] | None = None,
    ) -> None:
        self._db = db
        self._position = after
        self._resources = sorted(set(resources)) if resources is not None else None
        self._page = page
        # PostgreSQL: the xmin the open window ends at, and the last seq read inside it
        # (`window` resumes a reader inside a window, see `cursor`).
        self._window_end: int | None = window[0] if window else None
        self._last_seq = window[1] if window else 0
        self._opened_at = after

    @property
    def position(self) -> int:
        """Return the position through which every change has been read (persistable)."""
        return self._position

    def cursor(self, change: Change | None = None) -> str:
        """Return a string that resumes a reader right after `change` (of the page just
        read; None: after everything read): `seq` on SQLite, `position[.end.seq]` on
        PostgreSQL (the window's bounds while a window is open)."""
        if self._db.dialect == "sqlite":
            return str(change.seq if change is not None else self._position)
        if change is None:
            return str(self._position)
        end = self._window_end if self._window_end is not None else self._position
        return f"{self._opened_at}.{end}.{change.seq}"

    @staticmethod
    def parse_cursor(raw: str) -> tuple[int, tuple[int, int] | None] | None:
        """Return (position, window) of a cursor string, or None when it is not one."""
        parts = raw.split(".")
        if len(parts) not in (1, 3) or not all(p.isascii() and p.isdigit() for p in parts):
            return None
        if any(len(p) > 19 for p in parts):
            return None
        numbers = [int(p) for p in parts]
        return (numbers[0], (numbers[1], numbers[2])) if len(numbers) == 3 else (numbers[0], None)

    @property
    def in_window(self) -> bool:
        """Tell whether a PostgreSQL window is partly read (position not yet moved)."""
        return self._window_end is not None

    async def read(self) -> list[Change]:
        """Return the next page of changes; an empty page means caught up for now."""
        if self._db.dialect == "sqlite":
            rows = await self._select("seq > ?", [self._position])
            if rows:
                self._position = rows[-1].seq
            return rows
        if self._window_end is None:
            end = await position(self._db)
            if end <= self._position:
                return []
            self._window_end, self._last_seq = end, 0
        self._opened_at = self._position
        rows = await self._select(
            "xid >= ? AND xid < ? AND seq > ?",
            [self._position, self._window_end, self._last_seq],
        )
        if len(rows) < self._page:
            self._position, self._window_end = self._window_end, None
        else:
            self._last_seq = rows[-1].seq
        return rows

    async def read_all(self) -> list[Change]:
        """Return every change up to now (small tails only: restarts, tests)."""
        out: list[Change] = []
        while True:
            page = await self.read()
            out.extend(page)
            if not page and not self.in_window:
                return out

    async def _select(self, condition: str, params: list[Any]) -> list[Change]:
        sql = f"SELECT {columns(self._db)} FROM changes WHERE {condition}"
        if self._resources:
            sql += f" AND resource IN ({marks(self._resources)})"
            params = [*params, *self._resources]
        sql += " ORDER BY seq LIMIT ?"
        return [decode(row) for row in await self._db.fetch(sql, [*params, self._page])]
