"""The embedded store: one SQLite file, WAL, one writer (the Store interface of db.py).

Why short statements run on the event loop thread: a WAL commit with synchronous=NORMAL
does not fsync (only checkpoints do), so an indexed statement costs microseconds, far
less than a hop to a worker thread (~50-100 us). The interface is async, but its
coroutines run the statement inline and never suspend. Everything that can take long runs
in a thread instead: migrations, long reads (`fetch(..., long=True)`), and WAL
checkpoints, which a background task performs on its own connection (the writer never
auto-checkpoints).

Writes are serialised by one asyncio lock held for a whole transaction, so a
transaction may await bus commands: no other writer can interleave. Reads outside a
transaction use a separate connection and always see the last commit.

Group commit: the transactions that finish close together share one COMMIT. Each runs
as a savepoint inside an open BEGIN; a callback scheduled with `call_soon` commits when
the lock is free, then runs every member's after-commit callbacks in order and wakes the
members. Concurrent requests touch the same b-tree pages, so the group writes each page
to the WAL once instead of once per request. While concurrent writers are expected
(`writers_to_come`, the API's recent peak of write requests in flight beyond the group's
members), the callback waits more turns for them to join, at most MAX_WAIT_TURNS and
MAX_WAIT_S: with 16 clients groups grew from 3-4 to 8-10 transactions. A lone client's
transaction commits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alcor.config import StoreConfig
from alcor.lifecycle import cancel
from alcor.store import changes
from alcor.store.db import _CURRENT, Dialect, Positions, Row, Transaction, run_before_commit
from alcor.store.ddl import Ddl

_LOGGER = logging.getLogger(__name__)
Migration = Callable[[Ddl], None]

CHECKPOINT_WAL_BYTES = 8 * 1024 * 1024
# Bounds the work one failed COMMIT can undo and the wait of a group's first member.
MAX_GROUP = 64
# How long a group's COMMIT may wait for expected writers to join it (module docstring): a
# turn of the loop takes microseconds when idle, about one request's work when busy.
MAX_WAIT_TURNS = 32
MAX_WAIT_S = 0.005


class _Group:
    """Finished transactions waiting for their shared COMMIT."""

    __slots__ = ("callbacks", "committed", "opened", "size", "turns")

    def __init__(self, committed: asyncio.Future[None]) -> None:
        self.callbacks: list[Callable[[], None]] = []
        self.committed = committed
        self.size = 0
        self.turns = 0  # turns the COMMIT waited for more members
        self.opened = committed.get_loop().time()


def _connect(path: str, wal_limit_bytes: int = 64 << 20) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # A checkpointed log restarts from its beginning; beyond this size it is truncated.
    conn.execute(f"PRAGMA journal_size_limit={int(wal_limit_bytes)}")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def _last_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
    return int(row[0]) if row else 0


class SqliteStore:
    """One SQLite database: a writer connection, a reader connection, a db thread."""

    name = "store"
    requires: tuple[str, ...] = ()
    dialect: Dialect = "sqlite"

    def __init__(self, config: StoreConfig, migrations: Sequence[Migration]) -> None:
        self._path = config.path
        self._checkpoint_interval = config.checkpoint_interval_s
        self._wal_limit = int(config.wal_limit_mb * (1 << 20))
        self._retention = config.change_retention_s
        self._migrations = list(migrations)
        self._lock = asyncio.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._thread_local = threading.local()
        self._thread_dbs: list[sqlite3.Connection] = []
        self._checkpointing = threading.Lock()
        self._checkpointer: asyncio.Task[None] | None = None
        self._group: _Group | None = None
        self._flush_scheduled = False
        self._pruner: asyncio.Task[None] | None = None
        self._has_changes = False
        self._positions = Positions()
        self.commits = 0
        self.transactions = 0
        self.writers_to_come: Callable[[int], int] | None = None

    @property
    def path(self) -> str:
        """Return the database file path."""
        return self._path

    async def start(self) -> None:
        """Open the database, apply pending migrations and start checkpointing."""
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alcor-db")
        writer = _connect(self._path, self._wal_limit)
        # Checkpoints happen in the background task, never inside a request's commit.
        writer.execute("PRAGMA wal_autocheckpoint=0")
        self._writer = writer
        await asyncio.get_running_loop().run_in_executor(self._executor, self._migrate)
        # An in-memory database exists once per connection: share the writer.
        memory = self._path == ":memory:"
        self._reader = self._writer if memory else _connect(self._path, self._wal_limit)
        if self._path != ":memory:":
            self._checkpointer = asyncio.create_task(
                self._checkpoint_loop(), name="store-checkpoint"
            )
        self._has_changes = bool(
            self._writer.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'"
            ).fetchone()
        )
        if self._has_changes:
            self._positions.note(_last_seq(self._writer))
            self._pruner = asyncio.create_task(
                changes.prune_forever(self, self._retention), name="store-prune-changes"
            )

    async def stop(self) -> None:
        """Wait for the running transaction, checkpoint, and close every connection."""
        await cancel(self._pruner)
        async with self._lock:
            self._commit_group()
            await cancel(self._checkpointer)
            if self._writer is not None and self._path != ":memory:":
                with contextlib.suppress(sqlite3.Error):
                    self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # Threads may still be reading (a list whose request went away): let them end
            # before their connections close under them.
            if self._executor is not None:
                self._executor.shutdown(wait=True)
            for db in {id(d): d for d in [self._reader, self._writer, *self._thread_dbs]}.values():
                if db is not None:
                    db.close()
            self._reader = self._writer = None
            self._thread_dbs.clear()

    def _conn(self) -> sqlite3.Connection:
        """Return the writer inside a transaction (sees its own changes), else the reader."""
        conn = self._writer if _CURRENT.get() is not None else self._reader
        assert conn is not None, "store is not started"
        return conn

    # ---- the Store interface: statements run inline (module docstring) ----------------
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        return self._conn().execute(sql, params).rowcount

    async def fetch(self, sql: str, params: Sequence[Any] = (), *, long: bool = False) -> list[Row]:
        """Return every row; a `long` read runs on a db thread."""
        if long:
            return await self._in_thread(sql, params)
        return self._conn().execute(sql, params).fetchall()

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Return the first row, or None."""
        row: Row | None = self._conn().execute(sql, params).fetchone()
        return row

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Return the first column of the first row, or None."""
        row = self._conn().execute(sql, params).fetchone()
        return None if row is None else row[0]

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement per row of parameters."""
        self._conn().executemany(sql, rows)

    async def lock(self, key: str, shared: bool = False) -> None:
        """Nothing to do: the one writer already excludes every other transaction."""

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Open a write transaction; a nested call joins the outer one as a savepoint.

        On exception the (inner) work is rolled back and its after-commit callbacks are
        dropped. The outermost call returns once its group has committed (module
        docstring); the callbacks run in order after that commit.
        """
        current = _CURRENT.get()
        assert self._writer is not None, "store is not started"
        if current is not None:
            mark, writes = len(current.after_commit), len(current.before_commit)
            try:
                with self._savepoint():
                    yield current
            except BaseException:
                del current.after_commit[mark:]
                del current.before_commit[writes:]
                raise
            return
        txn = Transaction()
        async with self._lock:
            group = self._join_group()
            token = _CURRENT.set(txn)
            try:
                with self._savepoint():  # a savepoint inside the group's BEGIN
                    yield txn
                    await run_before_commit(txn)
                group.callbacks.extend(txn.after_commit)
                group.size += 1
            finally:
                _CURRENT.reset(token)
                self._end_turn(group)
        # Shielded: a member cancelled while waiting must not cancel the others' commit.
        await asyncio.shield(group.committed)

    @contextlib.contextmanager
    def _savepoint(self) -> Any:
        writer = self._writer
        assert writer is not None
        writer.execute("SAVEPOINT alcor")
        try:
            yield
        except BaseException:
            writer.execute("ROLLBACK TO alcor")
            writer.execute("RELEASE alcor")
            raise
        writer.execute("RELEASE alcor")

    def _join_group(self) -> _Group:
        if self._group is None:
            self._writer.execute("BEGIN")  # type: ignore[union-attr]
            self._group = _Group(asyncio.get_running_loop().create_future())
        return self._group

    def _end_turn(self, group: _Group) -> None:
        if group.size >= MAX_GROUP:
            self._commit_group()
        elif not self._flush_scheduled:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        self._flush_scheduled = True
        # An empty context: the commit callbacks must not see this task's transaction.
        asyncio.get_running_loop().call_soon(self._flush, context=contextvars.Context())

    def _flush(self) -> None:
        self._flush_scheduled = False
        group = self._group
        if group is not None and self._more_may_join(group):
            group.turns += 1
            self._schedule_flush()
        elif not self._lock.locked():  # else the holder schedules the flush when it ends
            self._commit_group()

    def _more_may_join(self, group: _Group) -> bool:
        """True while concurrent writers are expected to join (bounded in turns and time)."""
        to_come = self.writers_to_come
        return (
            to_come is not None
            and group.turns < MAX_WAIT_TURNS
            and group.size < MAX_GROUP
            and to_come(group.size) > 0
            and asyncio.get_running_loop().time() - group.opened < MAX_WAIT_S
        )

    def _commit_group(self) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        writer = self._writer
        assert writer is not None
        try:
            writer.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                writer.execute("ROLLBACK")
            group.committed.set_exception(exc)
            return
        self.commits += 1
        self.transactions += group.size
        if self._has_changes:
            self._positions.note(_last_seq(writer))
        for callback in group.callbacks:
            try:
                callback()
            except Exception:  # one failing callback must not starve the rest of the group
                _LOGGER.exception("after-commit callback %r failed", callback)
        group.committed.set_result(None)

    # ---- the change record's commit notifications --------------------------------------
    @property
    def change_seq(self) -> int:
        """Return the seq of the newest committed change."""
        return self._positions.position

    async def wait_for_change(self, after: int, timeout: float | None = None) -> bool:
        """Wait until a change with seq > `after` is committed; False on timeout."""
        return await self._positions.wait(after, timeout)

    async def _in_thread(self, sql: str, params: Sequence[Any]) -> list[Row]:
        """Run a read on a db thread: the writer inside a transaction (the lock is ours),
        else a per-thread read connection."""
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        if _CURRENT.get() is not None or self._path == ":memory:":
            writer = self._writer
            assert writer is not None
            return await loop.run_in_executor(
                self._executor, lambda: writer.execute(sql, params).fetchall()
            )
        return await loop.run_in_executor(self._executor, self._read_in_thread, sql, params)

    def _read_in_thread(self, sql: str, params: Sequence[Any]) -> list[Row]:
        conn: sqlite3.Connection | None = getattr(self._thread_local, "conn", None)
        if conn is None:
            conn = _connect(self._path, self._wal_limit)
            self._thread_local.conn = conn
            self._thread_dbs.append(conn)
        return conn.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        conn = self._writer
        assert conn is not None
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, migration in enumerate(self._migrations[version:], start=version + 1):
            ddl = Ddl("sqlite")
            migration(ddl)
            conn.execute("BEGIN")
            try:
                for statement in ddl.statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            _LOGGER.info("store %s migrated to schema version %d", self._path, number)

    async def _checkpoint_loop(self) -> None:
        loop = asyncio.get_running_loop()
        conn = await loop.run_in_executor(self._executor, _connect, self._path, self._wal_limit)
        wal = Path(self._path + "-wal")
        try:
            while True:
                await asyncio.sleep(self._checkpoint_interval)
                # Checkpointing competes with the writer for the disk: only when worth it.
                try:
                    size = wal.stat().st_size  # noqa: ASYNC240 - one stat() per interval
                except OSError:
                    continue
                if size >= CHECKPOINT_WAL_BYTES:
                    job = loop.run_in_executor(self._executor, self._checkpoint, conn)
                    try:
                        await asyncio.shield(job)
                    except asyncio.CancelledError:
                        await asyncio.wait([job])  # the thread still uses conn: let it end
                        raise
        finally:
            # A cancelled wait leaves the checkpoint running in its thread: close after it.
            with self._checkpointing:
                conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        with self._checkpointing:
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:  # a busy checkpoint is retried next round
                _LOGGER.debug("checkpoint skipped: %s", exc)
