"""The durable outbox of external calls: rows written in the transaction that causes them.

A row is one call to make outside the process (kind, payload), in the FIFO lane `key`
(rows of one key are sent in id order; different keys run in parallel), about `target`
(the object the call creates, changes or deletes). A row is done only when its result is
committed: `done_at` and `outcome` (sent, found, gone, superseded) are written in the
transaction that settles the call, so a crash before that leaves the row to be retried,
and a crash before the causing transaction commits leaves no row at all.

An attempt is recorded (attempts + 1, next_attempt_at) before its call goes out: a row
with attempts > 0 may have reached the other side, and whoever retries it must find out
first (the other side may not be idempotent).

Plain synchronous SQL on the caller's connection, like alcor/store/changes.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_attempt_at REAL,
    last_error TEXT,
    done_at REAL,
    outcome TEXT
)
"""
# Pending rows are few and hot; settled ones many and cold: the lookups of the worker and
# of the gateways' state go through partial indexes of the pending rows only.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS idx_outbox_lane ON outbox (key, id) WHERE done_at IS NULL",
    "CREATE INDEX IF NOT EXISTS idx_outbox_worst ON outbox (key, attempts) WHERE done_at IS NULL",
    "CREATE INDEX IF NOT EXISTS idx_outbox_kind ON outbox (key, kind) WHERE done_at IS NULL",
    "CREATE INDEX IF NOT EXISTS idx_outbox_target ON outbox (target, id) WHERE done_at IS NULL",
    "CREATE INDEX IF NOT EXISTS idx_outbox_last ON outbox (key, last_attempt_at)",
    "CREATE INDEX IF NOT EXISTS idx_outbox_done ON outbox (done_at)",
)
OUTCOMES = ("sent", "found", "gone", "superseded")
_COLUMNS = (
    "id, kind, key, target, payload, created_at, attempts, next_attempt_at, "
    "last_attempt_at, last_error, done_at, outcome"
)


@dataclass(frozen=True, slots=True)
class Row:
    """One outbox row."""

    id: int
    kind: str
    key: str
    target: str
    payload: dict[str, Any]
    created_at: float
    attempts: int
    next_attempt_at: float
    last_attempt_at: float | None
    last_error: str | None
    done_at: float | None
    outcome: str | None

    @property
    def pending(self) -> bool:
        """Return True while the row's call is not settled."""
        return self.done_at is None


def _decode(row: Sequence[Any]) -> Row:
    values = list(row)
    values[4] = orjson.loads(values[4])
    return Row(*values)


def enqueue(
    db: sqlite_utils.Database,
    kind: str,
    key: str,
    target: str,
    payload: dict[str, Any],
    now: float | None = None,
) -> int:
    """Append a row to lane `key` (inside the caller's transaction); return its id."""
    now = time.time() if now is None else now
    cursor = db.execute(
        "INSERT INTO outbox (kind, key, target, payload, created_at, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [kind, key, target, orjson.dumps(payload).decode(), now, now],
    )
    return int(cursor.lastrowid or 0)


def get(db: sqlite_utils.Database, row_id: int) -> Row | None:
    """Return the row with `row_id`, or None (pruned or never written)."""
    found = db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", [row_id]).fetchone()
    return _decode(found) if found is not None else None


def lane(db: sqlite_utils.Database, key: str, limit: int) -> list[Row]:
    """Return the first `limit` pending rows of lane `key`, in FIFO order."""
    return [
        _decode(r)
        for r in db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE key = ? AND done_at IS NULL ORDER BY id LIMIT ?",
            [key, limit],
        )
    ]


def pending_keys(db: sqlite_utils.Database) -> list[str]:
    """Return every lane that has pending rows."""
    return [r[0] for r in db.execute("SELECT DISTINCT key FROM outbox WHERE done_at IS NULL")]


def pending_for_target(db: sqlite_utils.Database, target: str, from_id: int = 0) -> list[Row]:
    """Return the pending rows about `target` with id >= `from_id`, in FIFO order."""
    return [
        _decode(r)
        for r in db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE target = ? AND done_at IS NULL AND id >= ? "
            "ORDER BY id",
            [target, from_id],
        )
    ]


def start_attempt(
    db: sqlite_utils.Database, ids: Sequence[int], now: float, next_attempt_at: float
) -> None:
    """Record that the calls of `ids` are about to go out."""
    for chunk in _chunks(ids):
        db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ? "
            f"WHERE id IN ({_marks(chunk)}) AND done_at IS NULL",
            [now, next_attempt_at, *chunk],
        )


def finish(db: sqlite_utils.Database, ids: Iterable[int], outcome: str, now: float) -> None:
    """Mark pending rows done with `outcome` (settled rows keep their first outcome)."""
    assert outcome in OUTCOMES, outcome
    for chunk in _chunks(list(ids)):
        db.execute(
            "UPDATE outbox SET done_at = ?, outcome = ?, last_error = NULL "
            f"WHERE id IN ({_marks(chunk)}) AND done_at IS NULL",
            [now, outcome, *chunk],
        )


def fail(db: sqlite_utils.Database, ids: Iterable[int], error: str, next_attempt_at: float) -> None:
    """Record a failed attempt of pending rows: keep the error, retry at `next_attempt_at`."""
    for chunk in _chunks(list(ids)):
        db.execute(
            "UPDATE outbox SET last_error = ?, next_attempt_at = ? "
            f"WHERE id IN ({_marks(chunk)}) AND done_at IS NULL",
            [error[:1000], next_attempt_at, *chunk],
        )


def lane_summary(db: sqlite_utils.Database, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return, per key, its pending row count, their highest attempts and the latest attempt."""
    out: dict[str, dict[str, Any]] = {}
    for key in dict.fromkeys(keys):
        pending = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE key = ? AND done_at IS NULL", [key]
        ).fetchone()[0]
        attempts, _ = worst_pending(db, key)
        last = db.execute(
            "SELECT MAX(last_attempt_at) FROM outbox WHERE key = ?", [key]
        ).fetchone()[0]
        out[key] = {"pending_operations": pending, "attempts": attempts, "last_attempt_at": last}
    return out


def worst_pending(db: sqlite_utils.Database, key: str) -> tuple[int, str | None]:
    """Return the highest attempts of lane `key`'s pending rows, and the error of the
    most-tried one that failed (0, None when nothing is pending)."""
    attempts = db.execute(
        "SELECT MAX(attempts) FROM outbox WHERE key = ? AND done_at IS NULL", [key]
    ).fetchone()[0]
    error = db.execute(
        "SELECT last_error FROM outbox WHERE key = ? AND done_at IS NULL "
        "AND last_error IS NOT NULL ORDER BY attempts DESC LIMIT 1",
        [key],
    ).fetchone()
    return int(attempts or 0), error[0] if error else None


def pending_of_kind(db: sqlite_utils.Database, key: str, kind: str) -> list[Row]:
    """Return lane `key`'s pending rows of `kind`, in FIFO order."""
    return [
        _decode(r)
        for r in db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE key = ? AND kind = ? AND done_at IS NULL "
            "ORDER BY id",
            [key, kind],
        )
    ]


def pending_by_kind(db: sqlite_utils.Database) -> dict[str, int]:
    """Return {kind: pending rows}."""
    return dict(db.execute("SELECT kind, COUNT(*) FROM outbox WHERE done_at IS NULL GROUP BY kind"))


def oldest_pending_created(db: sqlite_utils.Database) -> float | None:
    """Return when the oldest pending row was written, or None when none is pending."""
    row = db.execute("SELECT MIN(created_at) FROM outbox WHERE done_at IS NULL").fetchone()
    return row[0] if row and row[0] is not None else None


def rows(db: sqlite_utils.Database, pending_only: bool = False, limit: int = 1000) -> list[Row]:
    """Return rows for operators: the newest first, or the pending ones in FIFO order."""
    if pending_only:
        sql = f"SELECT {_COLUMNS} FROM outbox WHERE done_at IS NULL ORDER BY id LIMIT ?"
    else:
        sql = f"SELECT {_COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?"
    return [_decode(r) for r in db.execute(sql, [limit])]


def prune_done(db: sqlite_utils.Database, older_than: float, batch: int = 5000) -> int:
    """Delete up to `batch` rows settled before `older_than`; return how many."""
    cursor = db.execute(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE done_at < ? LIMIT ?)",
        [older_than, batch],
    )
    return int(cursor.rowcount)


def _chunks(ids: Sequence[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)
