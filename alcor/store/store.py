"""The embedded store: one SQLite file through sqlite-utils, WAL, one writer.

Why short statements run on the event loop thread: a WAL commit with synchronous=NORMAL
does not fsync (only checkpoints do), so an indexed statement costs microseconds, far
less than a hop to a worker thread (~50-100 us). Everything that can take long runs in
a thread instead: migrations, bulk work (`run_in_thread`), and WAL checkpoints, which a
background task performs on its own connection (the writer never auto-checkpoints).

Writes are serialised by one asyncio lock held for a whole transaction, so a
transaction may await bus commands: no other writer can interleave. Reads outside a
transaction use a separate connection and always see the last commit.

Group commit: the transactions that finish in one turn of the event loop share one
COMMIT. Each runs as a savepoint inside an open BEGIN; a callback scheduled with
`call_soon` commits when the lock is free, then runs every member's after-commit
callbacks in order and wakes the members. Concurrent requests touch the same b-tree
pages, so the group writes each page to the WAL once instead of once per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from alcor.config import StoreConfig
from alcor.store import changes

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Migration = Callable[[sqlite_utils.Database], None]

CHECKPOINT_WAL_BYTES = 8 * 1024 * 1024
# Bounds the work one failed COMMIT can undo and the wait of a group's first member.
MAX_GROUP = 64

_CURRENT: ContextVar[Transaction | None] = ContextVar("alcor_transaction", default=None)


class Transaction:
    """The ambient write transaction: collects callbacks to run after the outermost commit."""

    __slots__ = ("after_commit",)

    def __init__(self) -> None:
        self.after_commit: list[Callable[[], None]] = []


class _Group:
    """Finished transactions waiting for their shared COMMIT."""

    __slots__ = ("callbacks", "committed", "size")

    def __init__(self, committed: asyncio.Future[None]) -> None:
        self.callbacks: list[Callable[[], None]] = []
        self.committed = committed
        self.size = 0


def current_transaction() -> Transaction | None:
    """Return the transaction this task is inside, if any."""
    return _CURRENT.get()


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


class Store:
    """One SQLite database: a writer connection, a reader connection, a db thread."""

    name = "store"
    requires: tuple[str, ...] = ()

    def __init__(self, config: StoreConfig, migrations: Sequence[Migration]) -> None:
        self._path = config.path
        self._checkpoint_interval = config.checkpoint_interval_s
        self._wal_limit = int(config.wal_limit_mb * (1 << 20))
        self._retention = config.change_retention_s
        self._migrations = list(migrations)
        self._lock = asyncio.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._writer: sqlite_utils.Database | None = None
        self._reader: sqlite_utils.Database | None = None
        self._thread_local = threading.local()
        self._thread_dbs: list[sqlite_utils.Database] = []
        self._checkpointer: asyncio.Task[None] | None = None
        self._group: _Group | None = None
        self._flush_scheduled = False
        self._pruner: asyncio.Task[None] | None = None
        self._has_changes = False
        self._change_seq = 0
        self._change_waiters: list[asyncio.Future[None]] = []
        self.commits = 0
        self.transactions = 0

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
        self._writer = sqlite_utils.Database(writer)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._migrate)
        # An in-memory database exists once per connection: share the writer.
        memory = self._path == ":memory:"
        self._reader = (
            self._writer if memory else sqlite_utils.Database(_connect(self._path, self._wal_limit))
        )
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
            self._change_seq = changes.last_seq(self._writer)
            self._pruner = asyncio.create_task(self._prune_loop(), name="store-prune-changes")

    async def stop(self) -> None:
        """Wait for the running transaction, checkpoint, and close every connection."""
        if self._pruner is not None:
            self._pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruner
        async with self._lock:
            self._commit_group()
            if self._checkpointer is not None:
                self._checkpointer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._checkpointer
            if self._writer is not None and self._path != ":memory:":
                with contextlib.suppress(sqlite3.Error):
                    self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # Threads first: a connection closed while a thread still uses it can crash
            # the process (a read started by a request, a checkpoint).
            if self._executor is not None:
                self._executor.shutdown(wait=True)
            for db in {id(d): d for d in [self._reader, self._writer, *self._thread_dbs]}.values():
                if db is not None:
                    db.close()
            self._reader = self._writer = None
            self._thread_dbs.clear()

    @property
    def db(self) -> sqlite_utils.Database:
        """Return the writer inside a transaction (sees its own changes), else the reader."""
        if _CURRENT.get() is not None:
            assert self._writer is not None
            return self._writer
        assert self._reader is not None, "store is not started"
        return self._reader

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
            mark = len(current.after_commit)
            try:
                with self._writer.atomic():
                    yield current
            except BaseException:
                del current.after_commit[mark:]
                raise
            return
        txn = Transaction()
        async with self._lock:
            group = self._join_group()
            token = _CURRENT.set(txn)
            try:
                with self._writer.atomic():  # a savepoint inside the group's BEGIN
                    yield txn
                group.callbacks.extend(txn.after_commit)
                group.size += 1
            finally:
                _CURRENT.reset(token)
                self._end_turn(group)
        # Shielded: a member cancelled while waiting must not cancel the others' commit.
        await asyncio.shield(group.committed)

    def _join_group(self) -> _Group:
        if self._group is None:
            self._writer.execute("BEGIN")  # type: ignore[union-attr]
            self._group = _Group(asyncio.get_running_loop().create_future())
        return self._group

    def _end_turn(self, group: _Group) -> None:
        if group.size >= MAX_GROUP:
            self._commit_group()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            # An empty context: the commit callbacks must not see this task's transaction.
            asyncio.get_running_loop().call_soon(self._flush, context=contextvars.Context())

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._lock.locked():  # else the holder schedules the flush when it ends
            self._commit_group()

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
            self._note_changes(changes.last_seq(writer))
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
        return self._change_seq

    def _note_changes(self, seq: int) -> None:
        if seq <= self._change_seq:
            return
        self._change_seq = seq
        waiters, self._change_waiters = self._change_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for_change(self, after: int, timeout: float | None = None) -> bool:
        """Wait until a change with seq > `after` is committed; False on timeout."""
        if self._change_seq > after:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._change_waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            return False
        finally:
            if waiter in self._change_waiters:
                self._change_waiters.remove(waiter)
        return True

    async def _prune_loop(self) -> None:
        """Apply the change record's retention, in small batches (never a long writer hold)."""
        interval = max(1.0, min(60.0, self._retention / 10))
        while True:
            await asyncio.sleep(interval)
            while True:
                async with self.transaction():
                    pruned = changes.prune(self.db, time.time() - self._retention, batch=5_000)
                if pruned < 5_000:
                    break

    async def run_in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(db, *args)` on a db thread: for work that may take long.

        Inside a transaction it runs on the writer (the lock is already ours); outside,
        on a per-thread read connection.
        """
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        if _CURRENT.get() is not None:
            return await loop.run_in_executor(self._executor, fn, self._writer, *args)
        return await loop.run_in_executor(self._executor, self._run_read, fn, args)

    def _run_read(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._path == ":memory:":
            return fn(self._writer, *args)
        db = getattr(self._thread_local, "db", None)
        if db is None:
            db = sqlite_utils.Database(_connect(self._path, self._wal_limit))
            self._thread_local.db = db
            self._thread_dbs.append(db)
        return fn(db, *args)

    def _migrate(self) -> None:
        db = self._writer
        assert db is not None
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, migration in enumerate(self._migrations[version:], start=version + 1):
            with db.atomic():
                migration(db)
                db.execute(f"PRAGMA user_version={number}")
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
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # a busy checkpoint is retried next round
            _LOGGER.debug("checkpoint skipped: %s", exc)
