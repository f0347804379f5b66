"""The change record: one row per committed change of a resource, in commit order.

Every create, update and delete of a resource row writes a change row in the same
transaction (alcor/resources/repo.py does it for every resource table), so a crash can
never separate a change from its record. Everything that leaves the process reads from it:
the `/watch` stream, the gateway outbox, and any process that must learn what others
committed. `seq` grows with commit order (one writer), and AUTOINCREMENT keeps it growing
even after retention has pruned every row.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import sqlite_utils

from alcor.store.revisions import next_revision

ChangeType = Literal["CREATED", "UPDATED", "DELETED"]

DDL = """
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    resource TEXT NOT NULL,
    id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    type TEXT NOT NULL,
    project_id TEXT,
    object TEXT NOT NULL,
    at REAL NOT NULL
)
"""
INDEXES = ("CREATE INDEX IF NOT EXISTS idx_changes_at ON changes (at)",)
# Durable readers of the record (the gateway outbox, ...): retention never prunes what one
# of them has not read yet.
CONSUMERS_DDL = """
CREATE TABLE IF NOT EXISTS change_consumers (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID
"""
_INSERT = (
    "INSERT INTO changes (resource, id, revision, type, project_id, object, at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change of one resource."""

    seq: int
    resource: str
    id: str
    revision: int
    type: ChangeType
    project_id: str | None
    object: dict[str, Any]
    at: float


def _row(
    resource: str, obj: Mapping[str, Any], change_type: ChangeType, id_key: str, now: float
) -> tuple[Any, ...]:
    # A delete carries last + 1, as its tombstone does.
    revision = (
        next_revision(obj) if change_type == "DELETED" else int(obj.get("revision_number") or 0)
    )
    return (
        resource,
        obj[id_key],
        revision,
        change_type,
        obj.get("project_id"),
        orjson.dumps(obj, default=str),
        now,
    )


def record(
    db: sqlite_utils.Database,
    resource: str,
    obj: Mapping[str, Any],
    change_type: ChangeType,
    id_key: str = "id",
) -> int:
    """Record one change inside the caller's transaction; return its seq."""
    cursor = db.execute(_INSERT, _row(resource, obj, change_type, id_key, time.time()))
    return int(cursor.lastrowid or 0)


def record_many(
    db: sqlite_utils.Database,
    resource: str,
    objs: Sequence[Mapping[str, Any]],
    change_type: ChangeType,
    id_key: str = "id",
) -> None:
    """Record many changes of one resource and type (bulk paths)."""
    now = time.time()
    db.conn.executemany(_INSERT, [_row(resource, o, change_type, id_key, now) for o in objs])


def last_seq(db: sqlite_utils.Database) -> int:
    """Return the seq of the newest change (0 when there has been none)."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return int(row[0]) if row else 0


def oldest_seq(db: sqlite_utils.Database) -> int | None:
    """Return the seq of the oldest retained change, or None when none is retained."""
    row = db.execute("SELECT MIN(seq) FROM changes").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def read_since(
    db: sqlite_utils.Database,
    after: int,
    limit: int = 1000,
    resources: Iterable[str] | None = None,
) -> list[Change]:
    """Return up to `limit` changes with seq > `after`, oldest first."""
    sql = "SELECT seq, resource, id, revision, type, project_id, object, at FROM changes"
    params: list[Any] = [after]
    sql += " WHERE seq > ?"
    wanted = sorted(set(resources)) if resources is not None else None
    if wanted:
        sql += f" AND resource IN ({', '.join('?' for _ in wanted)})"
        params.extend(wanted)
    sql += " ORDER BY seq LIMIT ?"
    params.append(limit)
    return [
        Change(row[0], row[1], row[2], row[3], row[4], row[5], orjson.loads(row[6]), row[7])
        for row in db.execute(sql, params)
    ]


def consumer_seq(db: sqlite_utils.Database, name: str) -> int | None:
    """Return the seq a durable consumer has read through, or None if it never registered."""
    row = db.execute("SELECT seq FROM change_consumers WHERE name = ?", [name]).fetchone()
    return int(row[0]) if row else None


def advance_consumer(db: sqlite_utils.Database, name: str, seq: int) -> None:
    """Record (in the caller's transaction) that consumer `name` has read through `seq`."""
    db.execute(
        "INSERT INTO change_consumers (name, seq, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
        [name, seq, time.time()],
    )


def remove_consumer(db: sqlite_utils.Database, name: str) -> None:
    """Forget durable consumer `name` (it no longer holds back retention)."""
    db.execute("DELETE FROM change_consumers WHERE name = ?", [name])


def prune(db: sqlite_utils.Database, older_than: float, batch: int = 10_000) -> int:
    """Delete up to `batch` changes recorded before `older_than` that every durable
    consumer has read; return how many."""
    row = db.execute("SELECT MIN(seq) FROM change_consumers").fetchone()
    below = row[0] + 1 if row and row[0] is not None else None
    sql = "SELECT seq FROM changes WHERE at < ?"
    params: list[Any] = [older_than]
    if below is not None:
        sql += " AND seq < ?"
        params.append(below)
    cursor = db.execute(
        f"DELETE FROM changes WHERE seq IN ({sql} ORDER BY seq LIMIT ?)", [*params, batch]
    )
    return int(cursor.rowcount)
